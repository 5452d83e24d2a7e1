"""Keep the library honest: re-run each skill version's evaluation and mark what fails.

`skills verify` checks a version on every key of its stats: a task family's evaluation
scenes, or the scenes another kind of key (a goal template such as `left_of({a}, {b})`)
generates through a function registered with `register_key_jobs`. A version without
stats (a seed) is checked on the families its parameters fit (what `skills add` verifies
on). Scenes are drawn afresh for every check from the reserved evaluation range (see
`agent.evaluate.evaluator`); the seeds used are reported with each key's outcome
(`KeyCheck.seeds`, `skills verify --json`) and logged with the verdict
(`agent.evaluate.evidence`), so trusted code can reproduce it.

A version is judged on what it claims: the keys where its recorded success rate had
reached the pass bar. It fails when it no longer passes on one of them. Keys where it was
already below the bar (the agent records failed tries too) are re-checked but cannot fail
it; a version that claims nothing (no stats, or only weak ones) passes when it passes on
at least one key: `place_on` fits the "align" family's slots but was never meant to turn
the object, and still is a good "place" skill.

A version that fails loses its verified flag (automatic reuse never picks an unverified
skill); one that passes keeps or regains it. Either way the new episodes are added to its
stats. A key nothing can build scenes for is skipped, not failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.errors import AgentError

if TYPE_CHECKING:
    from agent.evaluate.evaluator import Evaluator, Job, Verdict
    from skills.library import SkillLibrary
    from skills.store import SkillVersion

# (scenes, version, key, n) -> the jobs that check `version` on `key`, or None when the
# key is not one this function builds scenes for.
KeyJobs = Callable[[Any, "SkillVersion", str, int], "list[Job] | None"]

# Scene generators for keys that are not task families ("module:function" or the
# function), in registration order: a registry of functions like `sim.families.FAMILIES`.
_KEY_JOBS: list[KeyJobs | str] = []

# the library's stages (skills.store.STAGES) for the Evaluator's (agent.evaluate.evaluator.STAGES)
_LIBRARY_STAGE = {"rejected": "unverified"}


class NoFit(AgentError):
    """A key's scenes cannot be bound to the skill's parameters (the check fails)."""


def register_key_jobs(fn: KeyJobs | str) -> KeyJobs | str:
    """Register a scene generator for stats keys that are not task families.

    `fn(scenes, version, key, n)` returns the `n` jobs that check `version` on `key`
    (fresh evaluation seeds), None when `key` is not its kind, or raises `NoFit` when the key's
    scenes do not fit the skill (the key fails); another `AgentError` (no scene could
    be built) skips the key with its message. `fn` may also be named as
    "module:function", imported on first use (so `skills verify` finds it without
    importing it first). Returns `fn`, so it works as a decorator; registering the same
    one twice keeps one.
    """
    if fn not in _KEY_JOBS:
        _KEY_JOBS.append(fn)
    return fn


register_key_jobs("agent.plan.skills:template_jobs")  # skills filed under a goal template


def _generator(fn: KeyJobs | str) -> KeyJobs:
    if isinstance(fn, str):
        import importlib

        module, attr = fn.split(":")
        return getattr(importlib.import_module(module), attr)
    return fn


def jobs_for_key(
    scenes, version: SkillVersion, key: str, n: int, draw: Callable[[int], list[int]] | None = None
) -> list[Job] | None:
    """The jobs that check `version` on stats key `key` with `n` fresh evaluation seeds
    (from `draw`, default `agent.evaluate.evaluator.draw_seeds`).

    A task family's jobs are its evaluation scenes with the skill's arguments bound from
    each scene's instruction (as the agent binds them); any other key goes to the
    registered generators, newest first.

    Returns:
        The jobs, or None when no generator builds scenes for `key`.

    Raises:
        NoFit: the key's scenes cannot be bound to the skill's parameters.
    """
    from agent.evaluate.evaluator import draw_seeds, family_jobs
    from agent.synth.binding import scene_binder
    from sim.families import FAMILIES

    if key in FAMILIES:
        binder = scene_binder(scenes, [(p.name, p.required) for p in version.params])
        jobs = family_jobs(version.code, version.name, key, binder, (draw or draw_seeds)(n))
        if jobs is None:
            raise NoFit("the skill's parameters do not fit the task's objects")
        return jobs
    for fn in reversed(_KEY_JOBS):
        jobs = _generator(fn)(scenes, version, key, n)
        if jobs is not None:
            return jobs
    return None


def families_for(params: tuple, families: tuple[str, ...] = ()) -> list[str]:
    """Task families a skill can be verified on: given ones, else those whose slots are
    exactly the skill's required parameters."""
    from sim.families import FAMILIES, check_family, task_class

    if families:
        return [check_family(f) for f in families]
    required = {p.name for p in params if p.required}
    names = {p.name for p in params}
    return [f for f in FAMILIES if required <= set(task_class(f).slots) <= names]


