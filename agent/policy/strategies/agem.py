"""A-GEM: keep every step from raising the loss on remembered rows.

At each step a reference gradient g_ref is computed on a batch drawn from an episodic
memory of earlier experiences; if the step's gradient g points against it (g . g_ref <
0), g is replaced by g - (g . g_ref / g_ref . g_ref) g_ref, its projection onto the
half-space where the memory loss does not increase (Chaudhry et al., 2019).

The paper steps with SGD, where the update is the projected gradient times the learning
rate. Here the loop steps with Adam (as for every strategy), whose per-parameter
normalisation turns a projected gradient into an update that may again point against
g_ref; so the actual update d (new - old weights) is projected too (`after_step`): if
d . g_ref > 0 (the memory loss would rise to first order), d becomes
d - (d . g_ref / g_ref . g_ref) g_ref. No applied update then raises the memory loss to
first order.
"""

from __future__ import annotations

import torch

from agent.policy.strategies.base import StepContext, Strategy, TaskContext
from agent.policy.strategies.buffer import Reservoir


def _dot(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> torch.Tensor:
    return sum((a[n] * b[n]).sum() for n in a if n in b)


def project(
    grads: dict[str, torch.Tensor], ref: dict[str, torch.Tensor], sign: float = 1.0
) -> tuple[dict[str, torch.Tensor], bool]:
    """A-GEM's projection of `grads` against `ref`; also whether it changed anything.

    `sign` -1 projects an update (a step against the gradient): it must not have a
    positive dot product with `ref`, where a gradient must not have a negative one.
    """
    dot = _dot(grads, ref)
    if float(sign * dot) >= 0:
        return grads, False
    scale = dot / (_dot(ref, ref) + 1e-12)
    return {n: (g - scale * ref[n] if n in ref else g) for n, g in grads.items()}, True


class AGEM(Strategy):
    """Args: capacity (memory rows, reservoir-sampled), rows per reference gradient."""

    name = "agem"

    def __init__(self, capacity: int = 200, rows: int = 16, seed: int = 0) -> None:
        self.buffer = Reservoir(capacity, seed)
        self.rows = rows
        self.projected = 0
        self.projected_updates = 0
        self.last_ref: dict[str, torch.Tensor] = {}

    def after_backward(
        self, step: StepContext, grads: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor] | None:
        self.last_ref = {}
        if not len(self.buffer):
            return None
        batch, _ = self.buffer.sample(self.rows, step.task.gen)
        names = list(step.params)
        loss = step.task.loss_fn(step.task.model, batch).mean()
        ref = torch.autograd.grad(loss, [step.params[n] for n in names], allow_unused=True)
        self.last_ref = {n: g.detach() for n, g in zip(names, ref, strict=True) if g is not None}
        new, changed = project(grads, self.last_ref)
        self.projected += int(changed)
        return new

    def after_step(
        self, step: StepContext, update: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor] | None:
        if not self.last_ref:
            return None
        new, changed = project(update, self.last_ref, sign=-1.0)
        self.projected_updates += int(changed)
        return new

    def after_task(self, ctx: TaskContext) -> None:
        self.buffer.offer(ctx.fresh)

    def info(self) -> dict:
        return {
            "buffer_size": len(self.buffer),
            "offered": self.buffer.seen,
            "projected_steps": self.projected,
            "projected_updates": self.projected_updates,
        }
