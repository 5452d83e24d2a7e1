"""`skillgrove runs list|show`: recorded runs of the agent."""

from __future__ import annotations

from dataclasses import asdict

import click

from agent.cli import App, emit, json_option, pass_app


@click.group()
def runs() -> None:
    """List and show recorded runs."""


@runs.command("list")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@json_option
@pass_app
def list_(app: App, limit: int) -> None:
    """The most recent runs."""
    from agent.run.records import RunStore

    store = RunStore(app.read_home)
    try:
        recs = store.list(limit)
    finally:
        store.close()
    rows = [
        {
            "run_id": r.run_id,
            "instruction": r.instruction,
            "family": r.family,
            "seed": r.seed,
            "success": r.success,
            "skills": list(r.skills),
            "seconds": round(r.seconds, 2),
        }
        for r in recs
    ]

    def human() -> None:
        for r in rows:
            click.echo(
                f"{r['run_id']}  {'ok ' if r['success'] else 'NO '} {r['family']:12s} {r['instruction']}"
            )

    emit(app, {"runs": rows}, human)


@runs.command("show")
@click.argument("run_id")
@json_option
@pass_app
def show(app: App, run_id: str) -> None:
    """One run's record: plan, decisions, skills, outcome, replay GIF."""
    from agent.run.records import RunStore

    store = RunStore(app.read_home)
    try:
        rec = store.get(run_id)
    finally:
        store.close()
    data = asdict(rec)
    if rec.gif:
        data["gif"] = str(app.read_home / rec.gif)
    emit(app, data)
