"""Validation of what people and models hand the correction store: pixels, angles,
offsets and poses inside the robot's workspace (one-line `AgentError`s). The correction
store (`agent.policy.corrections`) re-exports these names."""

from __future__ import annotations

import math

from agent.errors import AgentError

POSE_LOW = (0.2, -0.45, 0.0)
POSE_HIGH = (0.8, 0.45, 0.35)
MAX_OFFSET = {"dx": 0.3, "dy": 0.3, "dz": 0.2, "dyaw": 180.0}


def _finite(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AgentError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise AgentError(f"{name} must be a finite number, got {value!r}")
    return v


def validate_pixel(u, v, width: int, height: int) -> tuple[float, float]:
    """(u, v) = (column, row) inside a width x height image, else AgentError."""
    u, v = _finite("pixel u", u), _finite("pixel v", v)
    if not (0 <= u < width and 0 <= v < height):
        raise AgentError(
            f"pixel ({u:g}, {v:g}) is outside the {width}x{height} image (u in [0, {width}), v in [0, {height}))"
        )
    return u, v


def validate_angle(deg) -> float:
    """A yaw in degrees within [-180, 180]."""
    a = _finite("angle", deg)
    if not -180.0 <= a <= 180.0:
        raise AgentError(f"angle {a:g} is out of range: give degrees within [-180, 180]")
    return a


def validate_offsets(dx=0.0, dy=0.0, dz=0.0, dyaw=0.0) -> tuple[float, float, float, float]:
    """Offsets in meters (dx, dy, dz) and degrees (dyaw), each finite and not absurdly large."""
    vals = {"dx": dx, "dy": dy, "dz": dz, "dyaw": dyaw}
    out = []
    for k, v in vals.items():
        f = _finite(k, v)
        if abs(f) > MAX_OFFSET[k]:
            unit = "degrees" if k == "dyaw" else "m"
            raise AgentError(
                f"{k} = {f:g} is out of range (at most {MAX_OFFSET[k]:g} {unit} either way)"
            )
        out.append(f)
    return tuple(out)


def validate_pose(name: str, pose) -> tuple[float, float, float, float]:
    """An (x, y, z, yaw radians) pose inside the robot's workspace."""
    try:
        vals = [float(p) for p in pose]
    except (TypeError, ValueError):
        raise AgentError(f"{name} pose must be 4 numbers (x, y, z, yaw), got {pose!r}") from None
    if len(vals) != 4 or not all(map(math.isfinite, vals)):
        raise AgentError(f"{name} pose must be 4 finite numbers (x, y, z, yaw), got {pose!r}")
    for i, axis in enumerate("xyz"):
        if not POSE_LOW[i] <= vals[i] <= POSE_HIGH[i]:
            raise AgentError(
                f"{name} pose {axis} = {vals[i]:.3f} m is outside the workspace [{POSE_LOW[i]}, {POSE_HIGH[i]}]"
            )
    if not -math.pi - 1e-9 <= vals[3] <= math.pi + 1e-9:
        raise AgentError(f"{name} pose yaw {vals[3]:.3f} rad is outside [-pi, pi]")
    return tuple(vals)


def clip_to_workspace(pose) -> tuple[float, float, float, float]:
    """A predicted pose brought inside the workspace bounds (predictions are stored as
    made, only clipped; corrected poses are validated instead)."""
    x, y, z, yaw = (float(v) if math.isfinite(float(v)) else 0.0 for v in pose)
    return (
        min(max(x, POSE_LOW[0]), POSE_HIGH[0]),
        min(max(y, POSE_LOW[1]), POSE_HIGH[1]),
        min(max(z, POSE_LOW[2]), POSE_HIGH[2]),
        math.remainder(yaw, 2 * math.pi),
    )
