"""The funnel stage the Evaluator reports for an episode that ran out of time (issue 19,
finding 13): valid code that raised nothing but timed out did not fail at "syntax"; and
for one that ended in a `SkillError` ("could not grasp"): a failed episode, not broken code."""

from __future__ import annotations

import pytest

from agent.evaluate.evaluator import Evaluator, Job
from tests.agent.test_evaluator_wilson import CODE, Result


class Answers:
    """Answers job i with answers[i], a (status, success, reason)."""

    workers = 5

    def __init__(self, answers: list[tuple[str, bool, str | None]]) -> None:
        self.answers = answers

    def run_many(self, jobs: list[Job]) -> list[Result]:
        return [Result(*self.answers[j.seed]) for j in jobs]

    def close(self) -> None:
        pass


def _verdict(answers):
    ev = Evaluator(Answers(answers), episodes=len(answers), pass_bar=0.8)
    jobs = [Job(CODE, "noop", None, i, {}) for i in range(len(answers))]
    return ev.evaluate_jobs(CODE, "noop", "pick", jobs)


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
    # "ok" counts as a failure to reach the goal
    verdict = _verdict([(s, False, None if s == "ok" else "why") for s in statuses])
    assert not verdict.passed and verdict.stage == stage
    if "timeout" in statuses and stage == "runtime":
        assert verdict.feedback.startswith("timeout on an evaluation scene")


WIN = ("ok", True, None)
COULD_NOT = ("error", False, "SkillError: could not grasp the orange bracket (line 95)")


def test_a_missed_grasp_on_one_scene_is_a_failed_episode_not_a_broken_skill():
    verdict = _verdict([COULD_NOT] + [WIN] * 9)  # 9 of 10: above the bar
    assert verdict.passed and verdict.stage == "success"
    assert len(verdict.episodes) == 10 and verdict.success_rate == 0.9


def test_saying_could_not_too_often_fails_at_the_pass_bar_with_the_reason():
    verdict = _verdict([COULD_NOT] * 3 + [WIN] * 2)
    assert not verdict.passed and verdict.stage == "runtime"
    assert "could not on 3" in verdict.feedback and "orange bracket" in verdict.feedback


def test_any_other_exception_still_fails_the_skill_at_syntax():
    broken = ("error", False, "ZeroDivisionError: division by zero (line 3)")
    verdict = _verdict([broken] + [WIN] * 9)
    assert not verdict.passed and verdict.stage == "syntax"
