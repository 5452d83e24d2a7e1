"""tower: "build a tower with the {bottom} at the bottom, then the {middle}, then the {top}".

Scene: three 4 cm cubes of different colors and 1-2 distractor blocks.
Goal: `stacked(?bottom, ?middle, ?top)`: the middle cube rests on the bottom cube and
the top cube on the middle one (centers within 2 cm horizontally, bottom at the lower
cube's top ±1.2 cm, tilt < 15°), and the bottom cube stands upright on the table itself
(bottom below 1 cm).
Oracle (closed loop): if the middle cube is not on the bottom one (centered within
8 mm), move it there; otherwise move the top cube onto the middle one. Each placed cube
is turned to the yaw of the cube below it and grasped so that the hand stays clear of
the tower. A knocked-over bottom cube is not recovered (the oracle gives up).
"""

from __future__ import annotations

import math

from sim.geometry import quarter, wrap_angle
from sim.objects import SimObject
from sim.tasks.base import Action, Task

CENTER_TOL = 0.008  # the oracle re-centers a middle cube placed further off than this


class Tower(Task):
    family = "tower"
    template = "build a tower with the {bottom} at the bottom, then the {middle}, then the {top}"
    goal_template = "stacked(?bottom, ?middle, ?top)"
    slots = ("bottom", "middle", "top")
    max_actions = 5

    def build(self, rng):
        colors = self.colors(rng, 5)
        self.bottom, self.middle, self.top = (self.spawn("cube", c, rng) for c in colors[:3])
        for c in colors[3 : 3 + int(rng.integers(1, 3))]:
            self.spawn(str(rng.choice(["cube", "small cube", "cylinder"])), c, rng)
        return {
            "bottom": self.bottom.description,
            "middle": self.middle.description,
            "top": self.top.description,
        }

    def stack_on(self, obj: SimObject, base: SimObject) -> Action:
        """Move `obj` onto `base`'s center, turned to match `base`'s yaw (cubes: modulo 90°).

        The hand is long along the fingers' closing axis (yaw - 90°): the grasp takes the
        pair of faces that keeps that axis across the direction of the tower, so that the
        hand coming down on `obj` does not sweep a tower standing next to it.
        """
        d = self.xy(base) - self.xy(obj)
        toward = math.atan2(d[1], d[0])
        faces = [wrap_angle(self.yaw(obj) + k * math.pi / 2) for k in range(4)]
        grasp = min(
            (g for g in faces if abs(g) <= math.pi / 2), key=lambda g: abs(math.sin(g - toward))
        )
        place = quarter(grasp + self.yaw(base) - self.yaw(obj))
        pick = (*self.pick_pose(obj)[:3], grasp)
        return Action(
            "pick_place",
            pick,
            self.place_pose(obj, self.xy(base), self.z(base) + base.shape.surface, place),
        )

    def oracle(self) -> Action | None:
        if not self.on_table(self.bottom):
            return None
        # Tighter than success: a middle cube left off-center makes the tower topple when
        # the top cube lands off-center the same way (the arm's error repeats near the edge).
        if not self.resting_on(self.middle, self.bottom, tol=CENTER_TOL):
            return self.stack_on(self.middle, self.bottom)
        return self.stack_on(self.top, self.middle)
