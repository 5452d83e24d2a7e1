"""`PoseNet`: a small affordance FCN conditioned on the instruction by FiLM.

Input: the cropped top-camera image as 8 channels (RGB, surface height from depth, two
edge-orientation channels and two coordinate channels) and the instruction's embedding. Two stride-2 convolutions come
first (the image is rendered fine enough to show a block's yaw; the work is done
coarser), then a U-Net whose blocks are FiLM-modulated (a per-channel scale and shift
computed from the instruction, as in CLIPort's language conditioning). On a grid of
4-pixel cells it produces two maps of 4 channels:

    0        heat: logit that the key point lies in this cell (softmax over cells)
    1, 2     sub-cell offset (x, y) through a sigmoid
    3        height of the key point above the surface seen there, decimeters

The heat also gets a text-image match term, CLIP-style: the dot product of a per-cell key
with a query computed from the instruction's embedding, a direct path from "the green
pad" to the cells that show it (the keys see shallow per-cell features too: the cell's
mean colour, height and edges). With `role_queries` the pick's query also reads the
embedding's "what to act on" part alone and the place's its "where to" part alone (`embed`): "put the red cube left of the green
bowl" names two colours, and the pick should not have to learn from data which one is
its own.

The place map is conditioned on the pick: the decoder feature at the pick cell (the true
one while training, the predicted one at inference) is broadcast over the image, so the
place branch knows which object is held.

Yaw is read from full-resolution patches, as Transporter reads rotations from crops: a
small FiLM CNN gives yaw bins (modulo 90 degrees) for the patch around the pick (the
grasp yaw) and for the patch around the place. The turn (place yaw minus grasp yaw) is
a mixture, weighted by a gate computed from the instruction, of two distributions: the
circular cross-correlation of the two patches' yaw distributions (turn to match what is
there: align's outline) and bins read from the instruction alone (rotate by an angle;
zero for a plain place).

Import this module only where torch is wanted (it imports torch at the top).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agent.policy.geometry import ROT_BINS, ImageSpec, height_map

HEAT, OFF_X, OFF_Y, HEIGHT = 0, 1, 2, 3
MAP_CHANNELS = 4
IN_CHANNELS = 8
PATCH = 24  # pixels (about 11 cm): a block with its neighbourhood, an outline
PATCH_CHANNELS = 6  # RGB, height, edge orientation
MATCH_DIM = 32


class Outputs(NamedTuple):
    """What `PoseNet` returns.

    Attributes:
        pick, place: (B, 4, rows, cols) maps (heat, offset x, offset y, height).
        pick_rot: (B, bins) grasp-yaw logits.
        turn: (B, bins) logits of the turn (place yaw minus grasp yaw).
    """

    pick: torch.Tensor
    place: torch.Tensor
    pick_rot: torch.Tensor
    turn: torch.Tensor


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of a `PoseNet` (stored in checkpoints).

    Attributes:
        text_dim: size of the instruction embedding (3 x 384 for MiniLM, see `embed`).
        film_dim: size of the projected instruction fed to the FiLM layers.
        channels: feature channels at strides 4, 8 and 16 of the input.
        stride: pixels per output cell (fixed by the two stride-2 stem convolutions).
        rot_bins: number of yaw bins.
        role_queries: the match queries also read the embedding's role parts (see the
            module docstring); off by default (the families' figures were measured
            without it), on with `policy goals train --role-queries`.
    """

    text_dim: int = 1152
    film_dim: int = 64
    channels: tuple[int, int, int] = (24, 48, 64)
    rot_bins: int = ROT_BINS
    stride: int = 4
    role_queries: bool = False

    def to_dict(self) -> dict:
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        return cls(
            int(d["text_dim"]),
            int(d["film_dim"]),
            tuple(int(c) for c in d["channels"]),
            int(d["rot_bins"]),
            int(d.get("stride", 4)),
            bool(d.get("role_queries", False)),
        )


