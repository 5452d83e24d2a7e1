"""The work behind `skillgrove run`, `skills add` and `skills search`, as functions.

The CLI (agent/cli/run_cmd.py, agent/cli/skills_cmd.py) parses options, calls these and
prints; the Python API (`skillgrove.Library`) calls the same functions and wraps their
dicts in typed records, so both give the same fields. Heavy imports stay inside the
functions: importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any


def run_instruction(
    home: Path,
    opts,
    instruction: str,
    family: str | None = None,
    seed: int = 0,
    goal: str | None = None,
    objects: str | None = None,
    distractors: int | None = None,
    perception: str = "oracle",
    policy_version: str | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[Any, dict]:
    """Carry out one instruction with a fresh-built agent (what `skillgrove run` does).

    Args:
        home: the data home (exists and is writable).
        opts: the agent's `agent.factory.AgentOptions`; `perception` and
            `policy_version` replace its own.
        log: progress lines (None: silent).

    Returns:
        (record, data): the `agent.run.records.RunRecord` and the `run --json` object.

    Raises:
        AgentError: bad input (a refused goal, --policy-version without policy perception).
    """
    from agent.factory import build_agent

    opts = replace(opts, perception=perception, policy_version=policy_version)
    with build_agent(home, opts, log=log) as agent:
        record = agent.run(instruction, family, seed, goal, objects, distractors)
    data = record.summary() | {"perception": record.perception}
    if record.gif:
        data["gif"] = str(home / record.gif)
    return record, data


def search_skills(lib, query: str, k: int = 5) -> tuple[Any, dict]:
    """Rank the library's skills for `query` (what `skills search` does).

    Returns:
        (result, data): the `skills.search.SearchResult` and the `skills search --json`
        object {"decision", "results": [{"name", "score", "version", "verified"}]}.
    """
    r = lib.search(query, k)
    data = {
        "decision": r.decision,
        "results": [
            {"name": m.name, "score": m.score, "version": m.version, "verified": m.verified}
            for m in r.matches
        ],
    }
    return r, data


def version_dict(v, with_code: bool = False) -> dict:
    """A skill version as `skills show|history --json` print it (code only if asked)."""
    d = {
        "name": v.name,
        "version": v.version,
        "description": v.description,
        "author": v.author,
        "verified": v.verified,
        "stage": v.stage,
        "parent": list(v.parent) if v.parent else None,
        "created": v.created,
        "content_hash": v.content_hash,
        "params": [
            {"name": p.name, "required": p.required, "default": p.default} for p in v.params
        ],
        "examples": list(v.examples),
        "goal_template": v.goal_template,
        "stats": {
            f: {"episodes": e, "successes": s, "success_rate": round(s / e, 4) if e else None}
            for f, (e, s) in sorted(v.stats.items())
        },
    }
    if with_code:
        d["code"] = v.code
    return d


def verify_skill(code: str, entry: str, params: tuple, families: list[str]):
    """The Evaluator's funnel on each family's evaluation scenes (the agent's own check).

    Returns:
        an `agent.evaluate.verify.Verification`.
    """
    from agent.evaluate.verify import KeyCheck, Verification
    from agent.factory import AgentOptions, build_evaluator
    from agent.synth.binding import scene_binder

    with build_evaluator(AgentOptions()) as (evaluator, scenes):
        binder = scene_binder(scenes, [(p.name, p.required) for p in params])
        checks = [KeyCheck.of(evaluator.evaluate(code, entry, f, binder)) for f in families]
    return Verification.of(checks)


def add_skill(
    lib,
    name: str,
    code: str,
    description: str | None = None,
    unverified: bool = False,
    tasks: tuple = (),
    author: str = "human",
    verify: Callable = verify_skill,
) -> tuple[Any, dict]:
    """Add `code` as skill `name` (a new version if it exists), verified in simulation
    unless `unverified` (what `skills add` does).

    Args:
        tasks: families to verify on (default: those whose slots match the parameters).
        verify: the check (`verify_skill`; a test may hand in another).

    Returns:
        (version, data): the stored `skills.library.SkillVersion` and the `skills add
        --json` object (`version_dict`, plus "warnings" when the library had some).

    Raises:
        SkillError: invalid code, no family fits, or the skill failed verification.
    """
    from agent.evaluate.verify import families_for
    from skills.errors import SkillError

    v = lib.prepare(name, code, description, author=author, verified=False)  # checks first
    stage, stats = "unverified", {}
    if not unverified:
        fams = families_for(v.params, tasks)
        if not fams:
            raise SkillError(
                f"no task family has the parameters of {name}; pass --task FAMILY or --unverified"
            )
        check = verify(code, name, v.params, fams)
        if not check.verified:
            raise SkillError(f"{name} failed verification (stage {check.stage}): {check.reason}")
        stage, stats = check.stage, check.stats
    v = lib.add(
        name, code, description, author=author, verified=not unverified, stage=stage, stats=stats
    )
    data = version_dict(v) | ({"warnings": list(lib.warnings)} if lib.warnings else {})
    return v, data


def verify_skills(
    lib,
    name: str | None = None,
    episodes: int = 5,
    workers: int | None = 2,
    progress: Callable[[int], Any] | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> tuple[list, dict]:
    """Re-prove the latest version of every skill (or of `name`) on fresh scenes (what
    `skills verify` does); a version that fails is marked unverified.

    Args:
        executor, ray_address: where the episodes run ("local", or "ray" on the cluster at
            `ray_address`; see `agent.factory.make_executor`).
        progress: given the number of checks, a context manager yielding an `advance()`
            callable (None: no progress).

    Returns:
        (checked, data): the `agent.evaluate.verify` checks and the `skills verify --json`
        object {"skills": [...], "summary": {"versions", "passed", "failed", "skipped",
        "episodes", "seconds"}}.
    """
    import time
    from contextlib import nullcontext

    from agent.evaluate.verify import plan, verify_library
    from agent.factory import AgentOptions, build_evaluator

    t0 = time.perf_counter()
    opts = AgentOptions(
        workers=workers, episodes=episodes, executor=executor, ray_address=ray_address
    )
    todo = plan(lib, opts.pass_bar, name)
    total = sum(len(keys) for _, keys in todo)
    shown = progress(total) if progress is not None else nullcontext(None)
    with build_evaluator(opts, lib.home) as (evaluator, scenes), shown as advance:
        checked = verify_library(lib, evaluator, scenes, todo, episodes, advance)
    counts = {s: sum(c.status == s for c in checked) for s in ("passed", "failed", "skipped")}
    data = {
        "skills": [c.to_dict() for c in checked],
        "summary": {
            "versions": len(checked),
            **counts,
            "episodes": sum(k.episodes for c in checked for k in c.checks),
            "seconds": round(time.perf_counter() - t0, 2),
        },
    }
    return checked, data
