"""`skillgrove runs list|show|export`: recorded runs of the agent."""

from __future__ import annotations

from dataclasses import asdict

import click

from agent.cli import App, emit, json_option, pass_app


@click.group()
def runs() -> None:
    """List, show and export recorded runs."""


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
    if rec.mp4:
        data["mp4"] = str(app.read_home / rec.mp4)
    emit(app, data)


@runs.command("export")
@click.argument("args", nargs=-1, required=True, metavar="RUN... [DIR]")
@click.option(
    "--rerun",
    "rrd",
    metavar="FILE.rrd",
    help="Write the run as a Rerun recording (a new file unless --force); `rerun FILE.rrd` opens it.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["lerobot"]),
    help="Write the runs as a LeRobot dataset (v2.1) to the new directory DIR, one episode each.",
)
@click.option("--force", is_flag=True, help="Replace FILE.rrd if it exists.")
@json_option
@pass_app
def export(app: App, args: tuple[str, ...], rrd: str | None, fmt: str | None, force: bool) -> None:
    """Export a run's replay: key frames, object poses, gripper path, atom truths.

    `runs export RUN --rerun FILE.rrd` or `runs export RUN... --format lerobot DIR`.
    """
    if (rrd is None) == (fmt is None):
        raise click.UsageError("give one of --rerun FILE.rrd or --format lerobot DIR")
    if fmt is not None:
        if len(args) < 2 or force:
            raise click.UsageError("usage: runs export RUN... --format lerobot DIR (no --force)")
        from agent.run.lerobot_runs import export_runs

        res = export_runs(app.home_path, app.read_home, list(args[:-1]), args[-1])
        line = f"wrote {res['path']}: {res['episodes']} episodes, {res['frames']} frames"
        emit(app, res, lambda: click.echo(f"{line} at {res['fps']} fps"))
        return
    if len(args) != 1:
        raise click.UsageError("usage: runs export RUN --rerun FILE.rrd (one run)")
    _export_rerun(app, args[0], rrd, force)


def _export_rerun(app: App, run_id: str, rrd: str, force: bool) -> None:
    from agent.run.records import RunStore
    from agent.run.replay import export_rerun, read_gif
    from agent.ui.files import inside
    from skills.files import check_target, safe_write

    check_target(rrd, force=force, home=app.home_path)  # refused before anything is read
    store = RunStore(app.read_home)
    try:
        rec = store.get(run_id)
    finally:
        store.close()
    gif = inside(app.read_home, rec.gif) if rec.gif else None
    try:
        frames = read_gif(gif.read_bytes()) if gif else ([], [])
    except (OSError, ValueError) as exc:  # PIL's UnidentifiedImageError is an OSError
        raise click.ClickException(f"cannot read the run's GIF {gif}: {exc}") from None
    with safe_write(rrd, force=force, home=app.home_path) as tmp:
        info = export_rerun(rec, frames, tmp)
    data = {"run_id": rec.run_id, "rerun": str(rrd)} | info
    emit(
        app,
        data,
        lambda: click.echo(
            f"wrote {rrd}: {info['frames']} frames, {info['samples']} samples "
            f"({len(info['entities'])} entities)"
        ),
    )