def keys_for(version: SkillVersion, pass_bar: float) -> list[tuple[str, bool]]:
    """What to check a version on, each with whether the version claims it.

    Its stats keys (claimed where the recorded success rate reached `pass_bar`), else
    the goal template it is filed under and the families its parameters fit (none
    claimed; an imported version has no stats until verified here).
    """
    if version.stats:
        return [(k, e > 0 and s / e >= pass_bar) for k, (e, s) in sorted(version.stats.items())]
    filed = [(version.goal_template, False)] if version.goal_template else []
    return filed + [(f, False) for f in (families_for(version.params) if version.params else [])]


@dataclass(frozen=True)
class KeyCheck:
    """One version checked on one key.

    Attributes:
        key: a task family or another stats key (e.g. a goal template).
        status: "passed", "failed" or "skipped" (nothing builds scenes for the key).
        stage: the Evaluator's funnel stage (None when skipped).
        episodes: episodes run (fewer than asked when the verdict was decided early).
        successes: of those, how many succeeded.
        interval: Wilson 95% interval of the success rate.
        stopped_early: the run stopped once the verdict was decided.
        reason: why it failed or was skipped.
        claimed: the version had passed on this key before (see the module's docstring).
        seeds: the evaluation seeds of the episodes run (to reproduce the check).
    """

    key: str
    status: str
    stage: str | None = None
    episodes: int = 0
    successes: int = 0
    interval: tuple[float, float] = (0.0, 1.0)
    stopped_early: bool = False
    reason: str | None = None
    claimed: bool = True
    seeds: tuple[int, ...] = ()

    @classmethod
    def of(cls, verdict: Verdict, claimed: bool = True) -> KeyCheck:
        """The check a Verdict gives."""
        return cls(
            verdict.key,
            "passed" if verdict.passed else "failed",
            verdict.stage,
            len(verdict.episodes),
            verdict.successes,
            verdict.interval,
            verdict.stopped_early,
            None if verdict.passed else verdict.feedback,
            claimed,
            tuple(verdict.seeds),
        )

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.episodes if self.episodes else None

    def to_dict(self) -> dict:
        rate = self.success_rate
        return {
            "key": self.key,
            "status": self.status,
            "passed": self.passed,
            "stage": self.stage,
            "episodes": self.episodes,
            "successes": self.successes,
            "success_rate": None if rate is None else round(rate, 4),
            "interval": [round(x, 4) for x in self.interval],
            "stopped_early": self.stopped_early,
            "reason": self.reason,
            "claimed": self.claimed,
            "seeds": list(self.seeds),
        }


@dataclass(frozen=True)
class Verification:
    """Outcome of verifying a skill in simulation with the Evaluator.

    Attributes:
        stage: funnel stage reached (see `agent.evaluate.evaluator.STAGES`); "success" only when
            every key passed.
        stats: key -> (episodes, successes).
        reason: why it stopped short of "success" (the first failed key's feedback).
    """

    stage: str
    stats: dict[str, tuple[int, int]]
    reason: str | None = None

    @property
    def verified(self) -> bool:
        return self.stage == "success"

    @classmethod
    def of(cls, checks: Iterable[KeyCheck]) -> Verification:
        """Fold the checks that ran (skipped ones count for nothing)."""
        from agent.evaluate.evaluator import STAGES

        stage, stats, reason = "success", {}, None
        for c in checks:
            if c.status == "skipped":
                continue
            stats[c.key] = (c.episodes, c.successes)
            if not c.passed:
                stage = min(stage, c.stage or "rejected", key=STAGES.index)
                reason = reason or f"{c.key}: {c.reason}"
        return cls(stage, stats, reason)


