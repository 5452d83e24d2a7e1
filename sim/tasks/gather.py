"""gather: "put all the {color} objects on the {target}".

Scene: a target (tray or plate, or a pad for two objects) of another color; 2-3 objects of
the named color with different shapes (cube, small cube, cylinder), so their descriptions
are unique; 1-3 distractor blocks of other colors.
Goal: `all(x in ?color objects: on(x, ?target)) and all(x in objects except ?color ones:
not on(x, ?target))`: every object of the color has its center over the target (inside
a tray's or plate's inner area less 1 cm, inside a pad's footprint) resting on its
surface (±1.5 cm), and no object of another color is on the target.
Oracle: first move any object of another color off the target; then move each object of
the color not yet on it to the free slot on the target, turned square to the target. The
slots lie on a line through the target's center along the target's axis nearest the world
x axis (away from the robot), and the gripper turns with the target, so the fingers open
across the line: they never hit a neighbor on the line, nor a tray's wall.
"""

from __future__ import annotations

import math

import numpy as np

from sim.geometry import xy_dist
from sim.objects import BLOCKS
from sim.tasks.base import Action, Task

# Slot offsets along the target's axis from its center, by target kind, meters.
SLOTS = {"tray": (-0.05, 0.0, 0.05), "plate": (-0.05, 0.0, 0.05), "pad": (-0.028, 0.028)}
# Clearance between a block and its neighbors at spawn, meters: the open fingers reach about
# 5 cm from a grasped block's center and would land on a neighbor nearer than that.
MARGIN = 0.035


class Gather(Task):
    family = "gather"
    template = "put all the {color} objects on the {target}"
    goal_template = (
        "all(x in ?color objects: on(x, ?target))"
        " and all(x in objects except ?color ones: not on(x, ?target))"
    )
    slots = ("color", "target")
    max_actions = 5

    def build(self, rng):
        colors = self.colors(rng, 5)
        self.color = colors[0]
        kind = str(rng.choice(list(SLOTS)))
        self.target = self.spawn(kind, colors[1], rng)
        n = int(rng.integers(2, len(SLOTS[kind]) + 1))
        self.group = [
            self.spawn(str(s), self.color, rng, margin=MARGIN)
            for s in rng.choice(BLOCKS, size=n, replace=False)
        ]
        for c in colors[2 : 2 + int(rng.integers(1, 4))]:
            self.spawn(str(rng.choice(BLOCKS)), c, rng, margin=MARGIN)
        return {"color": self.color, "target": self.target.description}

    def _blocks(self):
        return [o for o in self.world.objects if o.shape.graspable]

    def oracle(self) -> Action | None:
        surface = self.z(self.target) + self.target.shape.surface
        for o in self._blocks():  # a stray object of another color comes off first
            if o.color != self.color and self.on_target(o, self.target):
                return self.move(o, self.free_spot(o.shape.name))
        axis = self.axis_yaw(self.target)
        line = np.array([math.cos(axis), math.sin(axis)])
        spots = [self.xy(self.target) + d * line for d in SLOTS[self.target.shape.name]]
        placed = [self.xy(o) for o in self._blocks() if self.on_target(o, self.target)]
        for o in self.group:
            if not self.on_target(o, self.target):
                # the free slot: the one farthest from every object already on the target
                spot = max(spots, key=lambda p: min((xy_dist(p, q) for q in placed), default=1.0))
                # grasp on the faces nearest the line's yaw, let go with the gripper on it
                pick = (*self.pick_pose(o)[:3], self.grasp_yaw_near(o, axis))
                return Action("pick_place", pick, self.place_pose(o, spot, surface, axis))
        return None
