"""clear: "clear the {target}".

Scene: a target (tray, plate or pad) with 1-3 blocks resting on it (at most 2 on a pad),
side by side on a line along the target's axis nearest the world x axis, squared to the
target (±11 degrees), and 0-2 other blocks elsewhere on the table.
Goal: `all(x in objects: on_table(x) and not on(x, ?target))`: every block stands
upright (tilt < 15 degrees) on the table itself (bottom below 1 cm), its center over no
tray, plate, pad or bowl (their whole footprint: a tray's or pad's square, a plate's
disc), so none is on the target.
Oracle: move each block over the target (then any block not upright on the table) to a
free table spot clear of every object, grasping it with the fingers across the line (on a
tray, fingers along the line would land on the wall or on a neighbor).
"""

from __future__ import annotations

import math

import numpy as np

from sim.objects import BLOCKS, TARGETS
from sim.tasks.base import WORKSPACE, Action, Task

# Offsets along the target's axis of the blocks placed on it at the start, by target kind.
SLOTS = {"tray": (-0.05, 0.0, 0.05), "plate": (-0.05, 0.0, 0.05), "pad": (-0.028, 0.028)}
# Clearance between blocks and their neighbors, meters: the open fingers reach about 5 cm
# from a grasped block's center and would land on a neighbor nearer than that.
MARGIN = 0.035


class Clear(Task):
    family = "clear"
    template = "clear the {target}"
    goal_template = "all(x in objects: on_table(x) and not on(x, ?target))"
    slots = ("target",)
    max_actions = 5

    def build(self, rng):
        colors = self.colors(rng, 6)
        kind = str(rng.choice(TARGETS))
        self.target = self.spawn(kind, colors[0], rng)
        axis = self.axis_yaw(self.target)
        line = np.array([math.cos(axis), math.sin(axis)])
        across = np.array([-line[1], line[0]])
        slots = SLOTS[kind]
        picked = sorted(
            rng.choice(len(slots), size=int(rng.integers(1, len(slots) + 1)), replace=False)
        )
        for k, c in zip(picked, colors[1:4], strict=False):
            shape = str(rng.choice(BLOCKS))
            xy = self.xy(self.target) + slots[k] * line + rng.uniform(-0.005, 0.005) * across
            yaw = axis + rng.uniform(-0.2, 0.2)
            self.world.add(shape, c, xy, yaw, z=self.target.shape.surface)
        for c in colors[4 : 4 + int(rng.integers(0, 3))]:
            self.spawn(str(rng.choice(BLOCKS)), c, rng, margin=MARGIN)
        return {"target": self.target.description}

    def _blocks(self):
        return [o for o in self.world.objects if o.shape.graspable]

    def over_target(self, obj) -> bool:
        """`obj`'s center lies over the target's footprint."""
        d = self.xy(obj) - self.xy(self.target)
        c, s = math.cos(-self.yaw(self.target)), math.sin(-self.yaw(self.target))
        local = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
        half = self.target.shape.footprint
        if self.target.shape.name == "plate":
            return float(np.hypot(*local)) < half[0]
        return bool(np.all(np.abs(local) < np.array(half)))

    def on_table(self, obj) -> bool:
        """`obj` stands upright on the table with its center inside the workspace."""
        (x0, x1), (y0, y1) = WORKSPACE
        x, y = self.xy(obj)
        return super().on_table(obj) and x0 <= x <= x1 and y0 <= y <= y1

    def oracle(self) -> Action | None:
        blocks = self._blocks()
        over = [o for o in blocks if self.over_target(o)]
        todo = over + [o for o in blocks if not self.on_table(o)]
        if not todo:
            return None
        obj = todo[0]
        pick = (*self.pick_pose(obj)[:3], self.grasp_yaw_near(obj, self.axis_yaw(self.target)))
        spot = self.free_spot(obj.shape.name, margin=MARGIN)
        return Action("pick_place", pick, self.place_pose(obj, spot, 0.0, pick[3]))
