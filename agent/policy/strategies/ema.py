"""EMA of weights: keep an exponential moving average of the weights and end each
experience with it (Polyak averaging across steps and experiences, which damps the
drift of fine-tuning away from earlier tasks)."""

from __future__ import annotations

import torch

from .base import StepContext, Strategy, TaskContext, TaskOutcome


class EMA(Strategy):
    """Args: decay per step (0.99: about a 100-step memory)."""

    name = "ema"

    def __init__(self, decay: float = 0.99) -> None:
        self.decay = decay
        self.shadow: dict[str, torch.Tensor] = {}

    def before_task(self, ctx: TaskContext) -> None:
        if not self.shadow:
            self.shadow = {k: v.detach().clone() for k, v in ctx.model.state_dict().items()}
        return None

    def after_backward(self, step: StepContext, grads: dict[str, torch.Tensor]) -> None:
        # Reads the weights of this step (before the optimizer moves them): a one-step lag.
        with torch.no_grad():
            for k, v in step.task.model.state_dict().items():
                if v.dtype.is_floating_point and k in self.shadow:
                    self.shadow[k].mul_(self.decay).add_(v, alpha=1 - self.decay)
        return None

    def after_task(self, ctx: TaskContext) -> TaskOutcome:
        if not self.shadow:
            self.shadow = {k: v.detach().clone() for k, v in ctx.model.state_dict().items()}
        return TaskOutcome(state_dict={k: v.clone() for k, v in self.shadow.items()})
