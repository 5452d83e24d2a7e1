"""The Evaluator's Wilson interval and early stop (a fake executor: no simulator)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from agent.evaluate.evaluator import Evaluator, Job, draw_seeds, wilson

CODE = 'def noop(robot):\n    """Do nothing."""\n    robot.find("red cube")\n'


@dataclass(frozen=True)
class Result:
    status: str
    success: bool
    reason: str | None = None
    seconds: float = 0.0


class CountingExecutor:
    """Answers job i with outcomes[i] ("S" success, "F" failure, "E" error) and counts
    the jobs it ran and the batches it was given."""

    def __init__(self, outcomes: str, workers: int | None = 2) -> None:
        self.outcomes = outcomes
        if workers is not None:
            self.workers = workers
        self.ran: list[int] = []
        self.batches: list[int] = []

    def run_many(self, jobs: list[Job]) -> list[Result]:
        self.batches.append(len(jobs))
        out = []
        for j in jobs:
            self.ran.append(j.seed)
            o = self.outcomes[j.seed]
            out.append(
                Result("error" if o == "E" else "ok", o == "S", "boom" if o == "E" else None)
            )
        return out

    def close(self) -> None:
        pass


def jobs(n: int) -> list[Job]:
    return [Job(CODE, "noop", None, i, {}) for i in range(n)]


@pytest.mark.parametrize(
    "k, n, low, high",
    [
        (8, 10, 0.4902, 0.9433),  # the textbook example (also scipy's binomtest wilson)
        (81, 263, 0.2553, 0.3662),
        (1, 2, 0.0945, 0.9055),
        (0, 5, 0.0, 0.4345),
        (5, 5, 0.5655, 1.0),
        (0, 0, 0.0, 1.0),  # no evidence: anything
    ],
)
def test_wilson_known_values(k, n, low, high):
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_wilson_is_exact_at_the_ends_and_rejects_nonsense():
    assert wilson(16, 16)[1] == 1.0 and wilson(0, 16)[0] == 0.0  # not 0.9999... by rounding
    assert wilson(4, 4, z=1.0)[0] == pytest.approx(0.8)  # n / (n + z^2)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_clearly_below_stops_after_the_first_batch():
    ex = CountingExecutor("FFFFF")
    v = Evaluator(ex, pass_bar=0.8).evaluate_jobs(CODE, "noop", "pick", jobs(5))
    assert ex.batches == [2] and len(v.episodes) == 2
    assert not v.passed and v.stage == "runtime" and v.stopped_early
    assert v.interval == pytest.approx(wilson(0, 2)) and v.interval[1] < 0.8
    assert v.family == v.key == "pick"
    assert "0 of 2" in v.feedback and "95% interval 0%-66%" in v.feedback


def test_a_borderline_candidate_runs_every_episode():
    ex = CountingExecutor("SSSSF")  # 4/5 = the bar: nothing is clear before the end
    v = Evaluator(ex, pass_bar=0.8).evaluate_jobs(CODE, "noop", "pick", jobs(5))
    assert ex.ran == [0, 1, 2, 3, 4] and ex.batches == [2, 2, 1]
    assert v.passed and v.stage == "success" and not v.stopped_early and v.successes == 4


def test_a_first_failure_does_not_stop_a_candidate_the_full_run_passes():
    """One at a time, 0/1 has a Wilson interval below 0.8, yet F S S S S passes."""
    ex = CountingExecutor("FSSSS", workers=1)
    v = Evaluator(ex, pass_bar=0.8).evaluate_jobs(CODE, "noop", "pick", jobs(5))
    assert len(ex.ran) == 5 and v.passed


def test_clearly_above_stops_once_the_rest_cannot_matter():
    ex = CountingExecutor("S" * 20, workers=4)
    v = Evaluator(ex, pass_bar=0.8).evaluate_jobs(CODE, "noop", "pick", jobs(20))
    # 16/16: Wilson low 0.806 >= 0.8, and 16/20 passes even if the last 4 fail
    assert len(ex.ran) == 16 and v.passed and v.stopped_early and v.interval[0] >= 0.8


def test_a_runtime_error_decides_at_once():
    ex = CountingExecutor("SESSS")
    v = Evaluator(ex).evaluate_jobs(CODE, "noop", "pick", jobs(5))
    assert ex.batches == [2] and not v.passed and v.stage == "syntax" and v.stopped_early
    assert v.feedback == "error on an evaluation scene: boom"


def test_rejected_code_runs_nothing_and_width_defaults_to_one():
    ex = CountingExecutor("SSSSS", workers=None)  # an executor without `workers`
    ev = Evaluator(ex)
    v = ev.evaluate_jobs("import os\ndef noop(robot):\n    pass\n", "noop", "pick", jobs(5))
    assert v.stage == "rejected" and ex.ran == []
    assert ev.width == 1 and ev.evaluate_jobs(CODE, "noop", "pick", jobs(3)).passed
    assert ex.batches == [1, 1, 1]


def test_evaluate_binds_family_scenes_and_goes_through_the_same_run():
    seeds = draw_seeds(5)
    ex = CountingExecutor({s: "F" for s in seeds})  # type: ignore[arg-type]
    ev = Evaluator(ex, episodes=5, seeds=lambda n: seeds[:n])
    v = ev.evaluate(CODE, "noop", "pick", lambda fam, seed: {})
    assert ex.ran == seeds[:2] == v.seeds and v.stopped_early and not v.passed
    unbound = ev.evaluate(CODE, "noop", "pick", lambda fam, seed: None)
    assert unbound.stage == "syntax" and unbound.episodes == () and len(ex.ran) == 2
    assert (
        ev.evaluate("def noop(robot) oops", "noop", "pick", lambda f, s: None).stage == "rejected"
    )


def test_early_stop_never_changes_the_full_runs_verdict():
    """Random outcome sequences, episode counts, batch widths and bars: the verdict with
    early stop is the verdict of the whole run."""
    rng = random.Random(0)
    for _ in range(600):
        n, width = rng.randint(1, 30), rng.randint(1, 6)
        bar = rng.choice([0.5, 0.7, 0.8, 0.9, 1.0])
        p = min(1.0, bar + rng.uniform(-0.15, 0.1))  # near the bar, where a stop could err
        seq = "".join("S" if rng.random() < p else "F" for _ in range(n))
        v = Evaluator(CountingExecutor(seq, width), pass_bar=bar).evaluate_jobs(
            CODE, "noop", "k", jobs(n)
        )
        assert v.passed == (seq.count("S") / n >= bar), (seq, width, bar)
        assert v.passed == (v.success_rate >= bar)  # the bar over the episodes run
        lo, hi = v.interval
        assert lo <= v.success_rate <= hi
