"""`skillgrove learn --suite NAME`: a curriculum of tasks, with a report and plots."""

from __future__ import annotations

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.agent_opts import agent_options, run_curriculum
from agent.cli.run_cmd import EXIT_NOT_REACHED


@click.command()
@click.option(
    "--suite",
    default="basic",
    show_default=True,
    help="Suite name (agent/suites/) or path to a suite JSON file.",
)
@agent_options
@json_option
@pass_app
def learn(app: App, suite: str, opts) -> None:
    """Run a curriculum: every task through the agent, pass after pass; report and plots.

    \b
    Exit status:
      0  every task's goal held
      3  the curriculum ran, but some task's goal was not reached
      1  an error (one line on stderr)
      2  a usage error
    """
    s, report, out, _ = run_curriculum(app, suite, opts)
    summary = {k: report[k] for k in ("suite", "passes", "success_rate", "seconds", "dir")}
    summary["tasks"] = [
        {
            k: r[k]
            for k in ("pass", "family", "seed", "success", "decisions", "llm_calls", "seconds")
        }
        for r in report["tasks"]
    ]

    def human() -> None:
        from rich.console import Console
        from rich.table import Table

        t = Table(
            "pass", "family", "seed", "success", "decisions", "s", title=f"Curriculum {s.name}"
        )
        for r in report["tasks"]:
            t.add_row(
                str(r["pass"]),
                r["family"],
                str(r["seed"]),
                "yes" if r["success"] else "NO",
                ", ".join(r["decisions"]) or "-",
                f"{r['seconds']:.1f}",
            )
        con = Console()
        con.print(t)
        for p in report["passes"]:
            con.print(
                f"pass {p['pass']}: success {p['success_rate']:.0%}, reuse without synthesis {p['reuse_rate']:.0%}, {p['synthesized']} skills synthesized"
            )
        con.print(f"report, plots: {out}")

    emit(app, summary, human)
    if not all(r["success"] for r in report["tasks"]):
        click.get_current_context().exit(EXIT_NOT_REACHED)
