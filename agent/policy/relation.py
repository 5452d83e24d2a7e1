"""Where to put something relative to something else: a place map made from a reference.

"Left of the green bowl" names a reference (the bowl) and a spatial relation to it. A
plain place map has to learn, for every relation, to shift its mass from the cells that
show the bowl to the cells beside it, through convolutions with a limited reach; a
relation's right answers form a wide cone (`sim.goals.propose` samples anywhere in it,
up to the workspace's edge), far wider than that reach.

`RelationMap` makes that shift explicit. The reference is where the place's text-image
match points (the query from the phrase's "where to" part, the same match that finds
"the blue plate" for `on`); the relation is a distribution over offsets from the
reference, in polar bins (the direction in 16 sectors, the distance in rings of cells),
whose logits are a linear read-out of the "where to" part of the phrase. The relation map
is the reference's distribution convolved with that kernel, so "left of X" means the same
cone around X wherever X stands, and "next to" a ring whatever the object.

A gate, also read from the "where to" part, mixes it in: the place logits become
`head + (1 - g) * match + g * log(relation map)`; with g = 0 they are the plain map's
(`on`, regions, turns in place), with g = 1 the match only locates the reference and the
plain head still weighs each cell (free space, inside the workspace).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SECTORS = 16  # direction bins (22.5 degrees); the axes fall on their edges
RINGS = (0.5, 1.5, 2.5, 3.5, 5.0, 7.0, 10.0, 14.0, 20.0)  # ring edges, cells (~1.8 cm)
FEATURES = 1 + SECTORS * len(RINGS)  # the reference's own cell, then sector x ring


def offset_bins(rows: int, cols: int) -> torch.Tensor:
    """(2 rows - 1, 2 cols - 1) feature index of each offset from reference to place.

    Index 0 is the reference's own cell; an offset beyond the last ring edge falls in
    the last ring. The kernel is applied by cross-correlation, so entry [i, j] stands
    for the place at offset (rows - 1 - i, cols - 1 - j) cells from the reference.
    """
    dr = (rows - 1) - torch.arange(2 * rows - 1, dtype=torch.float32)
    dc = (cols - 1) - torch.arange(2 * cols - 1, dtype=torch.float32)
    r = torch.hypot(dr[:, None], dc[None, :])
    ring = torch.bucketize(r, torch.tensor(RINGS[1:]), right=True).clamp(max=len(RINGS) - 1)
    angle = torch.atan2(dr[:, None], dc[None, :]) % (2 * math.pi)
    sector = (angle / (2 * math.pi / SECTORS)).long().clamp(max=SECTORS - 1)
    idx = 1 + ring * SECTORS + sector
    return torch.where(r < RINGS[0], torch.zeros_like(idx), idx)


class RelationMap(nn.Module):
    """Relation-map logits from the reference's match logits and the phrase's "where to"."""

    def __init__(self, text_part: int) -> None:
        super().__init__()
        self.kernel = nn.Linear(text_part, FEATURES)
        self.gate = nn.Linear(text_part, 1)
        nn.init.zeros_(self.kernel.weight)
        nn.init.zeros_(self.kernel.bias)
        self._bins: dict[tuple[int, int], torch.Tensor] = {}

    def forward(self, head: torch.Tensor, match: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
        """(B, 1, rows, cols) place heat logits.

        Args:
            head: (B, 1, rows, cols) the plain head's heat logits.
            match: (B, 1, rows, cols) text-image match of the place query.
            where: (B, text_part) the phrase embedding's "where to" part.
        """
        b, _, rows, cols = match.shape
        key = (rows, cols)
        if key not in self._bins:
            self._bins[key] = offset_bins(rows, cols)
        bins = self._bins[key]
        kernel = self.kernel(where)[:, bins]  # (B, 2 rows - 1, 2 cols - 1)
        kernel = F.softmax(kernel.flatten(1), 1).view(b, 1, *bins.shape)
        ref = F.softmax(match.flatten(1), 1).view(1, b, rows, cols)
        rel = F.conv2d(ref, kernel, padding=(rows - 1, cols - 1), groups=b).view(b, 1, rows, cols)
        g = torch.sigmoid(self.gate(where))[:, :, None, None]
        return head + (1 - g) * match + g * torch.log(rel.clamp_min(0) + 1e-6)
