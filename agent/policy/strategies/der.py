"""DER++ output replay: keep the model's outputs with the replayed rows.

Dark Experience Replay++ (Buzzega et al., 2020) stores, with each buffered row, the
network's outputs (here the pick and place maps and the yaw logits) and adds two terms
on two INDEPENDENT draws from the buffer: alpha x the MSE between today's outputs and
the stored ones on the first, beta x the supervised loss on the second. Outputs are
recorded at the end of each experience (the model that knew the task best), not during
its steps.

Budget: a step replays as many rows as `Replay` with the same `mix` (20% of the rows
trained on: 4 beside a batch of 16), split between the two draws, so the two
strategies differ in what they do with the rows, not in how many they see.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from agent.policy.losses import forward
from agent.policy.strategies.base import StepContext, Strategy, TaskContext
from agent.policy.strategies.buffer import Reservoir
from agent.policy.strategies.replay import MIX, check_mix, replay_rows


def _flat(out) -> torch.Tensor:
    return torch.cat([t.flatten(1) for t in out], 1)


class DER(Strategy):
    """Args: capacity (rows), alpha (output-MSE weight), beta (label-loss weight), mix
    (share of replayed rows among a step's rows, as `Replay`'s)."""

    name = "der"

    def __init__(
        self,
        capacity: int = 200,
        alpha: float = 0.3,
        beta: float = 0.5,
        mix: float = MIX,
        seed: int = 0,
    ) -> None:
        self.buffer = Reservoir(capacity, seed)
        self.alpha, self.beta, self.mix = alpha, beta, check_mix(mix)
        self.rows_replayed = 0

    def split(self, batch_size: int, gen: torch.Generator) -> tuple[int, int]:
        """Rows of the output draw and of the label draw for a step of `batch_size` rows:
        `Replay`'s count for the same mix, halved (an odd row goes to either at random)."""
        k = replay_rows(self.mix, batch_size, gen)
        a = k // 2 + (k % 2) * int(torch.rand((), generator=gen) < 0.5)
        return a, k - a

    def extra_loss(self, step: StepContext) -> torch.Tensor | None:
        if not len(self.buffer):
            return None
        n_out, n_lab = self.split(len(step.batch), step.task.gen)
        total = None
        if n_out:
            batch, extra = self.buffer.sample(n_out, step.task.gen)
            out = forward(step.task.model, batch)
            total = self.alpha * F.mse_loss(_flat(out), extra["outputs"].float())
        if n_lab:
            batch, _ = self.buffer.sample(n_lab, step.task.gen)
            sup = self.beta * step.task.loss_fn(step.task.model, batch).mean()
            total = sup if total is None else total + sup
        self.rows_replayed += n_out + n_lab
        return total

    def after_task(self, ctx: TaskContext) -> None:
        rows = ctx.fresh
        if not len(rows):
            return
        outs = []
        with torch.no_grad():
            for s in range(0, len(rows), 64):
                outs.append(
                    _flat(forward(ctx.model, rows.batch(range(s, min(s + 64, len(rows)))))).half()
                )
        self.buffer.offer(rows, {"outputs": torch.cat(outs)})

    def info(self) -> dict:
        return {"buffer_size": len(self.buffer), "offered": self.buffer.seen}
