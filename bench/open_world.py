"""`skillgrove bench open`: open-world instructions, and whether any verdict lies.

Each task of the suite (`agent/suites/open_world.json`) is an instruction no family
template covers, with the goal the person meant (`expect`) or `refuse` when it must be
refused (itself, a contradiction, an object or verb we do not have). Every run is
re-judged from its RECORD alone: the expected goal evaluated on the recorded end poses
(`sim.goals.State.from_json(record.objects)`), and the run's own goal likewise. A claimed
success whose expected goal is false there (or cannot be judged there) is a false
success: the number this benchmark exists to keep at zero.
"""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path

from agent.errors import AgentError

SPLITS = {"dev": "open_world", "test": "open_world_heldout"}  # tuned on dev, measured on test


def load_open_suite(path: str | Path | None = None) -> list[dict]:
    """The tasks of an open-world suite: the packaged dev split by default, a split's
    name ("dev", "test"), or a JSON file."""
    if path is None or str(path) in SPLITS:
        name = SPLITS[str(path or "dev")]
        text = resources.files("agent").joinpath(f"suites/{name}.json").read_text()
    else:
        text = Path(path).read_text()
    return json.loads(text)["tasks"]


def run_open_passes(
    agent, passes: int = 2, seed_stride: int = 1000, advance=lambda n=1: None
) -> dict:
    """`bench agent --suite open`: both splits, pass after pass, on one library (new
    scenes each pass). Per split and pass: success among the tasks meant to be done,
    false successes, and how each done task got its skill: all steps reused, composed
    (the goal planner's composite), synthesized (new code) or planned from library steps."""
    out: dict = {"passes": passes, "splits": {}}
    for k in range(passes):
        for split in SPLITS:
            tasks = load_open_suite(split)
            seed = 1 + k * seed_stride + (0 if split == "dev" else seed_stride // 2)
            report = run_open_bench(agent, tasks, seed, advance)
            out["splits"].setdefault(split, []).append(_pass_summary(k + 1, report))
    return out


def _pass_summary(k: int, report: dict) -> dict:
    meant = [r for r in report["rows"] if not r["refuse"]]
    done = [r for r in meant if r["outcome"] == "success"]

    def how(r: dict) -> str:
        d = r.get("decisions") or []
        if d and all(x == "reuse" for x in d):
            return "reuse"
        return next((x for x in ("synthesize", "compose") if x in d), "library steps")

    share = {
        h: sum(how(r) == h for r in done)
        for h in ("reuse", "compose", "synthesize", "library steps")
    }
    return {
        "pass": k,
        "tasks": report["tasks"],
        "success_rate": report["success_rate_of_meant"],
        "reuse_rate": round(sum(how(r) == "reuse" for r in meant) / max(1, len(meant)), 3),
        "false_successes": report["false_successes"],
        "refused_but_meant": report["refused_but_meant"],
        "not_refused_but_should": report["not_refused_but_should"],
        "solved_by": share,
        "seconds": report["seconds"],
        "rows": report["rows"],
    }


def judge(record, expect: str | None) -> dict:
    """Re-judge a run from its record: the expected goal and the run's own goal."""
    from sim.goals import GoalError, State, check, evaluate

    state = State.from_json(list(record.objects))
    try:
        own = evaluate(check(record.goal, state), state).value
    except GoalError:
        own = False
    expected = None
    if expect is not None:
        try:
            expected = evaluate(check(expect, state), state).value
        except GoalError:
            expected = False  # the scene lacks what was asked for: nothing was done
    return {"recheck": own, "expected": expected}


def run_open_bench(agent, tasks: list[dict], seed: int = 0, advance=lambda n=1: None) -> dict:
    """Run every task once with `agent`; count successes, honest failures, refusals and
    false successes."""
    from sim.errors import SimError

    rows, t0 = [], time.perf_counter()
    for i, task in enumerate(tasks):
        row = {
            "instruction": task["instruction"],
            "expect": task.get("expect"),
            "refuse": bool(task.get("refuse")),
        }
        t = time.perf_counter()
        try:
            record = agent.run(task["instruction"], None, seed + i, objects=task.get("objects"))
        except (AgentError, SimError) as exc:
            row |= {"outcome": "refused", "reason": str(exc)}
        else:
            j = judge(record, task.get("expect"))
            false = record.success and (row["refuse"] or j["expected"] is False or not j["recheck"])
            outcome = "false success" if false else ("success" if record.success else "failed")
            row |= {
                "outcome": outcome,
                "goal": record.goal,
                "reason": record.reason,
                "planner": record.planner,
                "perception": record.perception,
                "run_id": record.run_id,
                "decisions": [d.decision for d in record.decisions],
                **j,
            }
        row["seconds"] = round(time.perf_counter() - t, 2)
        rows.append(row)
        advance()
    count = {
        k: sum(r["outcome"] == k for r in rows)
        for k in ("success", "failed", "refused", "false success")
    }
    wrong_refusal = sum(r["outcome"] == "refused" and not r["refuse"] for r in rows)
    missed_refusal = sum(r["refuse"] and r["outcome"] != "refused" for r in rows)
    return {
        "tasks": len(rows),
        "successes": count["success"],
        "honest_failures": count["failed"],
        "refused": count["refused"],
        "false_successes": count["false success"],
        "refused_but_meant": wrong_refusal,
        "not_refused_but_should": missed_refusal,
        "success_rate_of_meant": round(
            count["success"] / max(1, sum(not r["refuse"] for r in rows)), 3
        ),
        "seconds": round(time.perf_counter() - t0, 1),
        "rows": rows,
    }
