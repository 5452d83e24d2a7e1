"""EMA of weights: keep an exponential moving average of the weights and end each
experience with it (Polyak averaging across steps and experiences, which damps the
drift of fine-tuning away from earlier tasks).

The average is kept per weight name of the model actually trained, so EMA also works on
a model a strategy replaces (LoRA's adapters, ``lora+ema``): a weight seen for the first
time (a new adapter) starts its average at its initial value."""

from __future__ import annotations

import torch

from agent.policy.strategies.base import StepContext, Strategy, TaskContext, TaskOutcome


class EMA(Strategy):
    """Args: decay per step (0.99: about a 100-step memory)."""

    name = "ema"

    def __init__(self, decay: float = 0.99) -> None:
        self.decay = decay
        self.shadow: dict[str, torch.Tensor] = {}

    def _sync(self, model) -> dict[str, torch.Tensor]:
        """The model's weights, with an average started for any name not seen before."""
        state = model.state_dict()
        for k, v in state.items():
            if k not in self.shadow:
                self.shadow[k] = v.detach().clone()
        return state

    def before_task(self, ctx: TaskContext) -> None:
        self._sync(ctx.model)
        return None

    def after_backward(self, step: StepContext, grads: dict[str, torch.Tensor]) -> None:
        # Reads the weights of this step (before the optimizer moves them): a one-step lag.
        with torch.no_grad():
            for k, v in self._sync(step.task.model).items():
                if v.dtype.is_floating_point:
                    self.shadow[k].mul_(self.decay).add_(v, alpha=1 - self.decay)
        return None

    def after_task(self, ctx: TaskContext) -> TaskOutcome:
        state = self._sync(ctx.model)
        return TaskOutcome(state_dict={k: self.shadow[k].clone() for k in state})
