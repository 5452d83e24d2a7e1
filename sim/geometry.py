"""Small pose helpers shared by the simulator (yaw-only, top-down manipulation)."""

from __future__ import annotations

import math

import numpy as np

# Reachable, camera-visible part of the table: ((x0, x1), (y0, y1)) in meters, robot base at
# the origin. Scenes are built in it; the goal language's regions are its thirds.
WORKSPACE = ((0.34, 0.70), (-0.28, 0.28))


def wrap_angle(a: float) -> float:
    """Wrap an angle in radians to [-pi, pi)."""
    return (a + math.pi) % (2 * math.pi) - math.pi


def yaw_distance(a: float, b: float, symmetry: float = 2 * math.pi) -> float:
    """Smallest absolute difference of two yaws (radians) for an object symmetric under `symmetry`."""
    d = (a - b) % symmetry
    return min(d, symmetry - d)


def yaw_from_quat(q) -> float:
    """Yaw (rotation about world z) of an xyzw quaternion."""
    x, y, z, w = q
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def quat_from_yaw(yaw: float) -> tuple[float, float, float, float]:
    """xyzw quaternion of a rotation by `yaw` about world z."""
    return (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))


def tilt_from_quat(q) -> float:
    """Angle (radians) between the body's z axis and world z: 0 for an upright object."""
    x, y, z, w = q
    zz = 1 - 2 * (x * x + y * y)
    return math.acos(max(-1.0, min(1.0, zz)))


def xy_dist(a, b) -> float:
    """Horizontal distance between two points."""
    return float(np.hypot(a[0] - b[0], a[1] - b[1]))


def quarter(yaw: float) -> float:
    """The yaw equivalent to `yaw` modulo 90 degrees, in [-45, 45) degrees (radians)."""
    return (yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4
