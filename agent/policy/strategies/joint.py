"""The multi-task bound: one model trained on every experience's data at once.

In the stream benchmark (`stream.run_strategy`) "joint" is not a sequence of
experiences: one model starts from the shared base (trained on experience 0) and trains
on the union of ALL experiences' training data for the stream's whole fine-tuning budget
((T - 1) x steps), then is scored once; only its final row of R exists, so it has an ACC
and no BWT, FWT or forgetting. This is the upper bound a continual learner is compared
against ("ACC >= 0.9 x the multi-task bound").

As a plugin of one fine-tuning (`policy feedback`, `policy finetune`), where the only
experiences are the known data and the new rows, it trains on everything given so far:
the same as `cumulative` there.
"""

from __future__ import annotations

from agent.policy.strategies.cumulative import Cumulative


class Joint(Cumulative):
    """Every experience's data at once (see the module docstring)."""

    name = "joint"
