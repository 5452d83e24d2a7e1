"""Online EWC: a quadratic pull towards earlier weights, weighted by their Fisher information.

After each experience the diagonal of the empirical Fisher information is estimated from
squared gradients of the loss on the experience's data, and folded into a running
estimate (F <- gamma * F + F_new, Schwarz et al.'s online EWC); the weights are
remembered. While training on later experiences the extra loss is
lambda / 2 * sum_i F_i (theta_i - theta*_i)^2.
"""

from __future__ import annotations

import torch

from agent.policy.strategies.base import StepContext, Strategy, TaskContext


class OnlineEWC(Strategy):
    """Args: lam (penalty weight), gamma (decay of older Fisher terms), samples for the
    Fisher estimate, rows per gradient (mini-batches of the estimate)."""

    name = "ewc"

    def __init__(
        self, lam: float = 200.0, gamma: float = 0.9, samples: int = 128, rows: int = 8
    ) -> None:
        self.lam, self.gamma, self.samples, self.rows = lam, gamma, samples, rows
        self.fisher: dict[str, torch.Tensor] = {}
        self.anchor: dict[str, torch.Tensor] = {}

    def penalty(self, params: dict[str, torch.nn.Parameter]) -> torch.Tensor:
        """lambda / 2 * sum F (theta - theta*)^2 over the parameters with a Fisher estimate."""
        total = torch.zeros(())
        for n, p in params.items():
            if n in self.fisher:
                total = total + (self.fisher[n] * (p - self.anchor[n]) ** 2).sum()
        return 0.5 * self.lam * total

    def extra_loss(self, step: StepContext) -> torch.Tensor | None:
        if not self.fisher:
            return None
        return self.penalty(step.params)

    def after_task(self, ctx: TaskContext) -> None:
        params = {n: p for n, p in ctx.model.named_parameters() if p.requires_grad}
        fisher = {n: torch.zeros_like(p) for n, p in params.items()}
        n = min(self.samples, len(ctx.data))
        idx = torch.randperm(len(ctx.data), generator=ctx.gen)[:n]
        chunks = 0
        for s in range(0, n, self.rows):
            batch = ctx.data.batch(idx[s : s + self.rows])
            grads = torch.autograd.grad(
                ctx.loss_fn(ctx.model, batch).mean(), list(params.values()), allow_unused=True
            )
            for (name, _), g in zip(params.items(), grads, strict=True):
                if g is not None:
                    fisher[name] += g.detach() ** 2 * len(batch)
            chunks += len(batch)
        for name in fisher:
            fisher[name] /= max(chunks, 1)
            self.fisher[name] = (
                self.gamma * self.fisher.get(name, torch.zeros_like(fisher[name])) + fisher[name]
            )
            self.anchor[name] = params[name].detach().clone()

    def info(self) -> dict:
        return {"buffer_size": 0}
