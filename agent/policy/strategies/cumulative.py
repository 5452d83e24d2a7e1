"""Cumulative fine-tuning: every experience trains on all data seen so far."""

from __future__ import annotations

from agent.policy.prepare import Prepared
from agent.policy.strategies.base import Strategy, TaskContext, TaskPlan


class Cumulative(Strategy):
    """The plan's data is the union of every experience so far, trained from the previous
    model with the same steps per experience as every other strategy.

    Often called "joint" in continual-learning code, but it is not the multi-task bound:
    it fine-tunes from the last model with a per-experience budget (on this stream it was
    undertrained and beaten by LoRA). The bound is `joint.Joint`.
    """

    name = "cumulative"

    def __init__(self) -> None:
        self.seen: list[Prepared] = []

    def before_task(self, ctx: TaskContext) -> TaskPlan:
        self.seen.append(ctx.fresh)
        return TaskPlan(data=Prepared.cat(self.seen))

    def info(self) -> dict:
        return {"buffer_size": sum(len(d) for d in self.seen)}
