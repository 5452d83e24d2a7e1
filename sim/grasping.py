"""Grasps in an object's own frame: the candidates its geometry offers, and how they map to
gripper poses.

`sim.poses.pick_pose` grasps any object at its footprint's centre, fingers on two faces,
which is right for the catalogue's blocks. An object of another kind (an L-shaped bracket,
a duck) may offer nothing there; `candidates` then proposes other grasps from the
object's geometry as the simulator has it: gripper turns (0, 90 and 45 degrees), grasp
points over the footprint, and two heights, each kept only if rays cast along the
fingers' closing line find the object on both sides within the opening, and nothing
under the open fingers' way down. A candidate's grasp point is moved to the middle of
what the rays found, so the fingers close evenly. Whether a grasp held is judged by the
simulator alone (`lifted`).

A `Grasp` is (yaw, dx, dy, dz) in the object's frame: the gripper yaw less the object's,
the grasp point's offset from the footprint centre in the object's frame, and its height
above the object's bottom. It means the same grasp wherever the object stands and
however it is turned, so it can be remembered per kind of object (`skills.grasps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.geometry import wrap_angle, yaw_from_quat

if TYPE_CHECKING:
    from sim.objects import SimObject
    from sim.world import World

Pose = tuple[float, float, float, float]
REACH = 0.045  # rays start this far out from the grasp point (the open fingers: 4 cm)
MIN_WIDTH, MAX_WIDTH = 0.004, 0.07  # what the fingers can close on, meters
LIFTED = 0.05  # a grasp held when the object's bottom rose this much with the gripper
FINGER_HALF = 0.009  # half the width of a finger pad, across the closing line
TURNS = (0.0, math.pi / 2, math.pi / 4, -math.pi / 4)
GRID = (0.0, -1 / 3, 1 / 3, -2 / 3, 2 / 3)  # grasp points: fractions of the footprint
MIN_Z = 0.011  # lowest grasp point above the table (the fingertips reach below it)


@dataclass(frozen=True)
class Grasp:
    """A grasp in the object's frame (see the module doc): radians and meters."""

    yaw: float
    dx: float = 0.0
    dy: float = 0.0
    dz: float = 0.0

    def key(self) -> tuple[float, float, float, float]:
        """The grasp rounded (1 degree modulo the gripper's half turn, 1 mm): equal keys
        are one grasp."""
        yaw = round(math.degrees(self.yaw % math.pi)) % 180
        return (float(yaw), round(self.dx, 3), round(self.dy, 3), round(self.dz, 3))

    def to_json(self) -> dict:
        return {
            "yaw_deg": round(math.degrees(wrap_angle(self.yaw)), 2),
            "dx": round(self.dx, 4),
            "dy": round(self.dy, 4),
            "dz": round(self.dz, 4),
        }

    @classmethod
    def from_json(cls, d: dict) -> Grasp:
        """The inverse of `to_json`; ValueError for anything else (a grasp from outside)."""
        try:
            v = [float(d[k]) for k in ("yaw_deg", "dx", "dy", "dz")]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"not a grasp: {d!r:.80}") from None
        if not all(map(math.isfinite, v)) or max(map(abs, v[1:])) > 0.2:
            raise ValueError(f"not a grasp: {d!r:.80}")
        return cls(math.radians(v[0]), v[1], v[2], v[3])


def _frame(world: World, obj: SimObject) -> tuple[np.ndarray, float]:
    pos, orn = world.pose(obj)
    return np.asarray(pos, dtype=float), yaw_from_quat(orn)


def _rot(a: float) -> np.ndarray:
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def grasp_of(world: World, obj: SimObject, pose) -> Grasp:
    """The gripper pose `pose` (x, y, z, yaw) as a grasp in `obj`'s frame."""
    pos, yaw = _frame(world, obj)
    d = _rot(-yaw) @ (np.asarray(pose[:2], dtype=float) - pos[:2])
    return Grasp(
        wrap_angle(float(pose[3]) - yaw), float(d[0]), float(d[1]), float(pose[2] - pos[2])
    )


