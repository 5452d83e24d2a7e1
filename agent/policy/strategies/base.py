"""The plugin interface of the fine-tuning loop (Avalanche-style, values returned).

A strategy is one small class with four hooks, each returning a value the loop applies;
a strategy never changes the trainer's state behind its back:

- `before_task(ctx) -> TaskPlan | None`: a model to train instead (LoRA wraps it), the
  data to train on (cumulative: everything so far), the parameter names to train, a
  learning-rate factor (adapters learn with a larger one), per-parameter factors of each
  update (SPG's soft mask).
- `extra_loss(step) -> Tensor | None`: a scalar added to the supervised loss (replay,
  distillation, penalties).
- `after_backward(step, grads) -> dict | None`: replacement gradients (A-GEM projection,
  SPG masking); the loop writes them into the parameters before the optimizer step.
- `after_step(step, update) -> dict | None`: the optimizer's actual update of each
  parameter (new - old weights, after Adam and the plan's `update_scale`), replaced by
  the returned one (A-GEM projects it: Adam's normalisation would undo a projection of
  the gradient alone).
- `after_task(ctx) -> TaskOutcome | None`: weights to keep (EMA) after the experience.

Strategies can hold state across experiences (a buffer, a Fisher estimate); `info()`
reports its size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from agent.policy.prepare import Batch, Prepared


@dataclass(frozen=True)
class TaskContext:
    """What the strategies see of one experience.

    Attributes:
        index: position of the experience in the stream (0-based).
        name: its name (the task family).
        model: the model being trained.
        data: the experience's own training data.
        loss_fn: per-sample supervised loss `loss_fn(model, batch) -> (B,)`.
        batch_size: rows per step.
        gen: the loop's random generator (for reproducible sampling).
        new_data: the rows of `data` the stream has not offered before (a correction
            round trains on every correction so far but only the round's are new);
            None: all of `data`. Memories (replay buffers) take only these (`fresh`).
    """

    index: int
    name: str
    model: nn.Module
    data: Prepared
    loss_fn: Callable[[nn.Module, Batch], torch.Tensor]
    batch_size: int
    gen: torch.Generator
    new_data: Prepared | None = None

    @property
    def fresh(self) -> Prepared:
        """The rows to offer to a memory: `new_data`, or all of `data`."""
        return self.data if self.new_data is None else self.new_data


@dataclass(frozen=True)
class TaskPlan:
    """What a strategy asks for before an experience (None fields: no change).

    `update_scale` maps parameter names to factors (tensors of the parameter's shape)
    that multiply every optimizer update of those parameters: a soft mask that works
    with Adam, whose per-parameter normalisation undoes the same factor applied to the
    gradient.
    """

    model: nn.Module | None = None
    data: Prepared | None = None
    trainable: tuple[str, ...] | None = None
    lr_scale: float | None = None
    update_scale: dict[str, torch.Tensor] | None = None


@dataclass(frozen=True)
class StepContext:
    """One training step as the strategies see it.

    Attributes:
        task: the experience's context (with the model actually trained).
        batch: the current batch.
        outputs: the model's (pick, place) maps on the batch.
        loss: (B,) supervised loss on the batch.
        params: name -> trainable parameter.
        step: step number within the experience.
    """

    task: TaskContext
    batch: Batch
    outputs: tuple[torch.Tensor, torch.Tensor]
    loss: torch.Tensor
    params: dict[str, nn.Parameter]
    step: int


@dataclass(frozen=True)
class TaskOutcome:
    """What a strategy returns after an experience: weights to load into the model."""

    state_dict: dict[str, torch.Tensor] | None = None


class Strategy:
    """A no-op plugin: the naive fine-tuning lower bound. Subclasses override hooks."""

    name = "naive"

    def before_task(self, ctx: TaskContext) -> TaskPlan | None:
        return None

    def extra_loss(self, step: StepContext) -> torch.Tensor | None:
        return None

    def after_backward(
        self, step: StepContext, grads: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor] | None:
        return None

    def after_step(
        self, step: StepContext, update: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor] | None:
        return None

    def after_task(self, ctx: TaskContext) -> TaskOutcome | None:
        return None

    def info(self) -> dict[str, Any]:
        """Sizes worth reporting (buffer_size: samples held)."""
        return {"buffer_size": 0}
