"""Online EWC: a quadratic pull towards earlier weights, weighted by their Fisher information.

After each experience the diagonal of the empirical Fisher information is estimated as
the mean over the experience's rows of each row's squared gradient (per-sample:
squaring 8-row mean gradients, as this module did before, gave about 0.41x of it in a
review), and folded into a running estimate (F <- gamma * F + F_new, Schwarz et al.'s
online EWC); the weights are remembered. While training on later experiences the extra loss is
lambda / 2 * sum_i F_i (theta_i - theta*_i)^2.
"""

from __future__ import annotations

import torch

from agent.policy.strategies.base import StepContext, Strategy, TaskContext


class OnlineEWC(Strategy):
    """Args: lam (penalty weight), gamma (decay of older Fisher terms), samples (rows)
    for the Fisher estimate."""

    name = "ewc"

    def __init__(self, lam: float = 200.0, gamma: float = 0.9, samples: int = 128) -> None:
        self.lam, self.gamma, self.samples = lam, gamma, samples
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

    def fisher_of(self, ctx: TaskContext) -> dict[str, torch.Tensor]:
        """The diagonal empirical Fisher: the mean of per-sample squared gradients over up
        to `samples` rows of the experience (each row's loss differentiated alone; the
        network normalises per sample, so a row's gradient does not depend on its batch)."""
        params = {n: p for n, p in ctx.model.named_parameters() if p.requires_grad}
        fisher = {n: torch.zeros_like(p) for n, p in params.items()}
        n = min(self.samples, len(ctx.data))
        idx = torch.randperm(len(ctx.data), generator=ctx.gen)[:n]
        for i in idx.tolist():
            grads = torch.autograd.grad(
                ctx.loss_fn(ctx.model, ctx.data.batch([i])).sum(),
                list(params.values()),
                allow_unused=True,
            )
            for name, g in zip(params, grads, strict=True):
                if g is not None:
                    fisher[name] += g.detach() ** 2
        return {name: f / max(n, 1) for name, f in fisher.items()}

    def after_task(self, ctx: TaskContext) -> None:
        params = {n: p for n, p in ctx.model.named_parameters() if p.requires_grad}
        for name, f in self.fisher_of(ctx).items():
            self.fisher[name] = self.gamma * self.fisher.get(name, torch.zeros_like(f)) + f
            self.anchor[name] = params[name].detach().clone()

    def info(self) -> dict:
        return {"buffer_size": 0}
