"""Grasp and place poses computed from privileged simulator state.

One place for this geometry: the task oracles and the robot API's oracle `PoseProvider`
both call these functions. A pose is (x, y, z, yaw) of the grasp point (see `primitives`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .geometry import wrap_angle, yaw_from_quat
from .objects import SimObject

if TYPE_CHECKING:
    from .world import World

Pose = tuple[float, float, float, float]


def grasp_height(obj: SimObject) -> float:
    """Height of the grasp point above the object's bottom."""
    h = obj.shape.height
    return max(h / 2, h - 0.02) if h > 0.03 else max(h / 2, 0.011)


def grasp_yaw(world: World, obj: SimObject, turn: float = 0.0) -> float:
    """Gripper yaw to grasp `obj` (fingers on two faces), as close to 0 as symmetry allows.

    With `turn`, the yaw is chosen so that both it and yaw + turn stay near 0, keeping the
    wrist inside its joint range through a rotation.
    """
    sym = obj.shape.symmetry or math.pi / 2
    base = yaw_from_quat(world.pose(obj)[1]) if obj.shape.symmetry else 0.0
    cands = [wrap_angle(base + k * sym) for k in range(-4, 5)]
    return min(cands, key=lambda y: max(abs(y), abs(wrap_angle(y + turn))))


def pick_pose(world: World, obj: SimObject, turn: float = 0.0) -> Pose:
    """Where to close the fingers to pick `obj` (prepared for a later turn by `turn`)."""
    p = world.pose(obj)[0]
    return (float(p[0]), float(p[1]), float(p[2] + grasp_height(obj)), grasp_yaw(world, obj, turn))


def place_pose(held: SimObject, xy, surface_z: float, yaw: float) -> Pose:
    """Pose that rests `held` at `xy` on a surface at height `surface_z`."""
    return (float(xy[0]), float(xy[1]), float(surface_z + grasp_height(held)), float(yaw))


def surface_z(world: World, target: SimObject) -> float:
    """Height of the surface that an object placed on (or in) `target` rests on."""
    return float(world.pose(target)[0][2] + target.shape.surface)
