"""push: "push the {obj} into the {zone}".

Scene: a flat zone painted on the table (13 cm square, random yaw, no collision), the
object to push (cube, small cube or cylinder) 12-25 cm from the zone's center, and 1-2
distractor blocks (one fewer when the table is crowded) kept clear of the zone, of the
push path and of the spot behind the object where the fingers come down. The fingers come
down at least 2 cm inside the workspace's near edge: right by the robot's base the arm
tracks low poses poorly.
Goal: `in(?obj, ?zone)`: the object's center lies inside the zone's square footprint
less a 1 cm margin (in the zone's own frame) and the object stands upright on the table.
Oracle: closed-loop pushes with the closed fingers ("push" primitive, never a grasp):
each starts just behind the object, on the side away from the zone's center, and ends
where the object's center should reach the zone's center; it repeats while needed.
"""

from __future__ import annotations

import math

import numpy as np

from sim.errors import SimError
from sim.geometry import xy_dist
from sim.objects import BLOCKS, SHAPES
from sim.tasks.base import WORKSPACE, Action, Task

BEHIND = 0.035  # gap between the object's edge and the fingers where they come down
FINGER = 0.02  # about where the pushed object's edge ends up, ahead of the grasp point
PUSH_Z = 0.018  # height of the grasp point while pushing


def _seg_dist(p, a, b) -> float:
    """Distance from point p to the segment ab (xy)."""
    p, a, b = (np.asarray(v, dtype=float)[:2] for v in (p, a, b))
    ab = b - a
    s = float(np.clip(np.dot(p - a, ab) / max(float(np.dot(ab, ab)), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + s * ab)))


def _inside(xy, lo, hi) -> bool:
    return bool(np.all(np.asarray(xy) >= lo) and np.all(np.asarray(xy) <= hi))


class Push(Task):
    family = "push"
    template = "push the {obj} into the {zone}"
    goal_template = "in(?obj, ?zone)"
    slots = ("obj", "zone")
    max_actions = 4

    def build(self, rng):
        colors = self.colors(rng, 4)
        self.zone = self.spawn("zone", colors[0], rng)
        shape = str(rng.choice(BLOCKS))
        c, r = self.xy(self.zone), SHAPES[shape].radius
        lo, hi = np.array(WORKSPACE)[:, 0], np.array(WORKSPACE)[:, 1]
        for _ in range(200):
            d, a = rng.uniform(0.12, 0.25), rng.uniform(-math.pi, math.pi)
            xy = c + d * np.array([math.cos(a), math.sin(a)])
            start = xy + (xy - c) / d * (r + BEHIND)
            # where the fingers come down: 2 cm clear of the base side, reachable elsewhere
            if _inside(xy, lo + r, hi - r) and _inside(start, lo + (0.02, -0.02), hi + 0.02):
                break
        else:
            raise SimError(f"no spot for the {colors[1]} {shape}")
        yaw = rng.uniform(-math.pi / 4, math.pi / 4) if SHAPES[shape].symmetry else 0.0
        self.obj = self.world.add(shape, colors[1], xy, yaw)
        for col in colors[2 : 2 + int(rng.integers(1, 3))]:
            self._spawn_clear(str(rng.choice(BLOCKS)), col, rng, start, c)
        return {"obj": self.obj.description, "zone": self.zone.description}

    def _spawn_clear(self, shape: str, color: str, rng, a, b) -> None:
        """Spawn a distractor clear of the others and of the push corridor a -> b."""
        r = SHAPES[shape].radius
        (x0, x1), (y0, y1) = WORKSPACE
        for _ in range(200):
            xy = (rng.uniform(x0 + r, x1 - r), rng.uniform(y0 + r, y1 - r))
            free = all(
                xy_dist(xy, self.xy(o)) >= r + o.shape.radius + 0.02 for o in self.world.objects
            )
            if free and _seg_dist(xy, a, b) >= r + 0.07:
                self.world.add(shape, color, xy, rng.uniform(-math.pi / 4, math.pi / 4))
                return
        # A crowded table simply gets one distractor fewer.

    def oracle(self) -> Action | None:
        p, c = self.xy(self.obj), self.xy(self.zone)
        dist = xy_dist(p, c)
        if dist < 1e-3:
            return None
        u = (c - p) / dist
        r = self.obj.shape.radius
        start = p - u * (r + BEHIND)
        end = c - u * (self.obj.shape.footprint[0] + FINGER)
        return Action("push", (*start, PUSH_Z, 0.0), (*end, PUSH_Z, 0.0))
