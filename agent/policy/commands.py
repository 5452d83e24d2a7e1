"""What `skillgrove policy eval` and `policy corrections list|export` do, as functions.

The CLI (agent/cli/policy_cmd.py) parses options, calls these and prints the result;
the other commands call their module's entry point directly (`train.train_policy`,
`session.feedback_session`, `finetune.finetune_session`, `queue.enqueue_failures`,
`human.open_correction`/`finish_correction`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent.errors import AgentError

EVAL_MODES = ("sim", "proxy", "robot")


def policy_to_evaluate(home: Path, version, families: list[str] | None, threads: int):
    """Load a checkpoint and the families to score it on (default: those it was trained on).

    Returns:
        (policy, families)
    """
    from agent.policy.data import check_families
    from agent.policy.train import load_policy

    asked = list(check_families(families)) if families else None  # before any loading
    policy = load_policy(home, version, threads=threads)
    fams = asked or list(policy.info.get("families") or [])
    if not fams:
        raise AgentError("the checkpoint names no families: pass --families")
    return policy, fams


def evaluate_checkpoint(
    home: Path,
    policy,
    families: list[str],
    mode: str,
    episodes: int,
    advance: Callable[[], None] | None = None,
) -> dict:
    """Score a loaded policy on `episodes` held-out scenes (odd seeds) of each family.

    Args:
        mode: "sim" (execute the predicted action), "proxy" (pose tolerances on cached
            demonstrations) or "robot" (canonical skills, oracle vs policy poses).
        advance: called after each family.

    Returns:
        {"version", "mode", "episodes", "results": {family: scores}}
    """
    from agent.policy.data import load_demos, split_seeds
    from agent.policy.evaluate import evaluate_proxy, evaluate_sim
    from agent.policy.robot_eval import compare_providers

    if mode not in EVAL_MODES:
        raise AgentError(f"unknown evaluation mode {mode!r} (known: {', '.join(EVAL_MODES)})")
    seeds = split_seeds("test", episodes)
    results = {}
    for f in families:
        if mode == "robot":
            results.update(compare_providers(policy, [f], seeds))
        elif mode == "sim":
            results[f] = evaluate_sim(policy, f, seeds).to_dict()
        else:
            demos = load_demos(home, f, "test", episodes, policy.spec)
            results[f] = evaluate_proxy(policy, demos, f).to_dict()
        if advance is not None:
            advance()
    return {
        "version": policy.info.get("version"),
        "mode": mode,
        "episodes": episodes,
        "results": results,
    }


def list_corrections(home: Path, family: str | None, limit: int) -> dict:
    """Stored corrections, newest first, without images: {"total", "corrections"}."""
    from agent.policy.corrections import CorrectionStore, store_path
    from agent.policy.data import check_families

    if family is not None:
        check_families([family])
    store = CorrectionStore(store_path(home))
    rows = store.list(family, limit)
    return {"total": store.count(family), "corrections": rows}


def export_corrections(home: Path, path: Path, family: str | None, force: bool) -> dict:
    """Write the corrections (with images) as JSON lines to `path`, atomically.

    `path` is checked (`skills.files.check_target`: not existing unless `force`, no
    directory, device or link to one, not in a data home) before the store is opened.

    Returns:
        {"path", "count"}
    """
    from agent.policy.corrections import CorrectionStore, store_path
    from agent.policy.data import check_families
    from skills.files import check_target, safe_write

    if family is not None:
        check_families([family])
    check_target(path, force=force, home=home)
    store = CorrectionStore(store_path(home))
    with safe_write(path, force=force, home=home) as tmp:  # the whole file or none
        n = store.export(tmp, family)
    return {"path": str(path), "count": n}
