"""Learning without Forgetting: distil the previous model's poses on today's images.

Before each experience after the first, the model is copied and frozen as a teacher;
the extra loss is the distance between the student's and the teacher's decoded poses
on the current batch (`losses.distill_loss`: L2 on the expected positions + geodesic
distance on the yaw directions), so no old data is kept.
"""

from __future__ import annotations

import copy

import torch

from agent.policy.losses import distill_loss, forward
from agent.policy.strategies.base import StepContext, Strategy, TaskContext


class LwF(Strategy):
    """Args: weight of the distillation term; rot_weight inside it."""

    name = "lwf"

    def __init__(self, weight: float = 0.1, rot_weight: float = 10.0) -> None:
        self.weight, self.rot_weight = weight, rot_weight
        self.teacher = None

    def before_task(self, ctx: TaskContext) -> None:
        if ctx.index == 0:
            self.teacher = None
            return None
        self.teacher = copy.deepcopy(ctx.model).eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        return None

    def extra_loss(self, step: StepContext) -> torch.Tensor | None:
        if self.teacher is None:
            return None
        with torch.no_grad():
            old = forward(self.teacher, step.batch)
        return (
            self.weight
            * distill_loss(step.outputs, old, step.batch.has_place, self.rot_weight).mean()
        )
