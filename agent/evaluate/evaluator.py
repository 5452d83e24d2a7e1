"""The Evaluator: a GenSim-style funnel that proves a candidate skill in simulation.

syntax/AST (the sandbox's validator) -> runtime (every episode runs without an error)
-> success (success rate over N seeded episodes of the task family >= the pass bar).
Evaluation seeds are drawn afresh for every verification, by the operating system's
CSPRNG, from a range no public `--seed` accepts (`agent.inputs.EVAL_SEEDS`): a skill is
never verified on the scene it is then run on, and no one can look at the scenes it will
be judged on, so code that recognises fixed evaluation layouts (or an LLM that overfits
to them) cannot pass. The seeds used are kept in the verdict (`Verdict.seeds`) so trusted
code can reproduce it (`Evaluator(seeds=...)`, `evaluate(..., seeds=...)`). Episodes run in parallel through an `Executor`: a local
pool of sandbox workers by default, Ray when asked (`agent.evaluate.ray_executor`), with
no change here.

Success rates come with a Wilson 95% interval (`wilson`). Episodes run in batches as wide
as the executor, and a candidate stops early once its interval is clearly above or below
the pass bar and the episodes left could not change the verdict (see
`Evaluator.evaluate_jobs`).

Perception: the Evaluator judges the skill's code, so its executor gives the robot API
oracle poses (the agent builds it so; see `agent.factory`). A candidate is then never
rejected, nor a library skill's statistics lowered, for the pose policy's mistakes; the
run itself uses the perception the user chose (`run --perception policy`), and its
record says which.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from agent.evaluate.paths import scrub
from agent.inputs import EVAL_SEEDS
from skills.errors import SkillError

EVAL_SEED_BASE, EVAL_SEED_END = EVAL_SEEDS  # evaluation seeds: [base, end); run seeds below
DEFAULT_EPISODES = 5
DEFAULT_PASS_BAR = 0.8
DEFAULT_TIMEOUT = 30.0  # wall-clock seconds per episode
STAGES = ("rejected", "syntax", "runtime", "success")  # the furthest stage passed


def draw_seeds(n: int) -> list[int]:
    """`n` distinct evaluation seeds, drawn afresh from the reserved range by a CSPRNG."""
    return secrets.SystemRandom().sample(range(EVAL_SEED_BASE, EVAL_SEED_END), n)


def check_eval_seeds(seeds: Sequence[int]) -> list[int]:
    """`seeds` when each lies in the reserved evaluation range (a verdict reproduced from
    its stored seeds); SkillError otherwise."""
    out = [int(s) for s in seeds]
    bad = [s for s in out if not EVAL_SEED_BASE <= s < EVAL_SEED_END]
    if bad:
        raise SkillError(f"evaluation seed {bad[0]} is outside [{EVAL_SEED_BASE}, {EVAL_SEED_END})")
    return out


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a success rate (95% for the default `z`).

    Unlike the normal approximation it stays inside [0, 1] and is not empty at 0 or n
    successes, which is where a handful of evaluation episodes usually lands.

    Args:
        successes: successful episodes.
        n: episodes; with none, the interval is (0, 1).
        z: the standard normal quantile of the confidence level.

    Returns:
        (low, high).
    """
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes out of {n} episodes")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exact at the ends (the formula gives 0 and 1 there, up to rounding)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


@dataclass(frozen=True)
class Job:
    """One sandboxed episode: code, entry, family, seed and keyword arguments.

    With `scene` (a `sim.scenes.Layout` as JSON) the episode runs on that scene instead
    of the family's scene for the seed, and `goal` (text form) judges it.
    """

    code: str
    entry: str
    family: str | None
    seed: int
    params: dict
    timeout: float = 30.0
    record: bool = False
    scene: list | dict | None = None
    goal: str | None = None


def run_job(pool, job: Job):
    """One episode of `job` in a `SandboxPool` (the local pool's and each Ray actor's)."""
    return pool.run(
        job.code,
        job.entry,
        job.family,
        job.seed,
        job.params,
        job.timeout,
        record=job.record,
        scene=job.scene,
        goal=job.goal,
    )


@dataclass(frozen=True)
class Episode:
    """What one evaluation episode showed."""

    seed: int
    status: str
    success: bool
    reason: str | None
    seconds: float
    goal: str | None = None  # the goal judged, and each atom's truth (for feedback)
    atoms: tuple[dict, ...] = field(default=(), repr=False)
    calls: tuple[str, ...] = field(default=(), repr=False)  # the robot API calls made
    objects: tuple[dict, ...] | None = field(default=None, repr=False)


def said_could_not(episode) -> bool:
    """Whether an episode ended in a `SkillError`: the robot API's "I could not" (a grasp
    that did not hold on this scene's object) or the skill's own. That is an honest failure
    on that scene, counted against the pass bar like a goal not reached, not a broken skill
    (one missed grasp of an awkward object in one scene would otherwise reject code that
    works on the rest). Anything else raised is the code's error. A skill that names its
    own exception class SkillError gains nothing: the episode still failed."""
    return episode.status == "error" and (episode.reason or "").startswith("SkillError")


