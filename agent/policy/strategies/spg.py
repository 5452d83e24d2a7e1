"""SPG: soft-masking of parameter-level gradient flow by accumulated importance.

After each experience, every parameter's importance for it is measured as in the paper
(Konishi et al., 2023): the signed gradient of the loss on the experience's data is
standardised within its tensor (minus the tensor's mean, over its standard deviation)
and squashed to [0, 1) by |tanh|, so a weight whose gradient stands out in either
direction is important; importances accumulate across experiences by element-wise max.
While training later, each gradient is multiplied by (1 - importance), and so is each
update (the plan's `update_scale`, applied by the loop after the optimizer step): Adam
divides a gradient by its running magnitude, which undoes a constant factor on it, so
the gradient mask alone would leave every weight as free as before. Parameters
important to earlier tasks barely move, the others stay free. There is no extra loss
and no memory of data.
"""

from __future__ import annotations

import torch

from agent.policy.strategies.base import StepContext, Strategy, TaskContext, TaskPlan


def importance(grad: torch.Tensor, steepness: float = 1.0) -> torch.Tensor:
    """|tanh| of the standardised signed gradient of one tensor (a lone value: 1 unless 0)."""
    if grad.numel() > 1:
        z = (grad - grad.mean()) / (grad.std(unbiased=False) + 1e-8)
    else:
        z = grad / (grad.abs() + 1e-8)
    return torch.tanh(steepness * z).abs()


class SPG(Strategy):
    """Args: samples used to measure importance, rows per gradient, steepness of the tanh."""

    name = "spg"

    def __init__(self, samples: int = 128, rows: int = 16, steepness: float = 1.0) -> None:
        self.samples, self.rows, self.steepness = samples, rows, steepness
        self.importance: dict[str, torch.Tensor] = {}

    def before_task(self, ctx: TaskContext) -> TaskPlan | None:
        if not self.importance:
            return None
        return TaskPlan(update_scale={n: 1 - imp for n, imp in self.importance.items()})

    def after_backward(
        self, step: StepContext, grads: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor] | None:
        if not self.importance:
            return None
        return {
            n: (g * (1 - self.importance[n]) if n in self.importance else g)
            for n, g in grads.items()
        }

    def task_gradient(self, ctx: TaskContext) -> dict[str, torch.Tensor]:
        """The signed gradient of the mean loss over (up to `samples`) rows of the
        experience, summed over mini-batches of `rows`."""
        params = {n: p for n, p in ctx.model.named_parameters() if p.requires_grad}
        acc = {n: torch.zeros_like(p) for n, p in params.items()}
        n = min(self.samples, len(ctx.data))
        idx = torch.randperm(len(ctx.data), generator=ctx.gen)[:n]
        for s in range(0, n, self.rows):
            batch = ctx.data.batch(idx[s : s + self.rows])
            grads = torch.autograd.grad(
                ctx.loss_fn(ctx.model, batch).sum() / n, list(params.values()), allow_unused=True
            )
            for name, g in zip(params, grads, strict=True):
                if g is not None:
                    acc[name] += g.detach()
        return acc

    def after_task(self, ctx: TaskContext) -> None:
        for name, g in self.task_gradient(ctx).items():
            imp = importance(g, self.steepness)
            self.importance[name] = torch.maximum(
                self.importance.get(name, torch.zeros_like(imp)), imp
            )

    def info(self) -> dict:
        return {"buffer_size": 0}
