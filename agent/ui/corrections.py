"""What the Corrections page needs from the policy: a queue of failed predictions.

The page shows a failed prediction's scene image with the predicted key poses drawn on
it; the person clicks the correct point(s) and sets the angle(s); the correction is
stored by the policy's own correction store, the same function `skillgrove policy
correct` uses. This module holds the small interface the page talks to
(`CorrectionQueue`) and `default_queue(home)`, which connects it to
`agent.policy.corrections` when that module is installed.

Positions on the page are pixels of the image the queue hands out (row, col; continuous,
origin at the top-left corner); angles are degrees, counter-clockwise as seen in the
image from its +col axis. The queue converts them to and from world poses.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class KeyPose:
    """A key pose as the page draws it: a pixel position and an angle in the image."""

    row: float
    col: float
    angle: float  # degrees


@dataclass(frozen=True)
class PendingPrediction:
    """A failed prediction waiting for a person's correction.

    Attributes:
        id: the queue's id of the prediction.
        instruction, family, seed: the task it failed on.
        primitive: "pick", "pick_place" or "push" (which key poses there are).
        diagnosis: what failed: "position", "orientation" or "" when unknown.
        detail: a line about the failure (errors, checks), shown as is.
        width, height: size of the image in pixels.
        pick: the predicted first key pose (grasp, or where a push starts).
        place: the predicted second key pose; None for a pick.
        created: when the prediction was made (seconds since the epoch).
    """

    id: str
    instruction: str
    family: str
    seed: int
    primitive: str
    diagnosis: str
    detail: str
    width: int
    height: int
    pick: KeyPose
    place: KeyPose | None
    created: float = 0.0


@dataclass(frozen=True)
class StoredCorrection:
    """A correction as the page lists it."""

    id: str
    prediction_id: str
    instruction: str
    family: str
    created: float
    summary: str


@runtime_checkable
class CorrectionQueue(Protocol):
    """Failed predictions waiting for correction, and the store of corrections."""

    def pending(self, limit: int = 50, offset: int = 0) -> list[PendingPrediction]:
        """Waiting predictions, oldest first."""
        ...

    def count(self) -> int:
        """How many predictions are waiting."""
        ...

    def get(self, prediction_id: str) -> PendingPrediction:
        """One waiting prediction; KeyError when there is none with this id."""
        ...

    def image(self, prediction_id: str) -> np.ndarray:
        """The scene image the policy saw: (height, width, 3) uint8 RGB."""
        ...

    def correct(self, prediction_id: str, pick: KeyPose, place: KeyPose | None) -> StoredCorrection:
        """Store the person's correction (as `skillgrove policy correct` does) and dequeue it.

        Raises:
            KeyError: no waiting prediction with this id.
            ValueError: a pose outside the image or not usable.
        """
        ...

    def recent(self, limit: int = 20) -> list[StoredCorrection]:
        """The latest stored corrections, newest first."""
        ...


def png_bytes(rgb: np.ndarray) -> bytes:
    """An RGB image as PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))).save(buf, format="PNG")
    return buf.getvalue()


def default_queue(home: Path) -> tuple[CorrectionQueue | None, str | None]:
    """The policy's correction queue for a data home, or (None, why not)."""
    try:
        import agent.policy.corrections  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name not in ("agent.policy.corrections", "agent.policy"):
            raise
        return None, ("The pose policy's correction store (agent.policy.corrections) is not installed: "
                      "the Corrections page has nothing to show.")  # fmt: skip
    return None, "The policy's correction store has no queue adapter yet."


# -- between the page's pixels and the policy's world poses ---------------------------------
def key_from_pose(spec, pose, arm: float = 0.03) -> KeyPose:
    """Where a world pose (x, y, z, yaw in radians) appears in the policy's cropped image.

    The angle is the direction, in the image, of a point `arm` meters from the pose along
    its yaw, so it is right whichever way the camera is turned or mirrored.

    Args:
        spec: the policy's `agent.policy.geometry.ImageSpec`.
    """
    from agent.policy.geometry import point_to_pixel

    x, y, z, yaw = (float(v) for v in pose[:4])
    at = point_to_pixel(spec, (x, y, z))
    tip = point_to_pixel(spec, (x + arm * np.cos(yaw), y + arm * np.sin(yaw), z))
    angle = np.degrees(np.arctan2(-(tip.row - at.row), tip.col - at.col))
    return KeyPose(at.row, at.col, float(angle))


def pose_from_key(
    spec, key: KeyPose, z: float, arm_px: float = 4.0
) -> tuple[float, float, float, float]:
    """The world pose (x, y, z, yaw in radians) at height `z` under a key drawn on the image."""
    from agent.policy.geometry import pixel_to_point

    a = np.radians(key.angle)
    p = pixel_to_point(spec, key.row, key.col, z)
    q = pixel_to_point(spec, key.row - arm_px * np.sin(a), key.col + arm_px * np.cos(a), z)
    yaw = float(np.arctan2(q[1] - p[1], q[0] - p[0]))
    return float(p[0]), float(p[1]), float(z), yaw


def surface_z(spec, depth: np.ndarray, row: float, col: float) -> float:
    """Height of the surface seen at a pixel of the cropped depth image (median of 3x3)."""
    from agent.policy.geometry import height_map, surface_height

    return surface_height(height_map(spec, depth), row, col)
