"""stack: "stack the {top} on the {base}".

Scene: two blocks (cubes or small cubes, the top never larger than the base) and 1-2
distractors. Goal: `on(?top, ?base)`: the top block rests on the base block, centers
within 2 cm horizontally, bottom of the top at the base's top (±1.2 cm), upright (tilt
< 15°), out of the gripper.
Oracle: pick the top block, place it on the base block's center.
"""

from __future__ import annotations

from sim.tasks.base import Action, Task


class Stack(Task):
    family = "stack"
    template = "stack the {top} on the {base}"
    goal_template = "on(?top, ?base)"
    slots = ("top", "base")
    max_actions = 3

    def build(self, rng):
        colors = self.colors(rng, 4)
        top_shape = "small cube" if rng.random() < 0.3 else "cube"
        self.top = self.spawn(top_shape, colors[0], rng)
        self.base = self.spawn("cube", colors[1], rng)
        for c in colors[2 : 2 + int(rng.integers(1, 3))]:
            self.spawn(str(rng.choice(["cube", "cylinder", "small cube"])), c, rng)
        return {"top": self.top.description, "base": self.base.description}

    def oracle(self) -> Action | None:
        surface = self.z(self.base) + self.base.shape.surface
        return self.move(self.top, self.xy(self.base), surface)