@dataclass(frozen=True)
class Verdict:
    """The Evaluator's judgment of one candidate.

    Attributes:
        stage: the furthest funnel stage passed: "rejected" (not even valid code),
            "syntax" (valid, but an episode raised an error), "runtime" (no episode
            raised: too few succeeded, or some ran out of time) or "success".
        passed: success rate >= the pass bar with no runtime error.
        success_rate: successes / episodes.
        family: what it was judged on: a task family, or another key such as a goal
            template (also readable as `key`).
        episodes: per-seed outcomes of the episodes run.
        feedback: for a failed candidate, what went wrong (the synthesizer's next prompt).
        interval: the Wilson 95% interval of the success rate over the episodes run.
        stopped_early: the run stopped before its last job (the verdict was decided).
    """

    stage: str
    passed: bool
    success_rate: float
    family: str
    episodes: tuple[Episode, ...]
    feedback: str = ""
    interval: tuple[float, float] = (0.0, 1.0)
    stopped_early: bool = False

    @property
    def seeds(self) -> list[int]:
        """The evaluation seeds of the episodes run (enough to reproduce the verdict)."""
        return [e.seed for e in self.episodes]

    @property
    def key(self) -> str:
        """What the verdict is about (the same as `family`)."""
        return self.family

    @property
    def successes(self) -> int:
        return sum(e.success for e in self.episodes)


class Executor(Protocol):
    """Runs sandboxed jobs, possibly in parallel, returning results in order."""

    def run_many(self, jobs: list[Job]) -> list:  # list[SandboxResult]
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """A pool of warm sandbox worker processes on this machine (started on first use).

    Args:
        workers: worker processes.
        provider: the pose provider the workers build (`skills.poses.ProviderSpec`;
            default the oracle).
        display: show each run in PyBullet's GUI on this X display (`run --gui`).
        grasps: the data home's remembered grasps (`skills.grasps.GraspMemory`), sent with
            each run and learned from it; None: none.
    """

    def __init__(
        self, workers: int = 2, provider=None, display: str | None = None, grasps=None
    ) -> None:
        self.workers = workers
        self.provider = provider
        self.display = display
        self.grasps = grasps
        self._pool = None
        self._lock = threading.Lock()

    @property
    def pool(self):
        with self._lock:
            if self._pool is None:
                from skills.sandbox import SandboxPool

                self._pool = SandboxPool(
                    workers=self.workers,
                    provider=self.provider,
                    display=self.display,
                    grasps=self.grasps,
                )
            return self._pool

    def run_one(self, job: Job):
        return run_job(self.pool, job)

    def run_many(self, jobs: list[Job]) -> list:
        if len(jobs) <= 1 or self.workers == 1:
            return [self.run_one(j) for j in jobs]
        pool = self.pool  # start the workers before the threads race for them
        del pool
        with ThreadPoolExecutor(self.workers) as ex:
            return list(ex.map(self.run_one, jobs))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


# (family, seed) -> keyword arguments for the candidate on that scene, or None if they
# cannot be bound (the instruction of that scene does not fit the candidate).
Binder = Callable[[str, int], dict | None]


def family_jobs(
    code: str, entry: str, family: str, binder: Binder, seeds: Sequence[int], timeout: float = 30.0
) -> list[Job] | None:
    """One job per seed on `family`'s scenes, arguments from `binder` (None if one does not bind)."""
    jobs = []
    for seed in seeds:
        args = binder(family, seed)
        if args is None:
            return None
        jobs.append(Job(code, entry, family, seed, args, timeout))
    return jobs


