"""Collision and visual shapes of the object kinds that are not boxes and cylinders.

Three sources, one frame: the base frame of every object sits on the table at the centre
of its footprint (as `sim.objects.parts` has it), so `World.pose` reads an object's bottom
centre whatever it is made of.

- meshes shipped with PyBullet (`pybullet_data`): the duck (`duck_vhacd.obj`, its convex
  decomposition for collisions, `duck.obj` for the eye) and the mug (`objects/mug_col.obj`
  and `objects/mug.obj`), scaled, turned to stand up, and moved so that their bounding
  box's bottom centre is the base frame;
- meshes generated here from a few numbers (`prism`: a hexagonal prism, `wedge`: a
  triangular one): vertices and triangles, the collision shape their convex hull;
- spheres (the ball).

Every object's mass centre is its base frame, as for the catalogue's blocks (the goal
state reads an object's pose from it), which makes a ball a weighted toy: it does not
roll away. The numbers each shape declares in `sim.objects.SHAPES` (footprint, height)
are the bounds of what is built here; `tests/sim/test_unknown_objects.py` checks it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import cache

# mesh kind -> (collision file, visual file, scale, rotation about x (radians))
FILES: dict[str, tuple[str, str, float, float]] = {
    "duck": ("duck_vhacd.obj", "duck.obj", 0.035, math.pi / 2),
    "mug": ("objects/mug_col.obj", "objects/mug.obj", 0.9, 0.0),
}
PRISM_RADIUS, PRISM_HEIGHT = 0.022, 0.045  # hexagonal prism: circumradius, height
WEDGE_RADIUS, WEDGE_HEIGHT = 0.026, 0.035  # triangular prism
BALL_RADIUS = 0.021
GENERATED = {"prism": (6, PRISM_RADIUS, PRISM_HEIGHT), "wedge": (3, WEDGE_RADIUS, WEDGE_HEIGHT)}


@dataclass(frozen=True)
class Mesh:
    """Vertices (meters, in the base frame) and triangles (vertex index triples)."""

    vertices: tuple[tuple[float, float, float], ...]
    triangles: tuple[tuple[int, int, int], ...] = ()

    def bounds(self) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        lo = tuple(min(v[i] for v in self.vertices) for i in range(3))
        hi = tuple(max(v[i] for v in self.vertices) for i in range(3))
        return lo, hi  # type: ignore[return-value]


def is_built_here(kind: str) -> bool:
    """Whether `build` makes this kind's shapes (else `sim.objects.parts` describes it)."""
    return kind in FILES or kind in GENERATED or kind == "ball"


def prism(sides: int, radius: float, height: float) -> Mesh:
    """A right prism on a regular polygon (one vertex on +x), bottom face on z = 0."""
    ring = [
        (radius * math.cos(2 * math.pi * k / sides), radius * math.sin(2 * math.pi * k / sides))
        for k in range(sides)
    ]
    verts = [(x, y, 0.0) for x, y in ring] + [(x, y, height) for x, y in ring]
    tris: list[tuple[int, int, int]] = []
    for k in range(1, sides - 1):  # bottom (facing down) and top (facing up) fans
        tris.append((0, k + 1, k))
        tris.append((sides, sides + k, sides + k + 1))
    for k in range(sides):  # sides: two triangles per face, counter-clockwise outside
        a, b = k, (k + 1) % sides
        tris.append((a, b, sides + b))
        tris.append((a, sides + b, sides + a))
    return Mesh(tuple(verts), tuple(tris))


def data_path(name: str) -> str:
    import pybullet_data

    return os.path.join(pybullet_data.getDataPath(), name)


@cache
def _raw(kind: str) -> tuple[tuple[float, float, float], ...]:
    """The collision file's vertices, scaled and turned (its own origin kept)."""
    col, _, scale, turn = FILES[kind]
    c, s = math.cos(turn), math.sin(turn)
    raw = []
    with open(data_path(col)) as f:
        for line in f:
            if line.startswith("v "):
                x, y, z = (float(t) * scale for t in line.split()[1:4])
                raw.append((x, y * c - z * s, y * s + z * c))
    return tuple(raw)


def frame_offset(kind: str) -> tuple[float, float, float]:
    """Where a shipped mesh's own origin lies in the base frame (after scale and turn)."""
    lo, hi = Mesh(_raw(kind)).bounds()
    return (-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, -lo[2])


def file_mesh(kind: str) -> Mesh:
    """A shipped mesh's collision vertices (every convex piece) in the base frame."""
    dx, dy, dz = frame_offset(kind)
    return Mesh(tuple((x + dx, y + dy, z + dz) for x, y, z in _raw(kind)))


def build(client, kind: str, collides: bool = True) -> tuple[int, int]:
    """(collision shape id, visual shape id) of `kind` in a PyBullet client."""
    c = client
    if kind == "ball":
        r = BALL_RADIUS
        col = c.createCollisionShape(c.GEOM_SPHERE, radius=r, collisionFramePosition=(0, 0, r))
        vis = c.createVisualShape(c.GEOM_SPHERE, radius=r, visualFramePosition=(0, 0, r))
        return col, vis
    if kind in GENERATED:
        m = prism(*GENERATED[kind])
        flat = [i for t in m.triangles for i in t]
        col = c.createCollisionShape(c.GEOM_MESH, vertices=list(m.vertices))
        vis = c.createVisualShape(c.GEOM_MESH, vertices=list(m.vertices), indices=flat)
        return col, vis
    col_file, vis_file, scale, turn = FILES[kind]
    orn = c.getQuaternionFromEuler((turn, 0.0, 0.0))
    pos = frame_offset(kind)
    col = c.createCollisionShape(
        c.GEOM_MESH,
        fileName=data_path(col_file),
        meshScale=(scale,) * 3,
        collisionFramePosition=pos,
        collisionFrameOrientation=orn,
    )
    vis = c.createVisualShape(
        c.GEOM_MESH,
        fileName=data_path(vis_file),
        meshScale=(scale,) * 3,
        visualFramePosition=pos,
        visualFrameOrientation=orn,
    )
    return col, vis
