"""The pose policy's side of exploration: self-supervised fine-tunes and the failure queue.

The policy's own functions do the work: `agent.policy.self_data.finetune_from_runs` makes
rows from the steps of runs whose goal the simulator said held, with the poses the
simulator confirmed (no expert label), and from the steps of failed runs as practice
found they should have been carried out (`agent.policy.practice`), and fine-tunes the latest checkpoint with a
continual-learning strategy into a new one; `agent.policy.queue.enqueue_runs` queues the
steps of failed runs for a person's corrections, most informative first. Either may fail
(no checkpoint yet, no usable row): the step is reported with the reason, and
exploration goes on.
"""

from __future__ import annotations

from pathlib import Path

from agent.errors import AgentError


def _plain(value):
    """A JSON-able copy of what the policy's functions return (dataclasses, paths...)."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _brief(result) -> dict:
    """What a session's summary keeps of a result: its figures; lists as their lengths
    (the queued items and skipped runs are in the policy's own store)."""
    plain = _plain(result)
    if not isinstance(plain, dict):
        return {"result": plain}
    return {k: len(v) if isinstance(v, list) and k != "relations" else v for k, v in plain.items()}


def _apply(fn, run_ids: list[str], nothing: str) -> dict:
    """`fn(run_ids)` as a step of a session: {"status": "done" | "skipped" | "failed",
    "runs": n, "result" | "reason": ...}; skipped (with `nothing`) when there is no run."""
    if not run_ids:
        return {"status": "skipped", "runs": 0, "reason": nothing}
    try:
        result = fn(list(run_ids))
    except AgentError as exc:  # no checkpoint yet, no usable row...: exploration goes on
        return {"status": "failed", "runs": len(run_ids), "reason": str(exc)}
    return {"status": "done", "runs": len(run_ids), "result": _brief(result)}


def self_train(home: Path, run_ids: list[str], strategy: str, practice: bool = True) -> dict:
    """Fine-tune the policy on the runs `run_ids` (no expert label): the steps of the
    successful ones as carried out and, with `practice`, those of the failed ones as
    practice in the simulator found they should have been."""
    from agent.policy.self_data import finetune_from_runs

    return _apply(
        lambda ids: finetune_from_runs(home, ids, strategy=strategy, practice=practice),
        run_ids,
        "no run to learn from",
    )


def queue_failures(home: Path, run_ids: list[str]) -> dict:
    """Queue the failed runs `run_ids` for a person's corrections (the policy's queue)."""
    from agent.policy.queue import enqueue_runs

    return _apply(lambda ids: enqueue_runs(home, ids), run_ids, "no failed run to queue")
