"""swap: "swap the {a} and the {b}".

Scene: two blocks (cube, small cube or cylinder; distinct descriptions) and 1-2 distractor
blocks. Their starting positions are recorded when the scene is built (for the oracle;
the goal reads the start poses recorded once the scene has settled).
Goal: `where_was(?a, ?b) and where_was(?b, ?a)`: a's center is within 2 cm of b's
starting position and b's within 2 cm of a's, both upright (tilt < 15 degrees) and
standing on the table.
Oracle (closed loop, from the current state): while b is not yet at a's start, clear a's
start by moving a to a free buffer spot if a (or anything) still occupies it, else move
b there; then move a to b's start.
"""

from __future__ import annotations

import numpy as np

from sim.geometry import xy_dist
from sim.objects import BLOCKS
from sim.tasks.base import Action, Task

# Clearance between blocks at spawn, meters: the open fingers reach about 5 cm from a
# grasped block's center and would land on a neighbor nearer than that.
MARGIN = 0.035
CLEARANCE = 0.01  # gap kept between a spot's new occupant and whatever is near it, meters


class Swap(Task):
    family = "swap"
    template = "swap the {a} and the {b}"
    goal_template = "where_was(?a, ?b) and where_was(?b, ?a)"
    slots = ("a", "b")
    max_actions = 5

    def build(self, rng):
        colors = self.colors(rng, 4)
        shapes = [str(s) for s in rng.choice(BLOCKS, size=4)]
        n = 2 + int(rng.integers(1, 3))
        objs = [
            self.spawn(s, c, rng, margin=MARGIN)
            for s, c in zip(shapes[:n], colors[:n], strict=True)
        ]
        self.a, self.b = objs[0], objs[1]
        self.start_a, self.start_b = self.xy(self.a).copy(), self.xy(self.b).copy()
        return {"a": self.a.description, "b": self.b.description}

    def _blocker(self, spot: np.ndarray, incoming) -> object | None:
        """An object other than `incoming` too close to `spot` for `incoming` to go there."""
        for o in self.world.objects:
            if (
                o != incoming
                and xy_dist(self.xy(o), spot) < o.shape.radius + incoming.shape.radius + CLEARANCE
            ):
                return o
        return None

    def oracle(self) -> Action | None:
        if not self.aligned(self.b, self.start_a):
            blocker = self._blocker(self.start_a, self.b)
            if blocker is not None:
                spot = self.free_spot(blocker.shape.name, avoid=[self.start_a, self.start_b])
                return self.move(blocker, spot)
            return self.move(self.b, self.start_a)
        if not self.aligned(self.a, self.start_b):
            blocker = self._blocker(self.start_b, self.a)
            if blocker is not None and blocker != self.b:
                spot = self.free_spot(blocker.shape.name, avoid=[self.start_a, self.start_b])
                return self.move(blocker, spot)
            return self.move(self.a, self.start_b)
        return None
