"""Motion primitives: the only way the oracle, the gym action and the robot API move things.

Each primitive is a short sequence of straight-line moves of the arm (see `Panda`), so
anything they do happens through physics steps. Poses are (x, y, z, yaw) of the grasp
point: for `pick` the point to close the fingers at, for `place` the lowest point the
grasp point may reach (the descent stops as soon as the held object touches something).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.geometry import wrap_angle
from sim.panda import SAFE_Z

if TYPE_CHECKING:
    from sim.world import World


def _above(pose, z: float = SAFE_Z) -> tuple[float, float, float]:
    return (float(pose[0]), float(pose[1]), max(z, float(pose[2]) + 0.06))


def pick(world: World, pose, clean: Callable[[], bool] | None = None) -> bool:
    """Grasp at `pose` = (x, y, z, yaw) and lift to transport height. True if holding.

    With `clean`, a test of the grasp once the fingers have closed (did the object stay
    put?): when it says no, the fingers open again before the arm goes up.
    """
    arm = world.panda
    if arm.held is not None:
        return True
    x, y, z, yaw = (float(v) for v in pose)
    arm.open_gripper(steps=10)
    arm.move_to(_above(pose), yaw)
    arm.move_to((x, y, z + 0.03), yaw, speed=0.3, settle=4)
    arm.move_to((x, y, z), yaw, speed=0.1, settle=4)
    arm.close_gripper()
    if clean is not None and not clean():
        arm.open_gripper(steps=10)
    arm.move_to(_above(pose), yaw, speed=0.4)
    return arm.held is not None


def place(world: World, pose) -> bool:
    """Carry the held object above `pose`, lower it until it rests, and let go.

    Returns False (and does nothing) when nothing is held.
    """
    arm = world.panda
    if arm.held is None:
        return False
    x, y, z, yaw = (float(v) for v in pose)
    arm.move_to(_above(pose), yaw)
    # Fast down to 3 cm above the goal, slow after; either stops as soon as the held
    # object touches something (a block in the way, a tower's top, the goal itself).
    if not arm.descend_until_contact(z + 0.03, speed=0.3):
        arm.descend_until_contact(z - 0.02)
    arm.open_gripper(steps=20)
    arm.move_to(_above(pose), yaw, speed=0.4)
    return True


def pick_place(world: World, pick_pose, place_pose) -> bool:
    """Pick at one pose and place at another. True if the object was grasped."""
    if not pick(world, pick_pose):
        return False
    place(world, place_pose)
    return True


def push(world: World, start, end, z: float = 0.018) -> None:
    """Push with the closed fingers from `start` to `end` (x, y) at height `z`.

    The fingers come down at `start`, sweep in a straight line to `end` and go back up.
    The closed fingers push alike with any of their four sides, so the gripper is turned
    to the side (90 degrees apart) nearest the wrist turn the arm tracks best at that spot:
    about 2.5 times the start's bearing from the base (measured: near the base, other
    turns leave the fingers up to 3 cm above `z`). The pushing face is about 1 cm (finger
    edges) to 1.7 cm (a finger's back) ahead of the grasp point.
    """
    arm = world.panda
    if arm.held is not None:
        arm.open_gripper()
    s = np.asarray(start[:2], dtype=float)
    e = np.asarray(end[:2], dtype=float)
    d = e - s
    travel = float(np.arctan2(d[1], d[0])) if np.linalg.norm(d) > 1e-9 else 0.0
    natural = 2.5 * float(np.arctan2(s[1], s[0]))  # tuned where the fingers come down
    grip_yaw = min(
        (wrap_angle(travel + k * np.pi / 2) for k in range(4)),
        key=lambda y: abs(wrap_angle(y - natural)),
    )
    arm._finger = 0.0
    arm._command()
    arm.move_to((s[0], s[1], SAFE_Z), grip_yaw)
    arm.move_to((s[0], s[1], z), grip_yaw, speed=0.3, settle=4)
    arm.move_to((e[0], e[1], z), grip_yaw, speed=0.15, settle=8)
    arm.move_to((e[0], e[1], SAFE_Z), grip_yaw, speed=0.4)
    arm.open_gripper(steps=5)
