"""put-in-bowl: "put the {obj} in the {bowl}".

Scene: one or two bowls of different colors, the object and 1-2 distractor blocks.
Goal: `in(?obj, ?bowl)`: the object's center is within the bowl's inner radius (less
1 cm) and its bottom below the bowl's rim (tipped over, leaning, or on another object
in the bowl counts). Oracle: pick the object, lower it into the bowl's center.
"""

from __future__ import annotations

from sim.objects import BLOCKS
from sim.tasks.base import Action, Task


class PutInBowl(Task):
    family = "put-in-bowl"
    template = "put the {obj} in the {bowl}"
    goal_template = "in(?obj, ?bowl)"
    slots = ("obj", "bowl")
    max_actions = 3

    def build(self, rng):
        colors = self.colors(rng, 5)
        self.bowl = self.spawn("bowl", colors[0], rng)
        if rng.random() < 0.5:
            self.spawn("bowl", colors[1], rng)
        self.obj = self.spawn(str(rng.choice(BLOCKS)), colors[2], rng)
        for c in colors[3 : 3 + int(rng.integers(1, 3))]:
            self.spawn(str(rng.choice(BLOCKS)), c, rng)
        return {"obj": self.obj.description, "bowl": self.bowl.description}

    def oracle(self) -> Action | None:
        surface = self.z(self.bowl) + self.bowl.shape.surface
        return self.move(self.obj, self.xy(self.bowl), surface)
