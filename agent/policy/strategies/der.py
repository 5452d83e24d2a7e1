"""DER++-style output replay: keep the model's outputs with the replayed rows.

Dark Experience Replay stores, with each buffered row, the network's outputs (here the
pick and place maps and the yaw logits) and pulls today's outputs on those rows towards
them (MSE), besides the supervised loss on them. Outputs are recorded at the end of
each experience (the model that knew the task best), not during its steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from agent.policy.losses import forward
from agent.policy.strategies.base import StepContext, Strategy, TaskContext
from agent.policy.strategies.buffer import Reservoir


def _flat(out) -> torch.Tensor:
    return torch.cat([t.flatten(1) for t in out], 1)


class DER(Strategy):
    """Args: capacity (rows), alpha (output-MSE weight), beta (label-loss weight), rows per step."""

    name = "der"

    def __init__(
        self,
        capacity: int = 200,
        alpha: float = 0.3,
        beta: float = 0.5,
        rows: int = 8,
        seed: int = 0,
    ) -> None:
        self.buffer = Reservoir(capacity, seed)
        self.alpha, self.beta, self.rows = alpha, beta, rows

    def extra_loss(self, step: StepContext) -> torch.Tensor | None:
        if not len(self.buffer):
            return None
        batch, extra = self.buffer.sample(self.rows, step.task.gen)
        out = forward(step.task.model, batch)
        mse = F.mse_loss(_flat(out), extra["outputs"].float())
        sup = step.task.loss_fn(step.task.model, batch).mean()
        return self.alpha * mse + self.beta * sup

    def after_task(self, ctx: TaskContext) -> None:
        outs = []
        with torch.no_grad():
            for s in range(0, len(ctx.data), 64):
                outs.append(
                    _flat(
                        forward(ctx.model, ctx.data.batch(range(s, min(s + 64, len(ctx.data)))))
                    ).half()
                )
        self.buffer.offer(ctx.data, {"outputs": torch.cat(outs)})

    def info(self) -> dict:
        return {"buffer_size": len(self.buffer)}
