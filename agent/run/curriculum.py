"""Curricula: a suite of tasks run through the agent, pass after pass, with a report.

A suite is a JSON file (agent/suites/<name>.json, or any path): tasks (family, seed and
an optional instruction with {slot} placeholders the teacher fills from the scene), and
a number of passes; pass k runs every task on seed + k * seed_stride, i.e. new scenes.
The report gives per task the outcome, the decisions, LLM calls and seconds, and over
the suite the success rate per pass, the library size over time and the reuse rate of
the later passes. Plots of library growth and success go next to the report.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from agent.errors import AgentError

SUITES = Path(__file__).resolve().parents[1] / "suites"


@dataclass(frozen=True)
class SuiteTask:
    family: str
    seed: int
    instruction: str | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    tasks: tuple[SuiteTask, ...]
    passes: int = 1
    seed_stride: int = 1000


def suite_names() -> list[str]:
    return sorted(p.stem for p in SUITES.glob("*.json"))


def load_suite(name: str) -> Suite:
    """A suite by name (agent/suites/) or by path; AgentError if missing or malformed."""
    path = Path(name) if name.endswith(".json") else SUITES / f"{name}.json"
    if not path.is_file():
        raise AgentError(f"unknown suite {name!r} (known: {', '.join(suite_names())})")
    try:
        d = json.loads(path.read_text())
        tasks = tuple(
            SuiteTask(t["family"], int(t["seed"]), t.get("instruction")) for t in d["tasks"]
        )
        suite = Suite(
            d.get("name", path.stem),
            d.get("description", ""),
            tasks,
            int(d.get("passes", 1)),
            int(d.get("seed_stride", 1000)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise AgentError(f"suite {path} is malformed: {exc}") from None
    from sim.families import FAMILIES

    bad = sorted({t.family for t in tasks} - set(FAMILIES))
    if bad or not tasks or suite.passes < 1:
        raise AgentError(
            f"suite {path} is malformed: unknown families {bad}"
            if bad
            else f"suite {path} has no tasks"
        )
    return suite


def run_suite(agent, suite: Suite, out_dir: Path, advance=lambda n=1: None) -> dict:
    """Run every task of every pass; write report.json, report.md and plots to `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, t0 = [], time.perf_counter()
    for k in range(suite.passes):
        for task in suite.tasks:
            seed = task.seed + k * suite.seed_stride
            scene = agent.scenes.scene(task.family, seed)
            text = scene.instruction
            if task.instruction:
                text = task.instruction.format(**dict(scene.params))
            t1 = time.perf_counter()
            try:
                rec = agent.run(text, task.family, seed)
                row = {
                    "pass": k + 1,
                    "family": task.family,
                    "seed": seed,
                    "instruction": text,
                    "success": rec.success,
                    "decisions": [d.decision for d in rec.decisions],
                    "reused": rec.reused,
                    "synthesized": rec.synthesized,
                    "llm_calls": rec.llm_calls,
                    "seconds": round(time.perf_counter() - t1, 2),
                    "run_id": rec.run_id,
                    "skills": list(rec.skills),
                    "reason": rec.reason,
                }
            except AgentError as exc:
                row = {
                    "pass": k + 1,
                    "family": task.family,
                    "seed": seed,
                    "instruction": text,
                    "success": False,
                    "decisions": [],
                    "reused": 0,
                    "synthesized": 0,
                    "llm_calls": 0,
                    "seconds": round(time.perf_counter() - t1, 2),
                    "run_id": None,
                    "skills": [],
                    "reason": str(exc),
                }
            row["library_size"] = len(agent.library.list())
            rows.append(row)
            advance()
    report = summarize(suite, rows, time.perf_counter() - t0)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1))
    (out_dir / "report.md").write_text(markdown(report))
    plot(report, out_dir)
    report["dir"] = str(out_dir)
    return report


def summarize(suite: Suite, rows: list[dict], seconds: float) -> dict:
    passes = []
    for k in range(1, suite.passes + 1):
        mine = [r for r in rows if r["pass"] == k]
        n = len(mine) or 1
        passes.append(
            {
                "pass": k,
                "tasks": len(mine),
                "success_rate": sum(r["success"] for r in mine) / n,
                "reuse_rate": sum(
                    bool(r["decisions"]) and all(d == "reuse" for d in r["decisions"]) for r in mine
                )
                / n,
                "synthesized": sum(r["synthesized"] for r in mine),
                "llm_calls": sum(r["llm_calls"] for r in mine),
            }
        )
    return {
        "suite": suite.name,
        "tasks": rows,
        "passes": passes,
        "seconds": round(seconds, 1),
        "success_rate": sum(r["success"] for r in rows) / max(1, len(rows)),
        "library_size": [r["library_size"] for r in rows],
    }


def markdown(report: dict) -> str:
    lines = [
        f"# Curriculum `{report['suite']}`",
        "",
        "| pass | tasks | success | reuse (no synthesis) | synthesized | LLM calls |",
        "|---|---|---|---|---|---|",
    ]
    for p in report["passes"]:
        lines.append(
            f"| {p['pass']} | {p['tasks']} | {p['success_rate']:.0%} | {p['reuse_rate']:.0%} | {p['synthesized']} | {p['llm_calls']} |"
        )
    lines += [
        "",
        "| pass | family | seed | instruction | success | decisions | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["tasks"]:
        lines.append(
            f"| {r['pass']} | {r['family']} | {r['seed']} | {r['instruction']} | {'yes' if r['success'] else 'NO'} | "
            f"{', '.join(r['decisions']) or '-'} | {r['seconds']} |"
        )
    return "\n".join(lines) + "\n"


def plot(report: dict, out_dir: Path) -> None:
    """Library size and running success rate over the tasks of the suite."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["tasks"]
    xs = list(range(1, len(rows) + 1))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(xs, report["library_size"], marker=".")
    ax.set(
        xlabel="task", ylabel="skills in the library", title=f"Library growth ({report['suite']})"
    )
    fig.tight_layout()
    fig.savefig(out_dir / "library_growth.png", dpi=100)
    plt.close(fig)
    running, ok = [], 0
    for i, r in enumerate(rows, 1):
        ok += r["success"]
        running.append(ok / i)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(xs, running, marker=".")
    ax.set(
        xlabel="task",
        ylabel="success rate so far",
        ylim=(0, 1.05),
        title=f"Success ({report['suite']})",
    )
    fig.tight_layout()
    fig.savefig(out_dir / "success.png", dpi=100)
    plt.close(fig)
