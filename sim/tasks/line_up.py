"""line-up: "line up the {first}, the {second} and the {third} from left to right".

Left to right is as seen by the front camera: increasing world y (see `sim.camera`).

Scene: three blocks (cubes, small cubes, cylinders) of different colors and 1-2
distractor blocks.
Goal: `in_row(?first, ?second, ?third)`: the three blocks stand upright on the table
(bottom below 1 cm, tilt < 15°), first.y < second.y < third.y with center gaps of at
least 4 cm, and their centers' x all within 2 cm of their mean.
Oracle (closed loop): choose a row once: slots 7 cm apart along y, anchored on one of
the three blocks where it stands when the other two slots are free, otherwise on a free
stretch of table. Then move the blocks, in order, to the slots they are not yet in,
with the fingers closing across the row (along x) so that they never push a neighbor.
"""

from __future__ import annotations

import math

import numpy as np

from sim.geometry import xy_dist
from sim.objects import BLOCKS, SimObject
from sim.tasks.base import GRASP_RANGE, WORKSPACE, Action, Task

GAP = 0.04  # least center gap along y for success
ROW_TOL = 0.02  # centers' x within this of their mean
SPACING = 0.07  # the oracle's slot spacing: room for the fingers beside a placed block
ROW_X = (0.42, 0.64)  # where a fresh row goes: the arm places most precisely there
ROOM = 0.035  # clearance between a slot's block and other objects (the fingers open to 8 cm)
IN_SLOT = 0.012


class LineUp(Task):
    family = "line-up"
    template = "line up the {first}, the {second} and the {third} from left to right"
    goal_template = "in_row(?first, ?second, ?third)"
    slots = ("first", "second", "third")
    max_actions = 5

    def build(self, rng):
        colors = self.colors(rng, 5)
        self.blocks = [self.spawn(str(rng.choice(BLOCKS)), c, rng) for c in colors[:3]]
        for c in colors[3 : 3 + int(rng.integers(1, 3))]:
            self.spawn(str(rng.choice(BLOCKS)), c, rng)
        if self.lined_up([self.xy(b) for b in self.blocks]):  # already in order by chance
            self.blocks.reverse()
        self.row: list[np.ndarray] | None = None  # the oracle's slots, first to third
        return dict(zip(self.slots, (b.description for b in self.blocks), strict=True))

    @staticmethod
    def lined_up(xys) -> bool:
        xs, ys = [p[0] for p in xys], [p[1] for p in xys]
        in_order = ys[1] - ys[0] >= GAP and ys[2] - ys[1] >= GAP
        return bool(in_order and max(abs(x - float(np.mean(xs))) for x in xs) <= ROW_TOL)

    # -- oracle --------------------------------------------------------------------------
    def room(self, slots: list[np.ndarray], keep: SimObject | None) -> bool:
        """Each slot is on the table and clear of every object but its own block (and `keep`)."""
        (x0, x1), (y0, y1) = WORKSPACE
        for slot, block in zip(slots, self.blocks, strict=True):
            r = block.shape.radius
            if not (x0 + r <= slot[0] <= x1 - r and y0 + r <= slot[1] <= y1 - r):
                return False
            for o in self.world.objects:
                if o in (block, keep) or not o.shape.collides:
                    continue
                if xy_dist(slot, self.xy(o)) < r + o.shape.radius + ROOM:
                    return False
        return True

    def plan_row(self) -> list[np.ndarray]:
        for i, anchor in enumerate(self.blocks):
            if not self.on_table(anchor):
                continue
            base = self.xy(anchor)
            slots = [base + (0.0, (k - i) * SPACING) for k in range(3)]
            if self.room(slots, anchor):
                return slots
        (y0, y1) = WORKSPACE[1]
        for _ in range(400):
            start = np.array([self.rng.uniform(*ROW_X), self.rng.uniform(y0, y1 - 2 * SPACING)])
            slots = [start + (0.0, k * SPACING) for k in range(3)]
            if self.room(slots, None):
                return slots
        return [np.array([0.53, (k - 1) * SPACING]) for k in range(3)]  # no room anywhere

    def oracle(self) -> Action | None:
        if self.row is None:
            self.row = self.plan_row()
        for block, slot in zip(self.blocks, self.row, strict=True):
            if not (self.on_table(block) and xy_dist(self.xy(block), slot) < IN_SLOT):
                return self.move_across(block, slot)
        return None

    def move_across(self, obj: SimObject, xy) -> Action:
        """Move `obj` to `xy` with the fingers closing along world x, across the row.

        Fingers close along yaw - 90°, so the place yaw is 90°: opening them there pushes
        nothing along the row. The pick takes the grasp whose open fingers have the most
        room (see `Task.roomy_face`); a cube ends squared to the axes.
        """
        pick = (*self.pick_pose(obj)[:3], self.roomy_face(obj, GRASP_RANGE))
        return Action("pick_place", pick, self.place_pose(obj, xy, 0.0, math.pi / 2))
