"""`skillgrove skills grasps`: the grasps learned per kind of object (`skills.grasps`)."""

from __future__ import annotations

import datetime as dt

import click

from agent.cli import App, emit, json_option, pass_app


@click.command("grasps")
@click.option("--kind", metavar="KIND", help="Only this kind of object (e.g. mug).")
@click.option("--forget", is_flag=True, help="Drop the grasps remembered (of --kind).")
@json_option
@pass_app
def grasps(app: App, kind: str | None, forget: bool) -> None:
    """Grasps learned per kind of object no task family uses (duck, mug, bar...): each
    grasp in the object's frame (gripper turn, offset, height), how often it held and
    missed. Later picks of a kind try its best grasps first."""
    from skills.grasps import GraspMemory, check_kind

    if kind is not None:
        check_kind(kind)
    if forget:
        n = GraspMemory(app.home).forget(kind)
        emit(app, {"forgotten": n}, lambda: click.echo(f"forgot {n} grasp(s)"))
        return
    rows = GraspMemory(app.read_home).rows(kind)
    emit(app, {"grasps": rows}, lambda: _show(rows))


def _show(rows: list[dict]) -> None:
    from agent.cli.skills_lib import _table

    if not rows:
        click.echo("no grasps learned yet")
        return
    _table(
        ["kind", "turn (deg)", "offset (cm)", "height (cm)", "held", "missed", "last"],
        [
            [
                r["kind"],
                f"{r['grasp']['yaw_deg']:g}",
                f"{100 * r['grasp']['dx']:.1f}, {100 * r['grasp']['dy']:.1f}",
                f"{100 * r['grasp']['dz']:.1f}",
                r["held"],
                r["missed"],
                dt.datetime.fromtimestamp(r["last"]).strftime("%Y-%m-%d %H:%M"),
            ]
            for r in rows
        ],
    )
