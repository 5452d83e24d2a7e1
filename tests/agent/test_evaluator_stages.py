"""The funnel stage the Evaluator reports for an episode that ran out of time (issue 19,
finding 13): valid code that raised nothing but timed out did not fail at "syntax"."""

from __future__ import annotations

import pytest

from agent.evaluate.evaluator import Evaluator, Job
from tests.agent.test_evaluator_wilson import CODE, Result


class Outcomes:
    """Answers job i with statuses[i] ("ok" counts as a failure to reach the goal)."""

    workers = 5

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses

    def run_many(self, jobs: list[Job]) -> list[Result]:
        return [
            Result(self.statuses[j.seed], False, None if self.statuses[j.seed] == "ok" else "why")
            for j in jobs
        ]

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "statuses, stage",
    [
        (["timeout"] * 5, "runtime"),  # ran without raising, ran out of time
        (["ok", "timeout", "ok", "ok", "ok"], "runtime"),
        (["ok", "error", "ok", "ok", "ok"], "syntax"),  # valid code that raised
        (["timeout", "error", "ok", "ok", "ok"], "syntax"),
        (["ok"] * 5, "runtime"),  # ran cleanly, goal not reached
    ],
)
def test_a_timeout_is_not_labelled_syntax(statuses, stage):
    ev = Evaluator(Outcomes(statuses), episodes=5, pass_bar=0.8)
    verdict = ev.evaluate_jobs(
        CODE, "noop", "pick", [Job(CODE, "noop", None, i, {}) for i in range(5)]
    )
    assert not verdict.passed and verdict.stage == stage
    if "timeout" in statuses and stage == "runtime":
        assert verdict.feedback.startswith("timeout on an evaluation scene")
