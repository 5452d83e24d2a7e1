"""Grasp and place poses computed from privileged simulator state.

One place for this geometry: the task oracles and the robot API's oracle `PoseProvider`
both call these functions. A pose is (x, y, z, yaw) of the grasp point (see `primitives`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.geometry import wrap_angle, yaw_from_quat
from sim.objects import BOWL_INNER_RADIUS, TRAY_INNER_HALF, SimObject

if TYPE_CHECKING:
    from sim.world import World

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
    sym = _grip_symmetry(obj)
    base = yaw_from_quat(world.pose(obj)[1]) if obj.shape.symmetry else 0.0
    cands = [wrap_angle(base + k * sym) for k in range(-4, 5)]
    return min(cands, key=lambda y: max(abs(y), abs(wrap_angle(y + turn))))


def _grip_symmetry(obj: SimObject) -> float:
    """Turns of the gripper that grasp `obj` alike: its yaw symmetry (a quarter turn for a
    round one), at most a half turn (the fingers are alike: a duck is grasped the same
    with the gripper turned by 180 degrees)."""
    return min(obj.shape.symmetry or math.pi / 2, math.pi)


def pick_pose(world: World, obj: SimObject, turn: float = 0.0, dest=None) -> Pose:
    """Where to close the fingers to pick `obj` (prepared for a later turn by `turn`).

    With `dest` (the (x, y) where the object will be put down), the grasp is the one of
    the object's symmetric grasps whose fingers have the most room both here and there.
    """
    p = world.pose(obj)[0]
    yaw = grasp_yaw(world, obj, turn) if dest is None else roomy_grasp_yaw(world, obj, turn, dest)
    return (float(p[0]), float(p[1]), float(p[2] + grasp_height(obj)), yaw)


FINGER_REACH = 0.012  # a finger's center lies this far outside the face it closes on
WRIST_LIMIT = 2.4  # |gripper yaw| the wrist reaches everywhere on the table, radians


def finger_room(world: World, xy, grip_yaw: float, half_width: float, ignore: set[int]) -> float:
    """Free distance around the two fingers of a gripper centered at `xy`, each finger
    `half_width` + FINGER_REACH from the center along the closing axis.

    Other objects count by their footprint; a bowl or tray that holds `xy` counts by its
    walls (the fingers must stay inside); a flat plate or pad under `xy` does not count.
    Objects in `ignore` do not count.
    """
    u = np.array([math.sin(grip_yaw), -math.cos(grip_yaw)])  # the fingers' closing axis
    fingers = [np.asarray(xy[:2]) + s * (half_width + FINGER_REACH) * u for s in (-1, 1)]
    under = supports(world, xy)
    room = 1.0
    for o in world.objects:
        if o.body in ignore or not o.shape.collides:
            continue
        c = world.pose(o)[0][:2]
        if o.body in under:
            if o.shape.name == "bowl":
                room = min(room, *(BOWL_INNER_RADIUS - float(np.hypot(*(f - c))) for f in fingers))
            elif o.shape.name == "tray":
                yaw = yaw_from_quat(world.pose(o)[1])
                rot = np.array([[math.cos(yaw), math.sin(yaw)], [-math.sin(yaw), math.cos(yaw)]])
                room = min(
                    room, *(TRAY_INNER_HALF - float(np.max(np.abs(rot @ (f - c)))) for f in fingers)
                )
            continue
        room = min(room, *(float(np.hypot(*(f - c))) - o.shape.radius for f in fingers))
    return room


def supports(world: World, xy) -> set[int]:
    """Bodies whose footprint holds the point `xy` (what an object put down there rests on or in)."""
    return {
        o.body
        for o in world.objects
        if np.hypot(*(world.pose(o)[0][:2] - np.asarray(xy[:2]))) < o.shape.radius
    }


def roomy_grasp_yaw(world: World, obj: SimObject, turn: float, dest) -> float:
    """The symmetric grasp of `obj` whose open fingers keep the most room, where they come
    down to pick it and where they open to let it go at `dest`."""
    from sim.panda import FINGER_OPEN

    sym = _grip_symmetry(obj)
    base = grasp_yaw(world, obj, turn)
    here = world.pose(obj)[0][:2]
    half = FINGER_OPEN / 2 - FINGER_REACH  # open fingers
    at_dest = {obj.body}
    best, best_score = base, -1e9
    for k in range(-4, 5):
        g = wrap_angle(base + k * sym)
        wrist = max(abs(g), abs(wrap_angle(g + turn)))
        if wrist > WRIST_LIMIT:
            continue
        room = min(
            finger_room(world, here, g, half, {obj.body}),
            finger_room(world, dest, g + turn, half, at_dest),
        )
        score = min(room, 0.02) - 0.001 * wrist  # ties: least wrist turn
        if score > best_score:
            best, best_score = g, score
    return best


def place_pose(held: SimObject, xy, surface_z: float, yaw: float) -> Pose:
    """Pose that rests `held` at `xy` on a surface at height `surface_z`."""
    return (float(xy[0]), float(xy[1]), float(surface_z + grasp_height(held)), float(yaw))


def surface_z(world: World, target: SimObject) -> float:
    """Height of the surface that an object placed on (or in) `target` rests on."""
    return float(world.pose(target)[0][2] + target.shape.surface)
