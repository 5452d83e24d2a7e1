"""What the policy sees and how its pixels map back to 3D.

The policy looks at the top camera's RGB-D image, rendered small and cropped to the
reachable workspace. It predicts on a grid of cells (`stride` pixels each) with a
sub-cell offset; a predicted point maps to 3D through the camera model of `sim.camera`:
the height of the surface under the pixel comes from the metric depth, the network adds a
learned height offset (grasp point above a block's top, place point above a surface),
and (x, y) is where the pixel's ray meets that height. A label is made the other way
round: the oracle's 3D point is projected into the image (`Camera.project`), so label and
prediction use the same ray and the same height.

A push is learnt by the object it moves: its first key point is not where the closed
fingers come down (on the bare table, behind the object, where the image says nothing of
the object's colour or shape) but `push_reach` further along the push, on the object
itself, so that the instruction's words match what is seen there as they do for a grasp.
`push_key` and `push_start` convert exactly both ways (the start is recovered from the
key and the push's end). A checkpoint saved before this stored no `push_reach`: if it
learnt pushes it reads as 0 (its key is the start), if not it takes the current value.

Yaw is predicted modulo 90 degrees, the symmetry of every graspable block (cubes) or
anything at all (cylinders): `ROT_BINS` bins over [0, 90) degrees, the grasp yaw
for the pick and the turn (place yaw minus grasp yaw) for the place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.camera import Camera

ROT_PERIOD = math.pi / 2  # yaw symmetry of cubes; cylinders accept any yaw
ROT_BINS = 18  # 5-degree bins; a soft circular mean reads between them


@dataclass(frozen=True)
class ImageSpec:
    """The policy's view: camera, render size, crop and output stride.

    Attributes:
        camera: name of a camera in `sim.camera.CAMERAS` (a fixed one).
        render: rendered image side in pixels (square).
        crop: (row0, row1, col0, col1) of the crop in the rendered image.
        stride: pixels per output cell.
        push_reach: meters from a push's start to its first key point, along the push
            (the fingers' 3.5 cm gap behind the object plus a block's radius, about 2 cm).
    """

    camera: str = "top"
    render: int = 160
    crop: tuple[int, int, int, int] = (32, 128, 8, 152)
    stride: int = 4
    push_reach: float = 0.055

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the cropped image."""
        r0, r1, c0, c1 = self.crop
        return r1 - r0, c1 - c0

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, cols) of the output cell grid."""
        h, w = self.shape
        return h // self.stride, w // self.stride

    def cam(self) -> Camera:
        """The camera model at the rendered size."""
        from sim.camera import CAMERAS

        return CAMERAS[self.camera].resized(self.render, self.render)

    def to_dict(self) -> dict:
        return {
            "camera": self.camera,
            "render": self.render,
            "crop": list(self.crop),
            "stride": self.stride,
            "push_reach": self.push_reach,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ImageSpec:
        return cls(
            str(d["camera"]),
            int(d["render"]),
            tuple(int(v) for v in d["crop"]),
            int(d["stride"]),
            float(d.get("push_reach", 0.0)),
        )


def observe(world, spec: ImageSpec) -> tuple[np.ndarray, np.ndarray]:
    """Render the policy's view from `world`: cropped RGB (uint8) and metric depth (float32).

    Renders with the world's own client and TinyRenderer, like `World.render`, but at the
    policy's size whatever size the world's cameras have.
    """
    cam = spec.cam()
    c = world.client
    _, _, rgba, depth, _ = c.getCameraImage(
        cam.width,
        cam.height,
        viewMatrix=cam.view_matrix(),
        projectionMatrix=cam.projection_matrix(),
        renderer=c.ER_TINY_RENDERER,
        shadow=0,
    )
    rgb = np.asarray(rgba, dtype=np.uint8).reshape(cam.height, cam.width, 4)[:, :, :3]
    buf = np.asarray(depth, dtype=np.float32).reshape(cam.height, cam.width)
    r0, r1, c0, c1 = spec.crop
    depth_m = cam.depth_from_buffer(buf)
    return np.ascontiguousarray(rgb[r0:r1, c0:c1]), np.ascontiguousarray(depth_m[r0:r1, c0:c1])


def height_map(spec: ImageSpec, depth: np.ndarray) -> np.ndarray:
    """World height z (meters) of the surface seen at each pixel of a cropped depth image."""
    cam = spec.cam()
    k = cam.intrinsics
    r0, _, c0, _ = spec.crop
    h, w = depth.shape[-2:]
    v, u = np.mgrid[r0 : r0 + h, c0 : c0 + w].astype(np.float64) + 0.5
    x = (u - k[0, 2]) / k[0, 0]
    y = (v - k[1, 2]) / k[1, 1]
    rot = cam.extrinsics[:3, :3]
    # z_world = eye_z + depth * (R[2,0] x + R[2,1] y + R[2,2])
    return (cam.eye[2] + depth * (rot[2, 0] * x + rot[2, 1] * y + rot[2, 2])).astype(np.float32)


def surface_height(heights: np.ndarray, row: float, col: float) -> float:
    """Median height in the 3x3 window around a (cropped) pixel: robust at object edges."""
    h, w = heights.shape
    r = int(np.clip(math.floor(row), 0, h - 1))
    c = int(np.clip(math.floor(col), 0, w - 1))
    win = heights[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]
    return float(np.median(win))


@dataclass(frozen=True)
class PixelLabel:
    """Where a 3D point lands on the output grid.

    Attributes:
        cell: flat index of the output cell (row * cols + col).
        offset: (dx, dy) of the point inside the cell, each in [0, 1).
        row, col: continuous pixel coordinates in the cropped image.
        inside: False if the point projected outside the crop (then clipped to it).
    """

    cell: int
    offset: tuple[float, float]
    row: float
    col: float
    inside: bool


def point_to_pixel(spec: ImageSpec, point) -> PixelLabel:
    """Project a world point into the cropped image and onto the output grid."""
    u, v, _ = spec.cam().project(point)
    r0, _, c0, _ = spec.crop
    h, w = spec.shape
    col, row = u - c0, v - r0
    inside = 0 <= col < w and 0 <= row < h
    col = float(np.clip(col, 0, w - 1e-3))
    row = float(np.clip(row, 0, h - 1e-3))
    return pixel_label(spec, row, col, inside)


def pixel_label(spec: ImageSpec, row: float, col: float, inside: bool = True) -> PixelLabel:
    """Grid cell and sub-cell offset of a continuous (cropped) pixel position."""
    s = spec.stride
    rows, cols = spec.grid
    gr = min(int(row // s), rows - 1)
    gc = min(int(col // s), cols - 1)
    return PixelLabel(gr * cols + gc, (col / s - gc, row / s - gr), row, col, inside)


def cell_to_pixel(spec: ImageSpec, cell: int, offset) -> tuple[float, float]:
    """(row, col) in the cropped image of a cell plus an offset in cell units."""
    _, cols = spec.grid
    gr, gc = divmod(int(cell), cols)
    s = spec.stride
    return (gr + float(offset[1])) * s, (gc + float(offset[0])) * s


def pixel_to_point(spec: ImageSpec, row: float, col: float, z: float) -> np.ndarray:
    """World point at height `z` on the ray through a (cropped) pixel."""
    r0, _, c0, _ = spec.crop
    return spec.cam().pixel_to_table(col + c0, row + r0, table_z=z)


def _along(point, toward, dist: float) -> tuple:
    """`point` moved `dist` meters in the table plane toward `toward` (z and yaw kept)."""
    p = np.asarray(point, dtype=float)
    d = np.asarray(toward, dtype=float)[:2] - p[:2]
    n = float(np.hypot(*d))
    if dist == 0.0 or n < 1e-9:
        return tuple(float(v) for v in p)
    q = p.copy()
    q[:2] += d / n * dist
    return tuple(float(v) for v in q)


def push_key(spec: ImageSpec, start, end) -> tuple:
    """The first key point of a push (on the object) from where the push starts."""
    return _along(start, end, spec.push_reach)


def push_start(spec: ImageSpec, key, end) -> tuple:
    """Where a push starts, from its first key point and its end (inverse of `push_key`)."""
    return _along(key, end, -spec.push_reach)


def yaw_mod(yaw: float) -> float:
    """A yaw folded into [0, ROT_PERIOD)."""
    return float(yaw % ROT_PERIOD)


def bin_centers() -> np.ndarray:
    """Yaw of each rotation bin's center, radians in [0, ROT_PERIOD)."""
    return np.arange(ROT_BINS) * (ROT_PERIOD / ROT_BINS)


def near_zero(a: float) -> float:
    """The representative of `a` modulo ROT_PERIOD in [-ROT_PERIOD/2, ROT_PERIOD/2)."""
    return float((a + ROT_PERIOD / 2) % ROT_PERIOD - ROT_PERIOD / 2)


def grasp_and_place_yaw(grasp_mod: float, turn: float) -> tuple[float, float]:
    """Gripper yaws for a grasp known modulo ROT_PERIOD and a turn of the held object.

    Chooses the representative that keeps both yaws near zero (the wrist's comfortable
    range), as `sim.poses.grasp_yaw` does for the oracle.
    """
    cands = [grasp_mod + k * ROT_PERIOD for k in range(-4, 5)]
    g = min(cands, key=lambda y: max(abs(y), abs(y + turn)))
    return float(g), float(g + turn)


def yaw_error(a: float, b: float, symmetry: float = ROT_PERIOD) -> float:
    """Geodesic distance (radians) between two yaws of an object with that symmetry (0: none)."""
    if symmetry <= 0:
        return 0.0
    d = (a - b) % symmetry
    return float(min(d, symmetry - d))