def pose_of(world: World, obj: SimObject, grasp: Grasp, near_yaw: float) -> Pose:
    """The gripper pose of `grasp` on `obj` as it stands now: of the grasps that are the
    same (the gripper turned by half a turn; the object turned by its symmetry, the grasp
    point with it), the one whose yaw is nearest `near_yaw` (the default grasp's, which
    keeps the wrist in range)."""
    pos, yaw = _frame(world, obj)
    sym = obj.shape.symmetry
    if sym == 0.0:  # round: any turn of the object is the same object
        turns = [wrap_angle(near_yaw - yaw - grasp.yaw)]
    else:
        n = max(1, round(2 * math.pi / sym))
        turns = [k * sym for k in range(n)]
    best = None
    for t in turns:
        for flip in (0.0, math.pi):
            g = wrap_angle(yaw + grasp.yaw + t + flip)
            off = _rot(yaw + t) @ np.array([grasp.dx, grasp.dy])
            cost = abs(wrap_angle(g - near_yaw))
            if best is None or cost < best[0] - 1e-9:
                best = (cost, g, off)
    _, g, off = best
    z = float(pos[2] + max(grasp.dz, MIN_Z))
    return (float(pos[0] + off[0]), float(pos[1] + off[1]), z, float(g))


def lifted(world: World, obj: SimObject, z0: float) -> bool:
    """The simulator's judgment of a grasp: the gripper holds `obj` and its bottom rose at
    least 5 cm above `z0` (where it rested before)."""
    return world.panda.held == obj.body and float(world.pose(obj)[0][2]) >= z0 + LIFTED


def _heights(obj: SimObject, default_dz: float) -> list[float]:
    h = obj.shape.height
    out = []
    for z in (default_dz, h / 2, max(MIN_Z, h - 0.012), max(MIN_Z, 0.3 * h)):
        z = max(MIN_Z, min(z, h - 0.004)) if h > MIN_Z + 0.004 else MIN_Z
        if all(abs(z - o) > 0.004 for o in out):
            out.append(z)
    return out[:2]


def candidates(
    world: World, obj: SimObject, default: Grasp, limit: int = 6, skip=()
) -> list[Grasp]:
    """Grasps of `obj` its geometry offers (see the module doc), the likeliest first,
    none equal to `default` or to a grasp in `skip`."""
    pos, yaw = _frame(world, obj)
    fx, fy = obj.shape.footprint
    seen = {default.key(), *(g.key() for g in skip)}
    proposals = []
    for turn in TURNS:
        for dz in _heights(obj, default.dz):
            for gx in GRID:
                for gy in GRID:
                    proposals.append(Grasp(wrap_angle(default.yaw + turn), gx * fx, gy * fy, dz))
    rays_from, rays_to = [], []
    for g in proposals:
        a = yaw + g.yaw
        u = np.array([math.sin(a), -math.cos(a)])  # the fingers' closing line
        c = pos[:2] + _rot(yaw) @ np.array([g.dx, g.dy])
        z = pos[2] + g.dz
        for s in (1.0, -1.0):  # inward along the closing line, from either side
            rays_from.append((*(c + s * REACH * u), z))
            rays_to.append((*(c - s * REACH * u), z))
        for s in (1.0, -1.0):  # down where each open finger comes down
            f = c + s * (REACH - 0.005) * u
            rays_from.append((f[0], f[1], z + 0.3))
            rays_to.append((f[0], f[1], z - 0.005))
    hits = world.client.rayTestBatch(rays_from, rays_to)
    scored = []
    for i, g in enumerate(proposals):
        (a_in, b_in, a_down, b_down) = hits[4 * i : 4 * i + 4]
        if a_in[0] != obj.body or b_in[0] != obj.body:
            continue  # a finger would close on nothing (or on a neighbour)
        if a_down[0] != -1 or b_down[0] != -1:
            continue  # an open finger would land on the object or a neighbour
        ta, tb = a_in[2], 1.0 - b_in[2]  # where along the 9 cm line each surface lies
        width = (tb - ta) * 2 * REACH
        if not MIN_WIDTH <= width <= MAX_WIDTH:
            continue
        shift = ((ta + tb) / 2 - 0.5) * 2 * REACH  # move the point to the middle
        a = g.yaw
        u_local = np.array([math.sin(a), -math.cos(a)])
        d = np.array([g.dx, g.dy]) - shift * u_local
        moved = Grasp(g.yaw, float(d[0]), float(d[1]), g.dz)
        if moved.key() in seen:
            continue
        seen.add(moved.key())
        off = math.hypot(*d) / max(fx, fy)
        cost = off + abs(wrap_angle(g.yaw - default.yaw)) / math.pi + abs(g.dz - default.dz) * 5
        scored.append((cost, len(scored), moved))
    scored.sort()
    return [g for _, _, g in scored[:limit]]