@dataclass(frozen=True)
class VersionCheck:
    """One version's checks and the verified flag it has after them."""

    name: str
    version: int
    checks: tuple[KeyCheck, ...]
    verified: bool

    @property
    def deciding(self) -> list[KeyCheck]:
        """The checks that decide the verdict: the claimed keys that ran, else every key that ran."""
        ran = [c for c in self.checks if c.status != "skipped"]
        return [c for c in ran if c.claimed] or ran

    @property
    def status(self) -> str:
        """ "passed", "failed", or "skipped" when no key ran (see the module's docstring)."""
        deciding = self.deciding
        if not deciding:
            return "skipped"
        if deciding[0].claimed:
            return "passed" if all(c.passed for c in deciding) else "failed"
        return "passed" if any(c.passed for c in deciding) else "failed"

    @property
    def stage(self) -> str | None:
        """The Evaluator's stage for the version: "success" when it passed, else the stage
        of the first claimed key that failed (claiming nothing: the furthest reached)."""
        from agent.evaluate.evaluator import STAGES

        status, deciding = self.status, self.deciding
        if status != "failed":
            return "success" if status == "passed" else None
        if deciding[0].claimed:
            return next(c.stage for c in deciding if not c.passed)
        return max((c.stage or "rejected" for c in deciding), key=STAGES.index)

    @property
    def reason(self) -> str | None:
        """Why the version was not checked, or why it failed."""
        if not self.checks:
            return "nothing to check it on: no stats, and no task family fits its parameters"
        status = self.status
        if status == "skipped":
            return "; ".join(c.reason or c.key for c in self.checks)
        if status == "passed":
            return None
        failed = next(c for c in self.deciding if not c.passed)
        return f"{failed.key}: {failed.reason}"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "verified": self.verified,
            "stage": self.stage,
            "reason": self.reason,
            "keys": [c.to_dict() for c in self.checks],
        }


def check_version(
    evaluator: Evaluator,
    scenes,
    version: SkillVersion,
    keys: list[tuple[str, bool]],
    n: int,
    advance: Callable[[], None] | None = None,
) -> tuple[KeyCheck, ...]:
    """Run the Evaluator on each (key, claimed) of `keys` on `n` fresh scenes; write nothing."""
    checks = []
    for key, claimed in keys:
        try:
            jobs = jobs_for_key(scenes, version, key, n, getattr(evaluator, "seeds", None))
        except NoFit as exc:
            checks.append(KeyCheck(key, "failed", "syntax", reason=str(exc), claimed=claimed))
        except AgentError as exc:  # the generator could not build scenes: not the skill's fault
            checks.append(
                KeyCheck(key, "skipped", reason=f"no evaluation scene: {exc}", claimed=claimed)
            )
        else:
            if jobs is None:
                checks.append(
                    KeyCheck(
                        key, "skipped", reason=f"no scene generator for {key}", claimed=claimed
                    )
                )
            else:
                verdict = evaluator.evaluate_jobs(version.code, version.name, key, jobs)
                checks.append(KeyCheck.of(verdict, claimed))
        if advance is not None:
            advance()
    return tuple(checks)


def record(
    library: SkillLibrary, version: SkillVersion, checks: tuple[KeyCheck, ...]
) -> VersionCheck:
    """Write the checks' episodes to the version's stats and set its verified flag and stage;
    log each check with its seeds (`agent.evaluate.evidence`).

    A version whose every key was skipped is left as it is.
    """
    done = VersionCheck(version.name, version.version, checks, version.verified)
    if done.status == "skipped":
        return done
    stage = _LIBRARY_STAGE.get(done.stage, done.stage)
    ran = [c for c in checks if c.episodes]
    for i, c in enumerate(ran):
        library.record_stats(
            version.name,
            version.version,
            c.key,
            c.episodes,
            c.successes,
            stage=stage if i == len(ran) - 1 else None,
        )
    after = library.set_verified(version.name, version.version, done.status == "passed")
    from agent.evaluate.evidence import Evidence, store_url

    # for the reuse rule, with the seeds used
    with Evidence(library.home, store_url(library)) as evidence:
        for c in ran:
            evidence.log(
                version.name, version.version, c.key, c.episodes, c.successes, c.passed, c.seeds
            )
    return VersionCheck(version.name, version.version, checks, after.verified)


Todo = list[tuple["SkillVersion", list[tuple[str, bool]]]]


def plan(library: SkillLibrary, pass_bar: float, name: str | None = None) -> Todo:
    """The versions to check (the latest of every skill, or of `name`) and their keys."""
    names = [name] if name else [i.name for i in library.list()]
    return [(v, keys_for(v, pass_bar)) for v in (library.get(n) for n in names)]


def verify_library(
    library: SkillLibrary,
    evaluator: Evaluator,
    scenes,
    todo: Todo,
    n: int,
    advance: Callable[[], None] | None = None,
) -> list[VersionCheck]:
    """Check each planned version on its keys and record the outcome in the library.

    Args:
        library: where the versions live; their stats and verified flags are updated.
        evaluator: runs the episodes (oracle poses, see `agent.evaluate.evaluator`).
        scenes: the agent's scene cache (`agent.run.scenes.Scenes`).
        todo: from `plan`.
        n: evaluation episodes per key (fewer run when the verdict is decided early).
        advance: called once per key checked (a progress bar).
    """
    out = []
    for version, keys in todo:
        checks = check_version(evaluator, scenes, version, keys, n, advance)
        out.append(record(library, version, checks))
    return out