class FiLMBlock(nn.Module):
    """Two 3x3 convolutions; the second's output is group-normalised, then scaled and
    shifted per channel by the instruction (FiLM)."""

    def __init__(self, c_in: int, c_out: int, film_dim: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.norm = nn.GroupNorm(4, c_out)
        self.film = nn.Linear(film_dim, 2 * c_out)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        gamma, beta = self.film(z).chunk(2, dim=-1)
        return F.relu(
            self.norm(self.conv2(x)) * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]
        )


class PatchNet(nn.Module):
    """Yaw-bin logits from image patches and the instruction."""

    def __init__(self, c_in: int, film_dim: int, bins: int, width: int = 32) -> None:
        super().__init__()
        self.direct = nn.Linear(2, bins)
        r = torch.arange(PATCH, dtype=torch.float32) - (PATCH - 1) / 2
        window = torch.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * (PATCH / 5) ** 2))
        self.register_buffer("window", window / window.sum(), persistent=False)
        self.conv1 = nn.Conv2d(c_in, 16, 3, 1, 1)
        self.block = FiLMBlock(16, width, film_dim, stride=2)
        self.conv3 = nn.Conv2d(width, width, 3, 2, 1)
        self.fc1 = nn.Linear(width * (PATCH // 4) ** 2, 64)
        self.fc2 = nn.Linear(64, bins)

    def forward(self, patch: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        # Direct path: the edge orientation (channels 4, 5) pooled around the patch centre,
        # normalised; a linear map of it is already a von Mises-like yaw distribution.
        o = (patch[:, 4:6] * self.window).sum((2, 3))
        o = o / (o.norm(dim=1, keepdim=True) + 1e-3)
        h = self.block(F.relu(self.conv1(patch)), z)
        h = F.relu(self.conv3(h)).flatten(1)
        return self.fc2(F.relu(self.fc1(h))) + self.direct(o)


def patches(x: torch.Tensor, cells: torch.Tensor, cols: int, stride: int) -> torch.Tensor:
    """(B, PATCH_CHANNELS, PATCH, PATCH) crops of the input centred on grid cells."""
    half = PATCH // 2
    padded = F.pad(x[:, :PATCH_CHANNELS], (half, half, half, half))
    rows = (cells // cols) * stride + stride // 2
    cs = (cells % cols) * stride + stride // 2
    return torch.stack(
        [
            padded[b, :, r : r + PATCH, c : c + PATCH]
            for b, (r, c) in enumerate(zip(rows.tolist(), cs.tolist(), strict=True))
        ]
    )


class PoseNet(nn.Module):
    """Pick and place maps and yaw bins from an image and an instruction embedding."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or ModelConfig()
        c1, c2, c3 = config.channels
        f = config.film_dim
        self.text = nn.Linear(config.text_dim, f)
        self.stem1 = nn.Conv2d(IN_CHANNELS, 16, 3, 2, 1)
        self.stem2 = nn.Conv2d(16, c1, 3, 2, 1)
        self.enc2 = FiLMBlock(c1, c2, f, stride=2)
        self.enc3 = FiLMBlock(c2, c3, f, stride=2)
        self.dec2 = FiLMBlock(c3 + c2, c2, f)
        self.dec1 = FiLMBlock(c2 + c1, c1, f)
        self.pick_head = nn.Conv2d(c1, MAP_CHANNELS, 1)
        self.pick_query = nn.Linear(c1, c1)
        self.place1 = FiLMBlock(c1, c1, f)
        self.place_head = nn.Conv2d(c1, MAP_CHANNELS, 1)
        d = MATCH_DIM
        self.cell_feats = nn.Sequential(
            nn.Conv2d(PATCH_CHANNELS, 32, 1), nn.ReLU(), nn.Conv2d(32, 32, 1), nn.ReLU()
        )
        self.pick_keys = nn.Conv2d(c1 + 32, d, 1)
        self.pick_text = nn.Linear(config.text_dim, d)
        self.place_keys = nn.Conv2d(c1 + 32, d, 1)
        self.place_text = nn.Linear(config.text_dim, d)
        part = config.text_dim // 3  # the embedding's thirds: whole, what, where to / how much
        if config.role_queries:
            self.pick_what = nn.Linear(part, d)
            self.place_where = nn.Linear(part, d)
        self.yaw = PatchNet(PATCH_CHANNELS, f, config.rot_bins)
        self.turn_text = nn.Linear(part, config.rot_bins)
        self.turn_gate = nn.Linear(part, 1)

    def forward(
        self,
        x: torch.Tensor,
        emb: torch.Tensor,
        pick_cell: torch.Tensor | None = None,
        place_cell: torch.Tensor | None = None,
    ) -> Outputs:
        """Maps and yaw logits for a batch.

        Args:
            x: (B, 8, H, W) input from `make_input`.
            emb: (B, text_dim) instruction embeddings.
            pick_cell, place_cell: (B,) flat cells to condition on (the labels while
                training); None uses the predicted ones (argmax of the heat).
        """
        z = F.relu(self.text(emb))
        x1 = F.relu(self.stem2(F.relu(self.stem1(x))))
        x2 = self.enc2(x1, z)
        x3 = self.enc3(x2, z)
        y = self.dec2(torch.cat([F.interpolate(x3, size=x2.shape[-2:]), x2], 1), z)
        y = self.dec1(torch.cat([F.interpolate(y, size=x1.shape[-2:]), x1], 1), z)
        # Shallow per-cell features (mean colour, height, edges of the cell) beside the deep ones.
        cells = self.cell_feats(F.avg_pool2d(x[:, :PATCH_CHANNELS], self.config.stride))
        pick_q, place_q = self._queries(emb)
        pick = self._with_match(self.pick_head(y), self.pick_keys(torch.cat([y, cells], 1)), pick_q)
        if pick_cell is None:
            pick_cell = pick[:, HEAT].flatten(1).argmax(1)
        feat = y.flatten(2)[torch.arange(y.shape[0]), :, pick_cell]
        yp = self.place1(y + self.pick_query(feat)[:, :, None, None], z)
        place = self._with_match(
            self.place_head(yp), self.place_keys(torch.cat([yp, cells], 1)), place_q
        )
        if place_cell is None:
            place_cell = place[:, HEAT].flatten(1).argmax(1)
        cols, s = y.shape[-1], self.config.stride
        b = x.shape[0]
        yaws = self.yaw(
            torch.cat([patches(x, pick_cell, cols, s), patches(x, place_cell, cols, s)]),
            torch.cat([z, z]),
        )
        pick_rot, place_yaw = yaws[:b], yaws[b:]
        return Outputs(pick, place, pick_rot, self._turn(pick_rot, place_yaw, emb))

    def _queries(self, emb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The pick's and the place's match queries from the instruction's embedding."""
        pick, place = self.pick_text(emb), self.place_text(emb)
        if self.config.role_queries:
            d = emb.shape[1] // 3
            pick = pick + self.pick_what(emb[:, d : 2 * d])
            place = place + self.place_where(emb[:, 2 * d :])
        return pick, place

    @staticmethod
    def _with_match(maps: torch.Tensor, keys: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """Add the text-image match (dot product of each cell's key with the instruction's
        query) to the heat channel: a direct path from "the green pad" to green-pad cells."""
        match = (keys * query[:, :, None, None]).sum(1, keepdim=True) / keys.shape[1] ** 0.5
        return torch.cat([maps[:, :1] + match, maps[:, 1:]], 1)

    def _turn(
        self, pick_rot: torch.Tensor, place_yaw: torch.Tensor, emb: torch.Tensor
    ) -> torch.Tensor:
        """Turn logits: gate * relative yaw + (1 - gate) * instructed turn, both linear
        read-outs of the instruction's "where to / how much" part (fastest to learn, and
        "by 45 degrees" and "with the blue outline" share no weights there)."""
        p_pick = F.softmax(pick_rot, 1)
        p_place = F.softmax(place_yaw, 1)
        k = p_pick.shape[1]
        # rel[t] = sum_j p_pick[j] * p_place[(j + t) mod k]
        idx = (torch.arange(k)[:, None] + torch.arange(k)[None, :]) % k  # [t, j] -> j + t
        # The grasp yaw has its own label: only the place patch learns from the turn here.
        rel = torch.einsum("bj,btj->bt", p_pick.detach(), p_place[:, idx])
        how = emb[:, 2 * (emb.shape[1] // 3) :]
        gate = torch.sigmoid(self.turn_gate(how))
        mix = gate * rel + (1 - gate) * F.softmax(self.turn_text(how), 1)
        return torch.log(mix + 1e-6)


def orientation_channels(img: torch.Tensor) -> torch.Tensor:
    """(B, 2, H, W) edge orientation modulo 90 degrees: sum over the channels of
    |g| (cos 4 phi, sin 4 phi), phi the direction of the image gradient g.

    A square's four edges all give the same 4 phi, so the sum over a block points at
    4 x its yaw: a block's yaw becomes a linear read-out (a structure-tensor-like
    feature), which the network would otherwise take many steps to discover.
    """
    k = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0
    c = img.shape[1]
    weight = torch.stack([k, k.t()])[:, None].repeat(c, 1, 1, 1)  # (2c, 1, 3, 3)
    g = F.conv2d(F.pad(img, (1, 1, 1, 1), mode="replicate"), weight, groups=c)
    gx, gy = g[:, 0::2], g[:, 1::2]
    mag2 = gx * gx + gy * gy
    c2, s2 = gx * gx - gy * gy, 2 * gx * gy  # |g|^2 (cos 2 phi, sin 2 phi)
    c4, s4 = c2 * c2 - s2 * s2, 2 * c2 * s2  # |g|^4 (cos 4 phi, sin 4 phi)
    scale = 1.0 / torch.sqrt(mag2 * mag2 + 1e-6) * torch.sqrt(mag2 + 1e-12)  # -> |g|
    return torch.stack([(c4 * scale).sum(1), (s4 * scale).sum(1)], 1) * 4.0


def make_input(
    rgb: torch.Tensor, height: torch.Tensor, orient: torch.Tensor | None = None
) -> torch.Tensor:
    """The network input (B, 8, H, W) from RGB (B, 3, H, W) uint8 and heights (B, H, W) in meters.

    Channels: RGB scaled to [-0.5, 0.5], surface height in decimeters, the two edge
    orientation channels (`orientation_channels`), and the pixel's column and row scaled
    to [-1, 1] (so the network knows where it looks). `orient` passes precomputed
    orientation channels (training sets keep them).
    """
    b, _, h, w = rgb.shape
    img = torch.cat([rgb.float() / 255.0 - 0.5, height.float()[:, None] * 10.0], 1)
    orient = orientation_channels(img) if orient is None else orient.float()
    cols = torch.linspace(-1, 1, w).expand(b, 1, h, w)
    rows = torch.linspace(-1, 1, h)[:, None].expand(b, 1, h, w)
    return torch.cat([img, orient, cols, rows], 1)


def to_input(
    spec: ImageSpec, rgb: np.ndarray, depth: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor]:
    """(rgb (N, 3, H, W) uint8, heights (N, H, W) float16) tensors for cropped RGB-D images."""
    rgb = np.asarray(rgb)
    depth = np.asarray(depth, dtype=np.float32)
    if rgb.ndim == 3:
        rgb, depth = rgb[None], depth[None]
    chw = torch.as_tensor(np.ascontiguousarray(rgb.transpose(0, 3, 1, 2)))
    return chw, torch.as_tensor(height_map(spec, depth)).half()


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
