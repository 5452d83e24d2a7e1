"""Joint training: every experience trains on all data seen so far (the upper bound)."""

from __future__ import annotations

from agent.policy.prepare import Prepared
from agent.policy.strategies.base import Strategy, TaskContext, TaskPlan


class Joint(Strategy):
    """Cumulative retraining: the plan's data is the union of all experiences so far.

    With the same number of steps per experience as every other strategy, this is the
    usual "joint" upper bound of continual-learning benchmarks.
    """

    name = "joint"

    def __init__(self) -> None:
        self.seen: list[Prepared] = []

    def before_task(self, ctx: TaskContext) -> TaskPlan:
        self.seen.append(ctx.data)
        return TaskPlan(data=Prepared.cat(self.seen))

    def info(self) -> dict:
        return {"buffer_size": sum(len(d) for d in self.seen)}
