"""`skillgrove policy correct` and `policy corrections list|export`: a person's corrections."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.policy_opts import say
from agent.cli.policy_show import show_correction, show_corrections

HINT = "pass --pixel U V and/or --angle DEG, or --dx/--dy/--dz/--dyaw, to store a correction"


@click.command("correct")
@click.option("--family", default=None, help="Task family of the scene.")
@click.option("--run", "run_id", default=None, help="Correct a step of this run instead.")
@click.option(
    "--step",
    type=click.IntRange(0, 1000),
    default=None,
    help="The run's step (0-based; default: the step its failure is in).",
)
@click.option(
    "--simulated",
    is_flag=True,
    help="With --run: the simulated expert (the oracle's poses) corrects the step.",
)
@click.option(
    "--seed", type=click.IntRange(0, 2**32 - 1), default=1, show_default=True, help="Scene seed."
)
@click.option("--version", default="latest", show_default=True, help="Checkpoint version.")
@click.option("--action", type=click.Choice(["pick", "place"]), default="pick", show_default=True)
@click.option(
    "--pixel", nargs=2, type=str, default=None, metavar="U V", help="Corrected point in the PNG."
)
@click.option(
    "--angle", type=str, default=None, help="Corrected gripper yaw, degrees in [-180, 180]."
)
@click.option("--dx", type=str, default=None, help="Offset along x, meters.")
@click.option("--dy", type=str, default=None, help="Offset along y, meters.")
@click.option("--dz", type=str, default=None, help="Offset along z, meters.")
@click.option("--dyaw", type=str, default=None, help="Yaw offset, degrees.")
@click.option(
    "--expert",
    default="human",
    show_default=True,
    help="Who corrects (stored with the correction).",
)
@json_option
@pass_app
def correct(
    app: App,
    family: str | None,
    run_id: str | None,
    step: int | None,
    simulated: bool,
    seed: int,
    version: str,
    action: str,
    pixel,
    angle,
    dx,
    dy,
    dz,
    dyaw,
    expert: str,
) -> None:
    """Show the scene with the predicted pose (PNG) and store a person's correction.

    The PNG (printed) is the policy's top view enlarged 4 times, with the predicted pick
    (circle) and place (square). Correct with --pixel U V (a point in that PNG) and/or
    --angle DEG, or with offsets --dx/--dy/--dz (meters) and --dyaw (degrees); without
    any, a terminal asks for them.

    With --run RUN (and --step N) it is a step of a recorded run instead, of any goal: the
    scene as it stood before the step, the policy asked with the step's phrase; the
    correction is stored with the run, the step and the phrase. --simulated lets the
    simulated expert (the oracle's poses) correct it.
    """
    from agent.policy.human import finish_correction, open_correction, typed_offsets

    if (family is None) == (run_id is None):
        raise click.UsageError("give --family (a task family's scene) or --run (a run's step)")
    if (simulated or step is not None) and run_id is None:
        raise click.UsageError("--step and --simulated go with --run")
    offsets = typed_offsets(dx, dy, dz, dyaw)
    if simulated:
        from agent.policy.step_queue import expert_correct_step

        res = expert_correct_step(app.home, run_id, step, version=version)
        res = {"stored": True, **res, "seed": None, "checkpoint": None}
        emit(app, res, lambda: click.echo(f"stored correction #{res['id']} ({res['diagnosis']})"))
        return
    if run_id is not None:
        from agent.policy.step_queue import open_step_correction

        pol, scene, shown = open_step_correction(
            app.home, run_id, step, version, action, pixel, angle, offsets, expert
        )
    else:
        pol, scene, shown = open_correction(
            app.home, family, seed, version, action, pixel, angle, offsets, expert
        )
    if pixel is None and angle is None and offsets is None:
        if app.json or not sys.stdin.isatty():
            res = {"stored": False, **shown, "hint": HINT}
            emit(app, res, lambda: show_correction(res))
            return
        click.echo(f"scene: {scene.instruction!r}; predicted pose drawn in {scene.image}")
        pixel, angle = _prompt(scene, action, pol.spec)
    done = finish_correction(app.home, pol.spec, scene, action, pixel, angle, offsets, expert)
    res = {
        "stored": True,
        "id": done["id"],
        "diagnosis": done["diagnosis"],
        "action": action,
        **shown,
        "corrected": done["corrected"],
    }
    emit(app, res, lambda: show_correction(res))


def _prompt(scene, action: str, spec):
    """Ask for a pixel and an angle until they are valid (empty answers keep the prediction)."""
    from agent.errors import AgentError
    from agent.policy.human import check_typed

    while True:
        raw = click.prompt(
            f"corrected {action} pixel 'U V' in the PNG (empty: keep)",
            default="",
            show_default=False,
        )
        ang = click.prompt("corrected yaw in degrees (empty: keep)", default="", show_default=False)
        pixel = tuple(raw.replace(",", " ").split()) if raw.strip() else None
        angle = ang.strip() or None
        try:
            check_typed(spec, scene.family, action, pixel, angle, None)
            return pixel, angle
        except AgentError as exc:
            click.echo(f"error: {exc}", err=True)


@click.group("corrections")
def corrections() -> None:
    """List and export stored corrections."""


@corrections.command("list")
@click.option("--family", default=None)
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@json_option
@pass_app
def corrections_list(app: App, family: str | None, limit: int) -> None:
    """Stored corrections, newest first (without images)."""
    from agent.policy.commands import list_corrections

    res = list_corrections(app.read_home, family, limit)
    emit(app, res, lambda: show_corrections(res, family))


@corrections.command("export")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--family", default=None)
@click.option("--force", is_flag=True, help="Replace PATH if it is an existing regular file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "lerobot"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one file of JSON lines; lerobot: a LeRobot dataset directory (format v2.1).",
)
@json_option
@pass_app
def corrections_export(app: App, path: Path, family: str | None, force: bool, fmt: str) -> None:
    """Write corrections (with images) as JSON lines, or a LeRobot dataset, to PATH.

    PATH must not exist (unless --force replaces a regular file), nor be a directory,
    device or link to one, nor lie in a data home; it is written atomically. A LeRobot
    dataset (a new directory, never replaced) holds the corrected poses as actions.
    """
    if fmt == "lerobot":
        from agent.errors import AgentError
        from agent.policy.lerobot import export_corrections as export_dataset

        if force:
            raise AgentError("--force replaces files only: a dataset directory is never replaced")
        res = export_dataset(app.home, path, family)
        emit(app, res, lambda: click.echo(f"exported {res['episodes']} corrections to {path}"))
        return
    from agent.policy.commands import export_corrections

    res = export_corrections(app.home, path, family, force)
    emit(app, res, lambda: click.echo(f"exported {res['count']} corrections to {path}"))


def queue_runs(app: App, run_ids: list[str] | None, version: str, threads: int) -> None:
    """`policy queue --runs/--all-runs`: each failed run's failed step, queued and scored."""
    from agent.policy.step_queue import enqueue_runs

    res = enqueue_runs(app.home, run_ids, version, threads=threads, progress=say(app))
    emit(app, res, lambda: _show_run_queue(res))


def _show_run_queue(res: dict) -> None:
    click.echo(
        f"v{res['version'] or 0:04d} on {res['tried']} failed runs: {res['queued']} steps queued "
        f"({res['already_queued']} were queued already); {res['waiting']} waiting in all"
    )
    for it in res["items"]:
        click.echo(
            f"  #{it['id']:<5} score {it['score']:.2f}  run {it['run_id']} step {it['step']}  "
            f"{it['diagnosis']:22s} {it['phrase']}"
        )
    for s in res["skipped"]:
        click.echo(f"  skipped run {s['run_id']}: {s['why']}")
    if res["waiting"]:
        click.echo(
            "correct them on the Corrections page of `skillgrove ui`, most informative first"
        )
