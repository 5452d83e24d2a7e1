"""pyramid: "build a pyramid with the {left} and the {right} at the base and the {top} on top".

Left and right are as seen by the front camera (image left is world -y, see `sim.camera`).

Scene: three 4 cm cubes of different colors and 1-2 distractor blocks.
Goal: `pyramid(?left, ?right, ?top)`: the left and right cubes stand upright on the
table (bottom below 1 cm, tilt < 15°) side by side: their centers' x within 1.5 cm,
left.y < right.y, center distance in [4 cm, 6 cm]; the top cube is upright, its center within 2 cm (horizontally) of the
bases' midpoint and its bottom at cube height (±1.2 cm).
Oracle (closed loop): choose a site once, keeping the left (or else the right) cube where
it is when there is room beside it, otherwise a free spot. Then: the left cube to its
spot, the right cube 4.5 cm to its +y (5 mm gap), both squared to the world axes, and
the top cube onto their midpoint. Cubes are put down with the fingers closing along x,
so that no finger comes down into the gap beside the cube already there, and picked
by the faces that leave the open fingers the most room.
"""

from __future__ import annotations

import math

import numpy as np

from sim.geometry import quarter, xy_dist
from sim.objects import CUBE, SimObject
from sim.tasks.base import GRASP_RANGE, WORKSPACE, Action, Task

PITCH = CUBE + 0.005  # center distance the oracle leaves between the base cubes
SITE_RADIUS = PITCH / 2 + CUBE / math.sqrt(2)  # the pair's bounding circle, around its midpoint
ROOM = 0.025  # clearance around the site for the fingers
SQUARE_TOL = math.radians(10)  # a base cube this close to the world axes needs no turning
# The oracle builds where the arm places to a millimeter or two (it is less precise closer in).
SITE_X = (0.44, 0.64)


class Pyramid(Task):
    family = "pyramid"
    template = "build a pyramid with the {left} and the {right} at the base and the {top} on top"
    goal_template = "pyramid(?left, ?right, ?top)"
    slots = ("left", "right", "top")
    max_actions = 5

    def build(self, rng):
        colors = self.colors(rng, 5)
        self.left, self.right, self.top = (self.spawn("cube", c, rng) for c in colors[:3])
        for c in colors[3 : 3 + int(rng.integers(1, 3))]:
            self.spawn(str(rng.choice(["cube", "small cube", "cylinder"])), c, rng)
        self.site: np.ndarray | None = None  # where the oracle builds the left cube
        return {
            "left": self.left.description,
            "right": self.right.description,
            "top": self.top.description,
        }

    # -- success -------------------------------------------------------------------------
    def base_ok(self, slack: float = 0.0) -> bool:
        """The base pair satisfies the success conditions, tightened by `slack`.

        The least distance is tightened by only a quarter of `slack`: cubes nearly touching
        are a sound base (the top cube can push them apart, never together).
        """
        lxy, rxy = self.xy(self.left), self.xy(self.right)
        d = xy_dist(lxy, rxy)
        return (
            self.on_table(self.left)
            and self.on_table(self.right)
            and abs(lxy[0] - rxy[0]) < 0.015 - slack
            and lxy[1] < rxy[1]
            and CUBE + slack / 4 <= d <= CUBE + 0.02 - slack
        )

    # -- oracle --------------------------------------------------------------------------
    def room(self, left_xy, ignore: tuple[SimObject, ...]) -> bool:
        """The pyramid built with its left cube at `left_xy` fits the workspace, clear of objects."""
        (x0, x1), (y0, y1) = SITE_X, WORKSPACE[1]
        r = CUBE / 2 + 0.01
        if not (x0 <= left_xy[0] <= x1 and y0 + r <= left_xy[1] and left_xy[1] + PITCH <= y1 - r):
            return False
        c = np.asarray(left_xy) + (0.0, PITCH / 2)
        others = [o for o in self.world.objects if o not in ignore and o.shape.collides]
        return all(xy_dist(c, self.xy(o)) >= SITE_RADIUS + o.shape.radius + ROOM for o in others)

    def plan_site(self) -> np.ndarray:
        pair = (self.left, self.right)
        if self.on_table(self.left) and self.room(self.xy(self.left), pair):
            return self.xy(self.left)
        squared = abs(quarter(self.yaw(self.right))) < SQUARE_TOL  # else it needs a move anyway
        if (
            squared
            and self.on_table(self.right)
            and self.room(self.xy(self.right) - (0.0, PITCH), pair)
        ):
            return self.xy(self.right) - (0.0, PITCH)
        (x0, x1), (y0, y1) = SITE_X, WORKSPACE[1]
        for _ in range(400):
            xy = np.array([self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)])
            if self.room(xy, ()):
                return xy
        return self.xy(self.left)  # no room anywhere: try in place

    def at(self, obj: SimObject, xy) -> bool:
        """`obj` stands on the table at `xy` (within 1 cm), squared to the world axes."""
        return (
            self.on_table(obj)
            and xy_dist(self.xy(obj), xy) < 0.01
            and abs(quarter(self.yaw(obj))) < SQUARE_TOL
        )

    def to_slot(self, obj: SimObject, xy, surface_z: float = 0.0) -> Action:
        """Move a cube to `xy`, squared to the world axes, fingers closing along world x."""
        # Fingers close along yaw - 90°: a place yaw of 90° puts them on the cube's x faces,
        # so that none comes down into the gap beside a cube already there.
        pick = (*self.pick_pose(obj)[:3], self.roomy_face(obj, GRASP_RANGE))
        return Action("pick_place", pick, self.place_pose(obj, xy, surface_z, math.pi / 2))

    def oracle(self) -> Action | None:
        if self.site is None:
            self.site = self.plan_site()
        if not self.base_ok(slack=0.002):
            if self.z(self.top) > 0.02:  # the top cube fell on the bases: clear it first
                return self.move(self.top, self.free_spot("cube", avoid=[self.site]))
            if not self.at(self.left, self.site):
                return self.to_slot(self.left, self.site)
            return self.to_slot(self.right, self.xy(self.left) + (0.0, PITCH))
        mid = (self.xy(self.left) + self.xy(self.right)) / 2
        return self.to_slot(self.top, mid, CUBE)
