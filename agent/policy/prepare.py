"""Training tensors from samples: network inputs, instruction embeddings and grid labels.

`prepare` turns `Samples` (images + 3D poses) into a `Prepared` set of tensors once; the
loop draws `Batch`es from it. Labels follow `geometry`: the 3D key point is projected
into the image, its grid cell and sub-cell offset are the position label, its height
above the surface seen there (from depth) the height label, its yaw modulo 90 degrees
the rotation label (for the place: the turn, place yaw minus grasp yaw).

Imports torch at the top: import it where training happens.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

from agent.policy.data import Samples
from agent.policy.geometry import ImageSpec, point_to_pixel, push_key, surface_height, yaw_mod
from agent.policy.model import make_input, orientation_channels, to_input


@dataclass(frozen=True)
class Batch:
    """Tensors for one step (B rows). Positions are grid cells plus offsets in [0, 1).

    Attributes:
        x: (B, 6, H, W) network input.
        emb: (B, D) instruction embeddings.
        pick_cell, place_cell: (B,) long flat cell indices.
        pick_off, place_off: (B, 2) sub-cell offsets (x, y).
        pick_h, place_h: (B,) height above the seen surface, decimeters.
        pick_rot, place_rot: (B,) grasp yaw and turn modulo 90 degrees, radians.
        rot_w: (B,) 1 where the yaw labels mean something, 0 for a round object
            (a cylinder's grasp yaw is arbitrary) and for a push.
        has_place: (B,) bool; False rows have no place label (a pick-only action).
        task: (B,) long index of the experience each row came from.
        frame: (B,) long: how the row's label depends on the world frame (`frame_of`): 0 not
            at all, 1 by direction (left of, behind...: no table turn keeps it), 2 by
            place on the table (left side, front...: no turn nor shift keeps it).
        index: (B,) long row index in the `Prepared` set it was drawn from.
    """

    x: torch.Tensor
    emb: torch.Tensor
    pick_cell: torch.Tensor
    pick_off: torch.Tensor
    pick_h: torch.Tensor
    pick_rot: torch.Tensor
    place_cell: torch.Tensor
    place_off: torch.Tensor
    place_h: torch.Tensor
    place_rot: torch.Tensor
    rot_w: torch.Tensor
    has_place: torch.Tensor
    task: torch.Tensor
    frame: torch.Tensor
    index: torch.Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @staticmethod
    def cat(parts: list[Batch]) -> Batch:
        """Rows of several batches, in order."""
        return Batch(
            **{f.name: torch.cat([getattr(p, f.name) for p in parts]) for f in fields(Batch)}
        )


@dataclass(frozen=True)
class Prepared:
    """A whole training set as tensors: images as uint8 RGB, float16 heights and
    orientation channels (compact); `batch` builds the float network input."""

    rgb: torch.Tensor
    height: torch.Tensor
    orient: torch.Tensor
    emb: torch.Tensor
    pick_cell: torch.Tensor
    pick_off: torch.Tensor
    pick_h: torch.Tensor
    pick_rot: torch.Tensor
    place_cell: torch.Tensor
    place_off: torch.Tensor
    place_h: torch.Tensor
    place_rot: torch.Tensor
    rot_w: torch.Tensor
    has_place: torch.Tensor
    task: torch.Tensor
    frame: torch.Tensor

    def __len__(self) -> int:
        return int(self.rgb.shape[0])

    def batch(self, idx) -> Batch:
        """The rows at `idx` as a `Batch` (float32 inputs)."""
        idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
        vals = {f.name: getattr(self, f.name)[idx] for f in fields(self)}
        x = make_input(vals.pop("rgb"), vals.pop("height"), vals.pop("orient"))
        return Batch(x=x, **vals, index=idx)

    def sample(self, n: int, gen: torch.Generator) -> Batch:
        """`n` random rows (with replacement when n exceeds the set)."""
        if n <= len(self):
            idx = torch.randperm(len(self), generator=gen)[:n]
        else:
            idx = torch.randint(len(self), (n,), generator=gen)
        return self.batch(idx)

    def take(self, idx) -> Prepared:
        idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
        return Prepared(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    @staticmethod
    def cat(parts: list[Prepared]) -> Prepared:
        """Rows of several sets, in order."""
        return Prepared(
            **{f.name: torch.cat([getattr(p, f.name) for p in parts]) for f in fields(Prepared)}
        )


def key_label(spec: ImageSpec, heights: np.ndarray, pose) -> tuple[int, tuple[float, float], float]:
    """(cell, offset, height above the seen surface in dm) of a 3D key pose."""
    lab = point_to_pixel(spec, pose[:3])
    h = surface_height(heights, lab.row, lab.col)
    return lab.cell, lab.offset, (float(pose[2]) - h) * 10.0


def prepare(samples: Samples, spec: ImageSpec, encoder, task: int = 0) -> Prepared:
    """Tensors and labels for `samples`, all tagged with experience index `task`."""
    n = len(samples)
    rgb, height = to_input(spec, samples.rgb, samples.depth)
    heights = height.float().numpy()
    img = torch.cat([rgb.float() / 255.0 - 0.5, height.float()[:, None] * 10.0], 1)
    orient = torch.cat([orientation_channels(img[i : i + 64]) for i in range(0, n, 64)]).half()
    emb = encoder(list(samples.instruction))
    cols = {k: np.zeros(n, np.float32) for k in ("pick_h", "pick_rot", "place_h", "place_rot")}
    cells = {k: np.zeros(n, np.int64) for k in ("pick_cell", "place_cell")}
    offs = {k: np.zeros((n, 2), np.float32) for k in ("pick_off", "place_off")}
    has_place = samples.has_place
    for i in range(n):
        first = samples.pick[i]
        if samples.primitive[i] == "push":  # learnt by the object pushed (geometry docstring)
            first = push_key(spec, first, samples.place[i])
        cells["pick_cell"][i], offs["pick_off"][i], cols["pick_h"][i] = key_label(
            spec, heights[i], first
        )
        cols["pick_rot"][i] = yaw_mod(samples.pick[i, 3])
        if has_place[i]:
            c, o, h = key_label(spec, heights[i], samples.place[i])
            cells["place_cell"][i], offs["place_off"][i], cols["place_h"][i] = c, o, h
            cols["place_rot"][i] = yaw_mod(samples.place[i, 3] - samples.pick[i, 3])
    t = torch.as_tensor
    return Prepared(
        rgb=rgb,
        height=height,
        orient=orient,
        emb=t(emb),
        **{k: t(v) for k, v in cells.items()},
        **{k: t(v) for k, v in offs.items()},
        **{k: t(v) for k, v in cols.items()},
        has_place=t(has_place),
        rot_w=t(((samples.symmetry > 0) & (samples.primitive != "push")).astype(np.float32)),
        task=torch.full((n,), task, dtype=torch.long),
        frame=t(np.array([frame_of(str(f)) for f in samples.family], np.int64)),
    )


def frame_of(relation: str) -> int:
    """0: the label does not depend on the world frame; 1: by direction; 2: by place.

    What a row's relation says about the world frame, read from the goal language's own
    tables: a direction ("left of the bowl" is a side of the bowl as the front camera sees
    it) survives a shift of the whole table but not a turn; a place on the table ("the
    left side") survives neither. A relation between objects only (on, in, next to, far
    from, between, a turn) and every family survive both.
    """
    from sim.goals.predicates.directions import DIRECTIONS
    from sim.goals.predicates.regions import REGIONS

    return 2 if relation in REGIONS else 1 if relation in DIRECTIONS else 0
