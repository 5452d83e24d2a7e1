"""Learning without Forgetting: distil the previous model's poses where they should hold.

Before each experience after the first, the model is copied and frozen as a teacher.
The extra loss compares the student's and the teacher's decoded poses
(`losses.distill_loss`: L2 on the expected positions + geodesic distance on the yaw
directions) on today's images paired with the instructions of the EARLIER experiences:
with one shared network conditioned on the instruction, the old function is what the
network does for the old instructions, and that should not change; distilling on the
current instructions would pull towards exactly what this experience must change.
Both models are conditioned on the teacher's own predicted cells (there are no labels
for an old instruction on a new image). Only the distinct instruction embeddings of
earlier experiences are kept (with whether their action has a place), no images.
"""

from __future__ import annotations

import copy
import dataclasses

import torch

from agent.policy.losses import distill_loss
from agent.policy.model import HEAT
from agent.policy.prepare import Batch
from agent.policy.strategies.base import StepContext, Strategy, TaskContext

MAX_INSTRUCTIONS = 512  # distinct instruction embeddings kept per experience


def _same_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(len(a),) whether each row of `a` equals some row of `b`."""
    if not len(b) or not len(a):
        return torch.zeros(len(a), dtype=torch.bool)
    return (a[:, None, :] == b[None, :, :]).all(2).any(1)


class LwF(Strategy):
    """Args: weight of the distillation term; rot_weight inside it."""

    name = "lwf"

    def __init__(self, weight: float = 0.1, rot_weight: float = 10.0) -> None:
        self.weight, self.rot_weight = weight, rot_weight
        self.teacher = None
        self.old_emb = torch.zeros(0, 0)
        self.old_place = torch.zeros(0, dtype=torch.bool)
        self.distil_emb = torch.zeros(0, 0)  # this experience's: old minus current
        self.distil_place = torch.zeros(0, dtype=torch.bool)

    def before_task(self, ctx: TaskContext) -> None:
        self.teacher = None
        if ctx.index == 0 or not len(self.old_emb):
            return None
        keep = ~_same_rows(self.old_emb, ctx.data.emb.float())
        self.distil_emb, self.distil_place = self.old_emb[keep], self.old_place[keep]
        if not len(self.distil_emb):
            return None
        self.teacher = copy.deepcopy(ctx.model).eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        return None

    def distil_batch(self, batch: Batch, gen: torch.Generator) -> Batch:
        """`batch`'s images with earlier experiences' instructions (one drawn per row)."""
        idx = torch.randint(len(self.distil_emb), (len(batch),), generator=gen)
        return dataclasses.replace(
            batch, emb=self.distil_emb[idx].to(batch.emb.dtype), has_place=self.distil_place[idx]
        )

    def extra_loss(self, step: StepContext) -> torch.Tensor | None:
        if self.teacher is None:
            return None
        b = self.distil_batch(step.batch, step.task.gen)
        with torch.no_grad():
            old = self.teacher(b.x, b.emb)
            pick = old.pick[:, HEAT].flatten(1).argmax(1)
            place = old.place[:, HEAT].flatten(1).argmax(1)
        new = step.task.model(b.x, b.emb, pick, place)
        return self.weight * distill_loss(new, old, b.has_place, self.rot_weight).mean()

    def after_task(self, ctx: TaskContext) -> None:
        emb, inverse = torch.unique(ctx.data.emb.float(), dim=0, return_inverse=True)
        place = torch.zeros(len(emb), dtype=torch.bool)
        place[inverse] = ctx.data.has_place.bool()
        emb, place = emb[:MAX_INSTRUCTIONS], place[:MAX_INSTRUCTIONS]
        if len(self.old_emb):
            new = ~_same_rows(emb, self.old_emb)
            emb = torch.cat([self.old_emb, emb[new]])
            place = torch.cat([self.old_place, place[new]])
        self.old_emb, self.old_place = emb, place

    def info(self) -> dict:
        return {"buffer_size": 0, "instructions": len(self.old_emb)}
