"""`skillgrove demo`: the main job, offline, with everything written to the data home.

Runs the `demo` curriculum through the agent with no LLM (the offline default planner
and synthesizer): every task family once, then again on new scenes. The first pass
reuses seed skills or synthesizes, proves and stores new ones; the second pass shows the
library being reused. Prints a summary and how to look at the library, runs and UI.

Exit codes (as `learn`): 0 when every task's goal held, 3 when it ran but a task failed
(the summary is printed either way, and a line on stderr says how many), 1 on an error
(a curriculum that runs no task is one), 2 on a usage error.
"""

from __future__ import annotations

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.agent_opts import agent_options, run_curriculum
from agent.cli.run_cmd import EXIT_NOT_REACHED
from agent.errors import AgentError


@click.command()
@click.option("--suite", default="demo", show_default=True, help="Curriculum to run.")
@agent_options
@json_option
@pass_app
def demo(app: App, suite: str, opts) -> None:
    """Run a short curriculum offline: the library grows, then gets reused."""
    s, report, out, skills = run_curriculum(app, suite, opts)
    if not report["tasks"]:
        raise AgentError(f"the curriculum {suite!r} ran no task")
    home = app.home
    data = {
        "home": str(home),
        "report": str(out / "report.md"),
        "passes": report["passes"],
        "success_rate": report["success_rate"],
        "library_size": skills,
        "seconds": report["seconds"],
        "tasks": [
            {k: r[k] for k in ("pass", "family", "success", "decisions", "run_id")}
            for r in report["tasks"]
        ],
    }

    def human() -> None:
        from rich.console import Console
        from rich.table import Table

        con = Console()
        t = Table(
            "family",
            *[f"pass {p['pass']}" for p in report["passes"]],
            title=f"skillgrove demo: {s.description}",
        )
        fams = list(dict.fromkeys(r["family"] for r in report["tasks"]))
        for fam in fams:
            cells = []
            for p in report["passes"]:
                rs = [r for r in report["tasks"] if r["family"] == fam and r["pass"] == p["pass"]]
                cells.append(
                    ", ".join(
                        f"{'ok' if r['success'] else 'FAIL'} ({'/'.join(r['decisions']) or '-'})"
                        for r in rs
                    )
                )
            t.add_row(fam, *cells)
        con.print(t)
        for p in report["passes"]:
            con.print(
                f"pass {p['pass']}: success {p['success_rate']:.0%}, reused without synthesis {p['reuse_rate']:.0%}, "
                f"{p['synthesized']} skills synthesized and verified"
            )
        con.print(f"the library now holds {skills} skills; {report['seconds']:.0f} s in all")
        flag = f" --home {home}" if app._home else ""
        con.print("\nLook around:")
        con.print(
            f"  skillgrove{flag} skills list            # the library: author, version, stage, uses"
        )
        con.print(
            f"  skillgrove{flag} skills show build_tower # a synthesized skill's code and stats"
        )
        con.print(
            f"  skillgrove{flag} runs list              # every run; replay GIFs in {home / 'runs'}/"
        )
        con.print(f"  report and plots: {out}/")
        con.print(
            f"  skillgrove{flag} ui                     # the web UI at http://127.0.0.1:8765/"
        )

    emit(app, data, human)
    failed = sum(not r["success"] for r in report["tasks"])
    if failed:
        click.echo(f"demo: {failed} of {len(report['tasks'])} tasks failed", err=True)
        click.get_current_context().exit(EXIT_NOT_REACHED)