class Evaluator:
    """Verify candidate skills on evaluation episodes.

    Args:
        executor: where episodes run; its `workers` (1 if it has none) is the batch width.
        episodes: N, evaluation episodes per candidate (`evaluate`).
        pass_bar: success rate a candidate needs.
        timeout: wall-clock seconds per episode.
        seeds: `n -> n evaluation seeds` (default `draw_seeds`, fresh every call; a fixed
            source only for trusted code reproducing a verdict, and tests).
    """

    def __init__(
        self,
        executor: Executor,
        episodes: int = DEFAULT_EPISODES,
        pass_bar: float = DEFAULT_PASS_BAR,
        timeout: float = DEFAULT_TIMEOUT,
        seeds: Callable[[int], list[int]] = draw_seeds,
    ) -> None:
        if episodes < 1:
            raise SkillError("the Evaluator needs at least one episode")
        if not 0.0 < pass_bar <= 1.0:
            raise SkillError("the pass bar is a success rate in (0, 1]")
        self.executor = executor
        self.episodes = episodes
        self.pass_bar = pass_bar
        self.timeout = timeout
        self.seeds = seeds

    @property
    def width(self) -> int:
        """Episodes per batch: as many as the executor runs at once."""
        return max(1, int(getattr(self.executor, "workers", 1) or 1))

    def evaluate(
        self,
        code: str,
        entry: str,
        family: str,
        binder: Binder,
        seeds: Sequence[int] | None = None,
    ) -> Verdict:
        """Run the funnel for one candidate on fresh evaluation scenes of `family` (see
        `evaluate_jobs`); `seeds` (checked to lie in the reserved range) reproduce a verdict."""
        rejected = self._rejected(code, entry, family)
        if rejected is not None:
            return rejected
        chosen = self.seeds(self.episodes) if seeds is None else check_eval_seeds(seeds)
        jobs = family_jobs(code, entry, family, binder, chosen, self.timeout)
        if jobs is None:
            return Verdict(
                "syntax",
                False,
                0.0,
                family,
                (),
                "the skill's parameters do not fit the task's objects",
            )
        return self._run(family, jobs)

    def evaluate_jobs(self, code: str, entry: str, key: str, jobs: list[Job]) -> Verdict:
        """Run the funnel for one candidate over `jobs`, stopping once the verdict is decided.

        The code is validated first (stage "rejected"). Then the jobs run in batches as
        wide as the executor. After each batch the run stops when an episode did not run
        cleanly (the candidate has failed), or when the Wilson 95% interval of the
        successes so far is clearly below the pass bar (high < bar) or clearly above it
        (low >= bar) *and* the jobs left could not change the verdict: every one
        succeeding could not lift the rate to the bar, or every one failing could not
        pull it below. So an early stop never changes the verdict the full run would
        give; it only saves the episodes that could not matter. (The Wilson test alone
        would stop sooner on long runs, but could then reject a candidate the full run
        passes: one at a time, a first failure of five at a bar of 0.8 has an interval
        below 0.8, yet four successes after it pass.)

        The verdict: passed when no episode raised, timed out or was rejected, and the
        success rate over the episodes run is >= the pass bar.

        Args:
            code: the candidate's source.
            entry: its entry function.
            key: what the verdict is about: a task family, or e.g. a goal template.
            jobs: the episodes, run in order.
        """
        rejected = self._rejected(code, entry, key)
        if rejected is not None:
            return rejected
        if not jobs:
            return Verdict("syntax", False, 0.0, key, (), "there were no evaluation scenes to run")
        return self._run(key, jobs)

    def _run(self, key: str, jobs: list[Job]) -> Verdict:
        """Run valid code's jobs in batches until the verdict is decided; judge them."""
        total, run, results = len(jobs), [], []
        for at in range(0, total, self.width):
            batch = jobs[at : at + self.width]
            run += batch
            results += self.executor.run_many(batch)
            if len(run) < total and self._decided(results, total):
                break
        eps = tuple(
            Episode(
                j.seed,
                r.status,
                r.success,
                scrub(r.reason),  # feedback and records name no install path
                r.seconds,
                getattr(r, "goal", None),
                tuple(getattr(r, "atoms", ())),
                tuple(getattr(r, "calls", ())),
                getattr(r, "objects", None),
            )
            for j, r in zip(run, results, strict=True)
        )
        wins = sum(e.success for e in eps)
        rate = wins / len(eps) if eps else 0.0
        interval = wilson(wins, len(eps))
        early = len(eps) < total
        errors = [e for e in eps if e.status != "ok" and not said_could_not(e)]
        if errors:
            # the furthest stage passed: valid code that raised passed "syntax" only; code
            # that only ran out of time raised nothing, so it failed at success, not syntax
            statuses = {e.status for e in errors}
            stage = "syntax"
            if "rejected" in statuses:
                stage = "rejected"
            elif statuses == {"timeout"}:
                stage = "runtime"
            first = errors[0]
            return Verdict(
                stage,
                False,
                rate,
                key,
                eps,
                f"{first.status} on an evaluation scene: {first.reason}",
                interval,
                early,
            )
        passed = bool(eps) and rate >= self.pass_bar
        could_not = [e for e in eps if said_could_not(e)]
        ran = (
            f"the code said it could not on {len(could_not)} (first: {could_not[0].reason}) and"
            if could_not
            else "the code ran without errors but"
        )
        feedback = (
            ""
            if passed
            else (
                f"{ran} the task succeeded on only {wins} of {len(eps)} "
                f"evaluation scenes ({rate:.0%}, 95% interval {interval[0]:.0%}-{interval[1]:.0%}; "
                f"needs {self.pass_bar:.0%}): the objects did not end where the task wants them"
            )
        )
        return Verdict(
            "success" if passed else "runtime", passed, rate, key, eps, feedback, interval, early
        )

    def _decided(self, results: list, total: int) -> bool:
        """Whether the results so far decide the verdict (see `evaluate_jobs`)."""
        if any(r.status != "ok" and not said_could_not(r) for r in results):
            return True
        n, wins = len(results), sum(bool(r.success) for r in results)
        low, high = wilson(wins, n)
        left = total - n
        clearly_below = high < self.pass_bar and (wins + left) / total < self.pass_bar
        clearly_above = low >= self.pass_bar and wins / total >= self.pass_bar
        return clearly_below or clearly_above

    @staticmethod
    def _rejected(code: str, entry: str, key: str) -> Verdict | None:
        """The "rejected" verdict when the code fails validation, else None."""
        from skills.validate import validate

        try:
            validate(code, entry)
        except SkillError as exc:
            return Verdict("rejected", False, 0.0, key, (), f"the code was rejected: {exc}")
        return None
