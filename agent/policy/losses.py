"""Losses on the pick and place maps, per sample, and a differentiable soft pose.

`pose_loss` is the supervised loss (cross-entropy over cells for the position, L1 on
the sub-cell offset and the height, cross-entropy against a circular soft target for
the yaw bins). `soft_position` and `soft_direction` read outputs as an expected position
(cells) and an expected yaw direction; distillation (LwF) compares two models through
them: L2 on the position and the geodesic distance on the yaw.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from agent.policy.geometry import ROT_PERIOD
from agent.policy.model import HEAT, HEIGHT, OFF_X, OFF_Y, Outputs
from agent.policy.prepare import Batch

ROT_WEIGHT = 0.5
OFFSET_WEIGHT = 1.0
HEIGHT_WEIGHT = 1.0


def at_cells(maps: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """(B, C) channel vectors of (B, C, rows, cols) maps at flat cells (B,)."""
    return maps.flatten(2)[torch.arange(maps.shape[0]), :, cells]


def rot_target(rot: torch.Tensor, bins: int, sigma: float = 0.75) -> torch.Tensor:
    """(B, bins) circular Gaussian targets (sigma in bins) around yaws in [0, ROT_PERIOD)."""
    centers = torch.arange(bins, dtype=torch.float32) * (ROT_PERIOD / bins)
    d = (rot[:, None] - centers[None]) % ROT_PERIOD
    d = torch.minimum(d, ROT_PERIOD - d) / (ROT_PERIOD / bins)
    w = torch.exp(-0.5 * (d / sigma) ** 2)
    return w / w.sum(1, keepdim=True)


def rot_loss(logits: torch.Tensor, rot: torch.Tensor) -> torch.Tensor:
    """(B,) cross-entropy of yaw-bin logits against circular soft targets."""
    logp = F.log_softmax(logits, dim=1)
    return -(rot_target(rot, logp.shape[1]) * logp).sum(1)


def key_loss(maps: torch.Tensor, cell, off, h) -> torch.Tensor:
    """Per-sample position loss of one key point's map: heat, offset and height."""
    heat = F.cross_entropy(maps[:, HEAT].flatten(1), cell, reduction="none")
    v = at_cells(maps, cell)
    off_l = (torch.sigmoid(v[:, [OFF_X, OFF_Y]]) - off).abs().sum(1)
    h_l = F.smooth_l1_loss(v[:, HEIGHT], h, reduction="none", beta=0.1)
    return heat + OFFSET_WEIGHT * off_l + HEIGHT_WEIGHT * h_l


def pose_loss(out: Outputs, batch: Batch) -> torch.Tensor:
    """(B,) supervised loss: pick terms, plus place terms where the action has a place."""
    pick = key_loss(out.pick, batch.pick_cell, batch.pick_off, batch.pick_h)
    pick = pick + ROT_WEIGHT * batch.rot_w * rot_loss(out.pick_rot, batch.pick_rot)
    place = key_loss(out.place, batch.place_cell, batch.place_off, batch.place_h)
    place = place + ROT_WEIGHT * batch.rot_w * rot_loss(out.turn, batch.place_rot)
    return pick + place * batch.has_place.float()


def forward(model, batch: Batch, teacher_forcing: bool = True) -> Outputs:
    """Model outputs for a batch; with teacher forcing, conditioned on the true cells."""
    if teacher_forcing:
        return model(batch.x, batch.emb, batch.pick_cell, batch.place_cell)
    return model(batch.x, batch.emb)


def soft_position(maps: torch.Tensor) -> torch.Tensor:
    """(B, 2) expected key point in cell units under the heat's softmax."""
    _, _, rows, cols = maps.shape
    p = F.softmax(maps[:, HEAT].flatten(1), dim=1)
    gy, gx = torch.meshgrid(
        torch.arange(rows, dtype=maps.dtype), torch.arange(cols, dtype=maps.dtype), indexing="ij"
    )
    off = torch.sigmoid(maps[:, [OFF_X, OFF_Y]]).flatten(2)
    return torch.stack(
        [
            (p * (gx.flatten()[None] + off[:, 0])).sum(1),
            (p * (gy.flatten()[None] + off[:, 1])).sum(1),
        ],
        1,
    )


def soft_direction(logits: torch.Tensor) -> torch.Tensor:
    """(B, 2) expected (cos, sin) of 4 x yaw under the yaw-bin softmax (one turn per 90 degrees)."""
    q = F.softmax(logits, dim=1)
    ang = torch.arange(q.shape[1], dtype=logits.dtype) * (2 * math.pi / q.shape[1])
    return torch.stack([(q * torch.cos(ang)).sum(1), (q * torch.sin(ang)).sum(1)], 1)


def geodesic(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """(B,) yaw distance in radians between two directions from `soft_direction`."""
    cross = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
    dot = (u * v).sum(1)
    return torch.atan2(cross, dot + 1e-8).abs() * (ROT_PERIOD / (2 * math.pi))


def distill_loss(
    new: Outputs, old: Outputs, has_place: torch.Tensor, rot_weight: float = 10.0
) -> torch.Tensor:
    """(B,) LwF-style distance of two models' outputs: squared L2 on the expected
    positions (cells) plus squared geodesic distance on the yaws (radians, weighted)."""
    pick = ((soft_position(new.pick) - soft_position(old.pick)) ** 2).sum(1)
    pick = (
        pick
        + rot_weight * geodesic(soft_direction(new.pick_rot), soft_direction(old.pick_rot)) ** 2
    )
    place = ((soft_position(new.place) - soft_position(old.place)) ** 2).sum(1)
    place = place + rot_weight * geodesic(soft_direction(new.turn), soft_direction(old.turn)) ** 2
    return pick + place * has_place.float()
