"""sort: "put each cube in the bowl of the same color".

Scene: 2-3 cubes (4 cm) of distinct colors and one bowl of each of those colors; with two
cubes, often a third bowl of another color as a distractor. Bowls are 15 cm wide and the table
small, so each bowl goes in its own cell of a 2 x 3 grid over the workspace (jittered
inside the cell); the cubes are spread over the space left.
Goal: `in(cube, bowl)` for each cube and the bowl of its color, joined by `and`
(`goal_text()` builds the conjunction): every cube's center is within its bowl's inner
radius less 1 cm and its bottom below the bowl's rim (see `sim.goals.predicates.support`).
Oracle: move the next cube that is not in its bowl into the bowl's center.
"""

from __future__ import annotations

from sim.tasks.base import WORKSPACE, Action, Task

ROWS, COLS = 2, 3  # grid of bowl cells: rows along x (depth), columns along y
MARGIN = 0.04  # clearance of a cube from other objects, meters (open fingers reach 5 cm)


def _cell(k: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Region of grid cell k (row-major) of the workspace."""
    (x0, x1), (y0, y1) = WORKSPACE
    dx, dy = (x1 - x0) / ROWS, (y1 - y0) / COLS
    r, c = divmod(k, COLS)
    return (x0 + r * dx, x0 + (r + 1) * dx), (y0 + c * dy, y0 + (c + 1) * dy)


class Sort(Task):
    family = "sort"
    template = "put each cube in the bowl of the same color"
    # No slots: the goal is one `in(...)` per cube, built by `goal_text()`.
    goal_template = "in(?cube, ?bowl) for each cube and the bowl of its color"
    slots = ()
    max_actions = 5

    def build(self, rng):
        n = int(rng.integers(2, 4))
        colors = self.colors(rng, n + 1)
        extra = n == 2 and rng.random() < 0.6  # a fourth bowl leaves too little room for the cubes
        bowl_colors = colors[:n] + ([colors[n]] if extra else [])
        cells = rng.permutation(ROWS * COLS)[: len(bowl_colors)]
        bowls = {
            c: self.spawn("bowl", c, rng, region=_cell(int(k)))
            for c, k in zip(bowl_colors, cells, strict=True)
        }
        # The wide margin keeps the open fingers off the bowls' rims when grasping a cube.
        self.pairs = [(self.spawn("cube", c, rng, margin=MARGIN), bowls[c]) for c in colors[:n]]
        return {}

    def goal_text(self) -> str:
        return " and ".join(
            f"in({cube.description}, {bowl.description})" for cube, bowl in self.pairs
        )

    def oracle(self) -> Action | None:
        for cube, bowl in self.pairs:
            if not self.in_bowl(cube, bowl):
                return self.move(cube, self.xy(bowl), self.z(bowl) + bowl.shape.surface)
        return None
