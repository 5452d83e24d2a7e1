"""A reservoir-sampled memory of training rows, shared by the replay-style strategies."""

from __future__ import annotations

import numpy as np
import torch

from agent.errors import AgentError
from agent.policy.prepare import Batch, Prepared


class Reservoir:
    """Keeps a uniform sample of every row it has been offered, at most `capacity` rows.

    Reservoir sampling (Vitter's algorithm R): the n-th row offered replaces a random
    stored one with probability capacity / n, so every row seen so far is equally likely
    to be held, whatever the number and length of the experiences.

    Args:
        capacity: most rows held (> 0).
        seed: seed of the sampling.
    """

    def __init__(self, capacity: int, seed: int = 0) -> None:
        if capacity < 1:
            raise AgentError(f"buffer capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.seen = 0
        self.data: Prepared | None = None
        self.extra: dict[str, torch.Tensor] = {}
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return 0 if self.data is None else len(self.data)

    def offer(self, rows: Prepared, extra: dict[str, torch.Tensor] | None = None) -> None:
        """Offer every row of `rows` once (with optional per-row tensors, e.g. outputs)."""
        if not len(rows):
            return
        extra = extra or {}
        parts = [] if self.data is None else [(self.data, self.extra)]
        parts.append((rows, extra))
        new = len(parts) - 1
        slots = [(0, i) for i in range(len(self))]
        for i in range(len(rows)):
            self.seen += 1
            if len(slots) < self.capacity:
                slots.append((new, i))
            else:
                j = int(self._rng.integers(self.seen))
                if j < self.capacity:
                    slots[j] = (new, i)
        # Materialise the kept rows as one set (keeping whole experiences would grow).
        keep = [[i for p, i in slots if p == k] for k in range(len(parts))]
        kept = [
            (d.take(ix), {n: v[ix] for n, v in e.items()})
            for (d, e), ix in zip(parts, keep, strict=True)
            if ix
        ]
        self.data = Prepared.cat([d for d, _ in kept])
        names = set(kept[0][1])
        self.extra = {n: torch.cat([e[n] for _, e in kept]) for n in names}

    def sample(self, n: int, gen: torch.Generator) -> tuple[Batch, dict[str, torch.Tensor]]:
        """`n` random stored rows (with replacement) and their extra tensors."""
        if self.data is None:
            raise AgentError("the buffer is empty")
        idx = torch.randint(len(self.data), (n,), generator=gen)
        return self.data.batch(idx), {k: v[idx] for k, v in self.extra.items()}
