"""A-GEM: project the gradient so that the loss on remembered rows does not go up.

At each step a reference gradient g_ref is computed on a batch drawn from an episodic
memory of earlier experiences; if the step's gradient g points against it (g . g_ref <
0), g is replaced by g - (g . g_ref / g_ref . g_ref) g_ref, its projection onto the
half-space where the memory loss does not increase (Chaudhry et al., 2019).
"""

from __future__ import annotations

import torch

from agent.policy.strategies.base import StepContext, Strategy, TaskContext
from agent.policy.strategies.buffer import Reservoir


def project(
    grads: dict[str, torch.Tensor], ref: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], bool]:
    """A-GEM's projection of `grads` against `ref`; also whether it changed anything."""
    names = [n for n in grads if n in ref]
    dot = sum((grads[n] * ref[n]).sum() for n in names)
    if float(dot) >= 0:
        return grads, False
    norm2 = sum((ref[n] * ref[n]).sum() for n in names)
    scale = dot / (norm2 + 1e-12)
    return {n: (g - scale * ref[n] if n in ref else g) for n, g in grads.items()}, True


class AGEM(Strategy):
    """Args: capacity (memory rows, reservoir-sampled), rows per reference gradient."""

    name = "agem"

    def __init__(self, capacity: int = 200, rows: int = 16, seed: int = 0) -> None:
        self.buffer = Reservoir(capacity, seed)
        self.rows = rows
        self.projected = 0
        self.last_ref: dict[str, torch.Tensor] = {}

    def after_backward(
        self, step: StepContext, grads: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor] | None:
        if not len(self.buffer):
            return None
        batch, _ = self.buffer.sample(self.rows, step.task.gen)
        names = list(grads)
        loss = step.task.loss_fn(step.task.model, batch).mean()
        ref = torch.autograd.grad(loss, [step.params[n] for n in names], allow_unused=True)
        self.last_ref = {n: g.detach() for n, g in zip(names, ref, strict=True) if g is not None}
        new, changed = project(grads, self.last_ref)
        self.projected += int(changed)
        return new

    def after_task(self, ctx: TaskContext) -> None:
        self.buffer.offer(ctx.data)

    def info(self) -> dict:
        return {"buffer_size": len(self.buffer), "projected_steps": self.projected}
