"""align: "align the {obj} with the {target}".

Scene: a 4 cm cube, a painted square outline just larger than the cube (random yaw, no
collision), sometimes a second outline of another color, and 1-2 distractor blocks.
Goal: `aligned(?obj, ?target)`: the cube's center is within 1.5 cm of the outline's
center, its yaw within 12 degrees of the outline's yaw modulo 90 degrees, and it stands
upright on the table.
Oracle: pick the cube and place it on the outline's center, turned by the smallest
turn (modulo 90 degrees) that brings it to the outline's yaw.
"""

from __future__ import annotations

from sim.geometry import wrap_angle
from sim.objects import BLOCKS
from sim.tasks.base import Action, Task


class Align(Task):
    family = "align"
    template = "align the {obj} with the {target}"
    goal_template = "aligned(?obj, ?target)"
    slots = ("obj", "target")
    max_actions = 3

    def build(self, rng):
        colors = self.colors(rng, 5)
        self.target = self.spawn("outline", colors[0], rng)
        if rng.random() < 0.4:
            self.spawn("outline", colors[1], rng)
        self.obj = self.spawn("cube", colors[2], rng)
        for c in colors[3 : 3 + int(rng.integers(1, 3))]:
            self.spawn(str(rng.choice(BLOCKS)), c, rng)
        return {"obj": self.obj.description, "target": self.target.description}

    def oracle(self) -> Action | None:
        sym = self.obj.shape.symmetry
        turn = wrap_angle(self.yaw(self.target) - self.yaw(self.obj))
        turn = wrap_angle((turn + sym / 2) % sym - sym / 2)  # smallest turn modulo the symmetry
        return self.move(self.obj, self.xy(self.target), 0.0, turn=turn)
