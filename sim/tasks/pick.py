"""pick: "pick up the {obj}".

Scene: the object to pick among 2-3 distractors (cubes, small cubes, cylinders).
Goal: `held(?obj)`: the gripper holds the object, its bottom at least 5 cm above the table.
Oracle: a top-down "pick" at the object's center, fingers on two faces.
"""

from __future__ import annotations

from sim.objects import BLOCKS
from sim.tasks.base import Action, Task


class Pick(Task):
    family = "pick"
    template = "pick up the {obj}"
    goal_template = "held(?obj)"
    slots = ("obj",)
    max_actions = 3

    def build(self, rng):
        n = int(rng.integers(3, 5))
        colors = self.colors(rng, n)
        shapes = [str(s) for s in rng.choice(BLOCKS, size=n)]
        objs = [self.spawn(s, c, rng) for s, c in zip(shapes, colors, strict=True)]
        self.obj = objs[0]
        return {"obj": self.obj.description}

    def oracle(self) -> Action | None:
        if self.world.panda.held is not None and self.world.panda.held != self.obj.body:
            return Action("place", self.pick_pose(self.obj), self.pick_pose(self.obj))
        return Action("pick", self.pick_pose(self.obj))
