"""SE(2) data augmentation: the same table, turned about the camera's axis and shifted.

The top camera looks straight down, so turning the whole scene by an angle about the
camera's optical axis turns the image by that angle about the principal point, and
shifting the scene (a little) shifts the image. `Augment` draws one such transform per
row of a batch and applies it to everything the row holds:

- the image channels (RGB, surface height) are warped (nearest neighbour: rendered images
  are not anti-aliased, so the warp keeps their statistics), with the table's colour
  filling what comes in from outside; the edge-orientation channels are recomputed;
- the pick and place key points (grid cell + sub-cell offset) move with their pixels;
- the grasp yaw turns with the scene; the turn (place yaw minus grasp yaw) and the heights
  above the surface do not change;
- a row whose label depends on the world frame is not turned ("left of the bowl": a turned
  table would put the answer on another side) and, for a place on the table ("the left
  side"), not shifted either (`prepare.frame_of`). Goal-template rows need this; the
  families' labels are relative to objects only.

A row whose key points would leave the image keeps its original view. This is how
Transporter networks learn from tens of demonstrations; here it lets a policy learn a new
task from a few rounds of corrections. The transform in image coordinates is derived from
the camera model (`ImageSpec.cam`), so there is no handedness to get wrong: a world
rotation R maps to A R A^-1 in pixels, A the camera's map from table (x, y) to pixels.

Imports torch at the top: import it where training happens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F

from agent.policy.geometry import ROT_PERIOD, ImageSpec
from agent.policy.model import orientation_channels
from agent.policy.prepare import Batch

IMAGE_CHANNELS = 4  # RGB + height are warped; orientation channels are recomputed from them
ORIENT = slice(4, 6)


@dataclass(frozen=True)
class Augment:
    """Random rotations (about the camera's axis) and shifts of training rows.

    Attributes:
        spec: the policy's view (camera, crop, stride).
        max_rot: largest rotation, radians (pi: any angle).
        max_shift: largest shift along each image axis, pixels.
        prob: share of rows that are transformed (the others stay as rendered).
    """

    spec: ImageSpec
    max_rot: float = math.pi
    max_shift: float = 12.0
    prob: float = 0.8

    def __post_init__(self) -> None:
        ok = all(math.isfinite(v) for v in (self.max_rot, self.max_shift, self.prob))
        if not ok or self.max_rot < 0 or self.max_shift < 0 or not 0.0 <= self.prob <= 1.0:
            raise ValueError("augment: max_rot and max_shift must be >= 0 and prob in [0, 1]")

    def camera_map(self) -> tuple[np.ndarray, np.ndarray]:
        """(A, c): the 2x2 map from table (x, y) to cropped (col, row) pixels near the
        image center, and the principal point c in cropped (col, row) coordinates."""
        return self._camera

    @cached_property
    def _camera(self) -> tuple[np.ndarray, np.ndarray]:
        # computed once per Augment (fixed by the spec), not at every training step
        cam = self.spec.cam()
        r0, _, c0, _ = self.spec.crop
        k = cam.intrinsics
        center = np.array([k[0, 2] - c0, k[1, 2] - r0])
        p = cam.pixel_to_table(k[0, 2], k[1, 2], table_z=0.0)
        base = np.array(cam.project(p)[:2])
        a = np.stack(
            [np.array(cam.project(p + d)[:2]) - base for d in ([0.01, 0, 0], [0, 0.01, 0])], 1
        )
        return a / 0.01, center

    def draw(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(theta (n,), M (n, 2, 2) pixel rotations, t (n, 2) pixel shifts) for n rows;
        rows left as they are get theta 0 and t 0."""
        u = torch.rand(n, 4, generator=gen, dtype=torch.float64)
        keep = u[:, 0] < self.prob
        theta = (u[:, 1] * 2 - 1) * self.max_rot * keep
        t = (u[:, 2:] * 2 - 1) * self.max_shift * keep[:, None]
        return theta, self.pixel_rotations(theta), t

    def pixel_rotations(self, theta: torch.Tensor) -> torch.Tensor:
        """(n, 2, 2) maps of (col, row) offsets from the principal point for world yaw turns."""
        a = torch.as_tensor(self._camera[0], dtype=torch.float64)
        c, s = torch.cos(theta), torch.sin(theta)
        rot = torch.stack([torch.stack([c, -s], 1), torch.stack([s, c], 1)], 1)
        return a @ rot @ torch.linalg.inv(a)

    def __call__(self, batch: Batch, gen: torch.Generator) -> Batch:
        """A copy of `batch` with each row transformed by a random table turn and shift,
        as far as its label allows (`Batch.frame`: a direction is not turned, a place on
        the table neither turned nor shifted)."""
        theta, _, t = self.draw(len(batch), gen)
        frame = batch.frame.to(theta.device)
        theta = theta * (frame == 0)
        t = t * (frame < 2)[:, None]
        return self.apply(batch, theta, self.pixel_rotations(theta), t)

    def apply(self, batch: Batch, theta: torch.Tensor, m: torch.Tensor, t: torch.Tensor) -> Batch:
        """`batch` transformed row by row (see `draw` for the arguments)."""
        center = torch.as_tensor(self._camera[1], dtype=torch.float64)
        s = self.spec.stride
        rows, cols = self.spec.grid
        h, w = self.spec.shape

        def moved(cell: torch.Tensor, off: torch.Tensor) -> torch.Tensor:
            pix = (
                torch.stack(
                    [(cell % cols) + off[:, 0].double(), (cell // cols) + off[:, 1].double()], 1
                )
                * s
            )
            return torch.einsum("nij,nj->ni", m, pix - center) + center + t

        new_pick = moved(batch.pick_cell, batch.pick_off)
        new_place = moved(batch.place_cell, batch.place_off)
        margin = 0.5

        def inside(p: torch.Tensor) -> torch.Tensor:
            return (
                (p[:, 0] >= margin)
                & (p[:, 0] < w - margin)
                & (p[:, 1] >= margin)
                & (p[:, 1] < h - margin)
            )

        ok = inside(new_pick) & (inside(new_place) | ~batch.has_place)
        ok &= (theta != 0) | (t != 0).any(1)
        if not bool(ok.any()):
            return batch
        theta, m, t = theta[ok], m[ok], t[ok]
        x = batch.x.clone()
        x[ok] = self.warp(batch.x[ok], m, t, center)

        def cells(p: torch.Tensor, old_cell, old_off):
            gc = torch.clamp(torch.floor(p[:, 0] / s), 0, cols - 1)
            gr = torch.clamp(torch.floor(p[:, 1] / s), 0, rows - 1)
            cell, off = old_cell.clone(), old_off.clone()
            cell[ok] = (gr * cols + gc).long()
            off[ok] = torch.stack([p[:, 0] / s - gc, p[:, 1] / s - gr], 1).to(off.dtype)
            return cell, off

        pick_cell, pick_off = cells(new_pick[ok], batch.pick_cell, batch.pick_off)
        place_cell, place_off = cells(new_place[ok], batch.place_cell, batch.place_off)
        place_cell = torch.where(batch.has_place, place_cell, batch.place_cell)
        place_off = torch.where(batch.has_place[:, None], place_off, batch.place_off)
        pick_rot = batch.pick_rot.clone()
        pick_rot[ok] = torch.remainder(batch.pick_rot[ok].double() + theta, ROT_PERIOD).to(
            pick_rot.dtype
        )
        return replace(
            batch,
            x=x,
            pick_cell=pick_cell,
            pick_off=pick_off,
            place_cell=place_cell,
            place_off=place_off,
            pick_rot=pick_rot,
        )

    def warp(
        self, x: torch.Tensor, m: torch.Tensor, t: torch.Tensor, center: torch.Tensor
    ) -> torch.Tensor:
        """Rows of the network input with the image moved by p -> M (p - c) + c + t."""
        n, _, h, w = x.shape
        v, u = torch.meshgrid(
            torch.arange(h, dtype=torch.float64) + 0.5,
            torch.arange(w, dtype=torch.float64) + 0.5,
            indexing="ij",
        )
        q = torch.stack([u, v], -1).reshape(1, -1, 2) - center - t[:, None]
        src = torch.einsum("nij,nkj->nki", torch.linalg.inv(m), q) + center
        grid = torch.stack([src[..., 0] / w * 2 - 1, src[..., 1] / h * 2 - 1], -1).reshape(
            n, h, w, 2
        )
        img = x[:, :IMAGE_CHANNELS]
        # the table's colour and height come in from outside: replicate the border
        out = F.grid_sample(
            img, grid.to(img.dtype), mode="nearest", padding_mode="border", align_corners=False
        )
        y = x.clone()
        y[:, :IMAGE_CHANNELS] = out
        y[:, ORIENT] = orientation_channels(out)
        return y
