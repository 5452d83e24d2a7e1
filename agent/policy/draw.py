"""Draw predicted (and corrected) poses on the policy's image, for people correcting it.

The image is the cropped top-camera view enlarged `SCALE` times. A pose is a circle
(pick) or a square (place) at its pixel with a line along the gripper's finger-closing
direction; ticks with coordinates along the top and left edges help read a pixel.
Pixel coordinates typed back (`--pixel U V`) are in this enlarged PNG.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from agent.policy.geometry import ImageSpec

SCALE = 4
PICK_COLOR = (230, 40, 40)
PLACE_COLOR = (40, 90, 230)
FIX_COLOR = (30, 200, 60)


def pose_pixel(spec: ImageSpec, pose) -> tuple[float, float]:
    """(u, v) of a 3D pose in the enlarged PNG."""
    from agent.policy.geometry import point_to_pixel

    lab = point_to_pixel(spec, pose[:3])
    return lab.col * SCALE, lab.row * SCALE


def _yaw_dir(spec: ImageSpec, pose) -> tuple[float, float]:
    """Image direction (du, dv) of the finger-closing axis of a pose (yaw - 90 degrees)."""
    a = float(pose[3]) - math.pi / 2
    p0 = np.asarray(pose[:3], dtype=float)
    p1 = p0 + 0.03 * np.array([math.cos(a), math.sin(a), 0.0])
    u0, v0 = pose_pixel(spec, p0)
    u1, v1 = pose_pixel(spec, p1)
    n = math.hypot(u1 - u0, v1 - v0) or 1.0
    return (u1 - u0) / n, (v1 - v0) / n


def draw_poses(
    rgb: np.ndarray, spec: ImageSpec, poses: list[tuple[str, tuple, tuple]], path: Path
) -> Path:
    """Write the enlarged image with labelled poses.

    Args:
        rgb: the cropped image (H, W, 3).
        spec: its image spec.
        poses: (label, pose, color) triples; pose is (x, y, z, yaw).
        path: PNG to write.
    """
    from PIL import Image, ImageDraw

    h, w = rgb.shape[:2]
    img = Image.fromarray(np.asarray(rgb, dtype=np.uint8)).resize(
        (w * SCALE, h * SCALE), Image.NEAREST
    )
    d = ImageDraw.Draw(img)
    for u in range(0, w * SCALE, 10 * SCALE):
        d.line([(u, 0), (u, 4)], fill=(255, 255, 255))
        d.text((u + 1, 5), str(u), fill=(255, 255, 255))
    for v in range(0, h * SCALE, 10 * SCALE):
        d.line([(0, v), (4, v)], fill=(255, 255, 255))
        d.text((5, v + 1), str(v), fill=(255, 255, 255))
    for label, pose, color in poses:
        u, v = pose_pixel(spec, pose)
        du, dv = _yaw_dir(spec, pose)
        r = 7
        if label.startswith("place"):
            d.rectangle([u - r, v - r, u + r, v + r], outline=color, width=2)
        else:
            d.ellipse([u - r, v - r, u + r, v + r], outline=color, width=2)
        d.line([(u - 14 * du, v - 14 * dv), (u + 14 * du, v + 14 * dv)], fill=color, width=2)
        d.text((u + r + 2, v - r - 2), f"{label} {math.degrees(pose[3]):.0f}deg", fill=color)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
