"""The Evaluator: a GenSim-style funnel that proves a candidate skill in simulation.

syntax/AST (the sandbox's validator) -> runtime (every episode runs without an error)
-> success (success rate over N seeded episodes of the task family >= the pass bar).
Evaluation seeds come from a range no run seed may use, so a skill is never verified on
the very scene it is then run on. Episodes run in parallel through an `Executor`: a local
pool of sandbox workers by default, Ray when asked (`RayExecutor`), with no change here.

Perception: the Evaluator judges the skill's code, so its executor gives the robot API
oracle poses (the agent builds it so; see `agent.factory`). A candidate is then never
rejected, nor a library skill's statistics lowered, for the pose policy's mistakes; the
run itself uses the perception the user chose (`run --perception policy`), and its
record says which.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from skills.errors import SkillError

EVAL_SEED_BASE = 1_000_000_000  # evaluation seeds are >= this; run seeds must be below
DEFAULT_EPISODES = 5
DEFAULT_PASS_BAR = 0.8
STAGES = ("rejected", "syntax", "runtime", "success")  # the furthest stage passed


def eval_seeds(n: int, offset: int = 0) -> list[int]:
    """The first `n` evaluation seeds (after `offset`)."""
    return [EVAL_SEED_BASE + offset + i for i in range(n)]


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


@dataclass(frozen=True)
class Episode:
    """What one evaluation episode showed."""

    seed: int
    status: str
    success: bool
    reason: str | None
    seconds: float


@dataclass(frozen=True)
class Verdict:
    """The Evaluator's judgment of one candidate.

    Attributes:
        stage: the furthest funnel stage passed: "rejected" (not even valid code),
            "syntax", "runtime" or "success".
        passed: success rate >= the pass bar with no runtime error.
        success_rate: successes / episodes.
        family: the task family it was judged on.
        episodes: per-seed outcomes.
        feedback: for a failed candidate, what went wrong (the synthesizer's next prompt).
    """

    stage: str
    passed: bool
    success_rate: float
    family: str
    episodes: tuple[Episode, ...]
    feedback: str = ""

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
    """

    def __init__(self, workers: int = 2, provider=None) -> None:
        self.workers = workers
        self.provider = provider
        self._pool = None
        self._lock = threading.Lock()

    @property
    def pool(self):
        with self._lock:
            if self._pool is None:
                from skills.sandbox import SandboxPool

                self._pool = SandboxPool(workers=self.workers, provider=self.provider)
            return self._pool

    def run_one(self, job: Job):
        return self.pool.run(job.code, job.entry, job.family, job.seed, job.params, job.timeout,
                             record=job.record, scene=job.scene, goal=job.goal)  # fmt: skip

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


class RayExecutor:
    """Episodes as Ray tasks, each running in a sandbox worker on whichever node Ray picks.

    Needs the optional `ray` extra (`pip install skillgrove[ray]`) and a cluster address
    (or a local Ray started on demand).
    """

    def __init__(self, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise SkillError(
                "the Ray executor needs the 'ray' package (pip install 'skillgrove[ray]')"
            ) from None
        if not ray.is_initialized():
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        self._ray = ray
        self._remote = ray.remote(_ray_episode)

    def run_many(self, jobs: list[Job]) -> list:
        return self._ray.get([self._remote.remote(j) for j in jobs])

    def close(self) -> None:
        pass


def _ray_episode(job: Job):
    from skills.sandbox import run_skill

    return run_skill(job.code, job.entry, job.family, job.seed, job.params, job.timeout,
                     scene=job.scene, goal=job.goal)  # fmt: skip


# (family, seed) -> keyword arguments for the candidate on that scene, or None if they
# cannot be bound (the instruction of that scene does not fit the candidate).
Binder = Callable[[str, int], dict | None]


class Evaluator:
    """Verify candidate skills on evaluation episodes of a task family.

    Args:
        executor: where episodes run.
        episodes: N, evaluation episodes per candidate.
        pass_bar: success rate a candidate needs.
        timeout: wall-clock seconds per episode.
    """

    def __init__(self, executor: Executor, episodes: int = DEFAULT_EPISODES,
                 pass_bar: float = DEFAULT_PASS_BAR, timeout: float = 30.0) -> None:  # fmt: skip
        if episodes < 1:
            raise SkillError("the Evaluator needs at least one episode")
        if not 0.0 < pass_bar <= 1.0:
            raise SkillError("the pass bar is a success rate in (0, 1]")
        self.executor = executor
        self.episodes = episodes
        self.pass_bar = pass_bar
        self.timeout = timeout

    def evaluate(self, code: str, entry: str, family: str, binder: Binder) -> Verdict:
        """Run the funnel for one candidate on `family`'s evaluation seeds."""
        from skills.validate import validate

        try:
            validate(code, entry)
        except SkillError as exc:
            return Verdict("rejected", False, 0.0, family, (), f"the code was rejected: {exc}")
        jobs = []
        for seed in eval_seeds(self.episodes):
            args = binder(family, seed)
            if args is None:
                return Verdict(
                    "syntax",
                    False,
                    0.0,
                    family,
                    (),
                    "the skill's parameters do not fit the task's objects",
                )
            jobs.append(Job(code, entry, family, seed, args, self.timeout))
        results = self.executor.run_many(jobs)
        eps = tuple(
            Episode(j.seed, r.status, r.success, r.reason, r.seconds)
            for j, r in zip(jobs, results, strict=True)
        )
        rate = sum(e.success for e in eps) / len(eps)
        errors = [e for e in eps if e.status != "ok"]
        if errors:
            rejected = [e for e in errors if e.status == "rejected"]
            stage = "rejected" if rejected else "syntax"
            first = errors[0]
            return Verdict(
                stage,
                False,
                rate,
                family,
                eps,
                f"{first.status} on an evaluation scene: {first.reason}",
            )
        passed = rate >= self.pass_bar
        feedback = (
            ""
            if passed
            else (
                f"the code ran without errors but the task succeeded on only {sum(e.success for e in eps)} of "
                f"{len(eps)} evaluation scenes (needs {self.pass_bar:.0%}): the objects did not end where the task wants them"
            )
        )
        return Verdict("success" if passed else "runtime", passed, rate, family, eps, feedback)
