"""Pinhole RGB-D cameras with known intrinsics and extrinsics.

A world point maps to a pixel (`Camera.project`), and a pixel maps back to the point on
a horizontal plane it sees (`Camera.pixel_to_table`): the policy predicts in pixels and
acts in meters through these two functions.

Conventions: u is the column (0 at the left), v the row (0 at the top); depth is the
distance along the camera's viewing axis (z in the camera frame), in meters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Camera:
    """A fixed camera looking at `target` from `eye`.

    Attributes:
        name: "front" or "top".
        eye: camera position in world coordinates.
        target: point the optical axis passes through.
        up: world direction that appears upward in the image.
        fov: vertical field of view in degrees.
        width, height: image size in pixels.
        near, far: clipping planes in meters.
    """

    name: str
    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float]
    fov: float = 45.0
    width: int = 128
    height: int = 128
    near: float = 0.05
    far: float = 4.0
    _rot: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fwd = np.subtract(self.target, self.eye).astype(float)
        fwd /= np.linalg.norm(fwd)
        right = np.cross(fwd, self.up)
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        # Columns: camera x (image right), camera y (image down), camera z (forward).
        object.__setattr__(self, "_rot", np.stack([right, down, fwd], axis=1))

    def resized(self, width: int, height: int) -> Camera:
        """The same camera with another image size."""
        return Camera(
            self.name, self.eye, self.target, self.up, self.fov, width, height, self.near, self.far
        )

    @property
    def intrinsics(self) -> np.ndarray:
        """3x3 matrix K: [u, v, 1]^T ~ K [x/z, y/z, 1]^T in the camera frame."""
        fy = (self.height / 2) / math.tan(math.radians(self.fov) / 2)
        return np.array([[fy, 0.0, self.width / 2], [0.0, fy, self.height / 2], [0.0, 0.0, 1.0]])

    @property
    def extrinsics(self) -> np.ndarray:
        """4x4 world-from-camera transform (camera axes: x right, y down, z forward)."""
        t = np.eye(4)
        t[:3, :3] = self._rot
        t[:3, 3] = self.eye
        return t

    def view_matrix(self) -> list[float]:
        """OpenGL view matrix in PyBullet's column-major list form."""
        import pybullet as p

        return p.computeViewMatrix(self.eye, self.target, self.up)

    def projection_matrix(self) -> list[float]:
        """OpenGL projection matrix in PyBullet's column-major list form."""
        import pybullet as p

        return p.computeProjectionMatrixFOV(self.fov, self.width / self.height, self.near, self.far)

    def depth_from_buffer(self, buffer: np.ndarray) -> np.ndarray:
        """Convert a [0, 1] OpenGL depth buffer into metric depth along the optical axis."""
        n, f = self.near, self.far
        return (f * n / (f - (f - n) * np.asarray(buffer, dtype=np.float64))).astype(np.float32)

    def project(self, point) -> tuple[float, float, float]:
        """(u, v, depth) of a world point."""
        c = self._rot.T @ (np.asarray(point, dtype=float) - np.asarray(self.eye))
        k = self.intrinsics
        return (k[0, 0] * c[0] / c[2] + k[0, 2], k[1, 1] * c[1] / c[2] + k[1, 2], float(c[2]))

    def pixel_to_table(self, u: float, v: float, table_z: float = 0.0) -> np.ndarray:
        """Where the ray through pixel (u, v) meets the horizontal plane z = table_z."""
        k = self.intrinsics
        ray = self._rot @ np.array([(u - k[0, 2]) / k[0, 0], (v - k[1, 2]) / k[1, 1], 1.0])
        s = (table_z - self.eye[2]) / ray[2]
        return np.asarray(self.eye) + s * ray


# The front camera stands across the table, facing the robot: image left is world -y,
# image right is world +y ("left to right" in instructions is as seen by this camera).
FRONT = Camera(
    "front", eye=(1.08, 0.0, 0.56), target=(0.5, 0.0, 0.02), up=(0.0, 0.0, 1.0), fov=45.0
)
# The top camera looks straight down at the workspace; image up is world +x.
TOP = Camera("top", eye=(0.52, 0.0, 0.95), target=(0.52, 0.0, 0.0), up=(1.0, 0.0, 0.0), fov=42.0)
CAMERAS = {"front": FRONT, "top": TOP}
