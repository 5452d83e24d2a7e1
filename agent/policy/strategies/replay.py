"""Experience replay: a reservoir buffer of earlier rows mixed into every step."""

from __future__ import annotations

import math

import torch

from agent.errors import AgentError
from agent.policy.strategies.base import StepContext, Strategy, TaskContext
from agent.policy.strategies.buffer import Reservoir

MIX = 0.2  # default share of replayed rows among a step's rows (DER++ gets the same budget)


def replay_rows(mix: float, batch_size: int, gen: torch.Generator) -> int:
    """How many buffer rows join a step of `batch_size` rows so that they are a `mix`
    share of the rows trained on (the fraction rounded stochastically)."""
    x = mix * batch_size / (1 - mix)
    extra = int(torch.rand((), generator=gen) < (x - math.floor(x)))
    return math.floor(x) + extra


def check_mix(mix: float) -> float:
    if not 0.01 <= mix <= 0.2:
        raise AgentError(f"replay mix must be between 0.01 and 0.2 (1% to 20%), got {mix}")
    return mix


class Replay(Strategy):
    """Mix replayed rows into each step so that they are a `mix` share of the rows trained on.

    Args:
        capacity: buffer size in rows (reservoir-sampled over the whole stream).
        mix: share of replayed rows among all rows of a step, 0.01 to 0.2 (fractional
            counts are rounded stochastically, so 1% means one replayed row every
            few steps).
        seed: seed of the buffer's sampling.
    """

    name = "replay"

    def __init__(self, capacity: int = 200, mix: float = MIX, seed: int = 0) -> None:
        self.mix = check_mix(mix)
        self.buffer = Reservoir(capacity, seed)

    def replay_rows(self, batch_size: int, gen: torch.Generator) -> int:
        """How many buffer rows join a step of `batch_size` rows (expected share: mix)."""
        return replay_rows(self.mix, batch_size, gen)

    def extra_loss(self, step: StepContext) -> torch.Tensor | None:
        if not len(self.buffer):
            return None
        k = self.replay_rows(len(step.batch), step.task.gen)
        if k == 0:
            return None
        batch, _ = self.buffer.sample(k, step.task.gen)
        return step.task.loss_fn(step.task.model, batch).sum() / len(step.batch)

    def after_task(self, ctx: TaskContext) -> None:
        self.buffer.offer(ctx.fresh)

    def info(self) -> dict:
        return {"buffer_size": len(self.buffer), "offered": self.buffer.seen}
