"""rotate: "rotate the {obj} by {angle} degrees".

Scene: a 4 cm cube and 1-3 distractor blocks. `angle` is a counter-clockwise turn seen
from above (positive yaw about world z), one of 30, 45, 60, 120, 135, 150: never a
multiple of the cube's 90-degree symmetry, so the initial scene is not already a success.
Goal: `rotated_by(?obj, ?angle) and where_was(?obj, ?obj)`: the cube's yaw is within 12
degrees of (initial yaw + angle) modulo 90 degrees, its center is within 2 cm of where
it started, and it stands upright on the table.
Oracle: pick the cube and put it back on its starting spot turned by the remaining angle
(the whole angle while the cube is still near its initial yaw, else the smallest
correction modulo the symmetry); the grasp is chosen to keep the wrist in range.
"""

from __future__ import annotations

import math

from sim.geometry import wrap_angle, yaw_distance
from sim.objects import BLOCKS
from sim.tasks.base import YAW_TOL, Action, Task

ANGLES = (30, 45, 60, 120, 135, 150)


class Rotate(Task):
    family = "rotate"
    template = "rotate the {obj} by {angle} degrees"
    goal_template = "rotated_by(?obj, ?angle) and where_was(?obj, ?obj)"
    slots = ("obj", "angle")
    max_actions = 3

    def build(self, rng):
        colors = self.colors(rng, 4)
        # Keep the cube off the workspace's edges: the turned grasp must stay reachable.
        self.obj = self.spawn("cube", colors[0], rng, region=((0.38, 0.66), (-0.22, 0.22)))
        for c in colors[1 : 1 + int(rng.integers(1, 4))]:
            self.spawn(str(rng.choice(BLOCKS)), c, rng)
        angle = int(rng.choice(ANGLES))
        self.start_xy = self.xy(self.obj).copy()
        self.start_yaw = self.yaw(self.obj)
        self.goal_yaw = wrap_angle(self.start_yaw + math.radians(angle))
        return {"obj": self.obj.description, "angle": str(angle)}

    def oracle(self) -> Action | None:
        sym = self.obj.shape.symmetry
        yaw = self.yaw(self.obj)
        turn = wrap_angle(self.goal_yaw - yaw)
        if yaw_distance(yaw, self.start_yaw, sym) > YAW_TOL:  # already turned: correct the rest
            turn = wrap_angle((turn + sym / 2) % sym - sym / 2)
        return self.move(self.obj, self.start_xy, 0.0, turn=turn)
