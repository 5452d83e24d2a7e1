"""`skillgrove skills export|import|verify`: moving skills between machines and proving
them here (the `skills` group in `agent.cli.skills_cmd` adds these)."""

from __future__ import annotations

from pathlib import Path

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.agent_opts import executor_options
from agent.cli.progress import progress
from agent.cli.skills_lib import _library, _table


@click.command("export")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it is an existing regular file.")
@json_option
@pass_app
def export(app: App, path: Path, force: bool) -> None:
    """Write the whole library to one bundle file (zip: code, metadata, stats, lineage).

    PATH must not exist (unless --force replaces a regular file), nor be a directory,
    device or link to one, nor lie in a data home; it is written atomically.
    """
    from skills.bundle import export_bundle

    with _library(app) as lib:
        data = export_bundle(lib, path, force=force)
    emit(
        app,
        data,
        lambda: click.echo(
            f"exported {data['skills']} skills ({data['versions']} versions) to {path}"
        ),
    )


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--verify",
    "verify_now",
    is_flag=True,
    help="Verify the imported skills here right away (as `skills verify` does).",
)
@click.option(
    "--episodes",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="With --verify: evaluation episodes per family or goal template.",
)
@click.option(
    "--unverified",
    is_flag=True,
    hidden=True,
    help="Accepted for old scripts: imported versions are always unverified.",
)
@json_option
@pass_app
def import_(app: App, path: Path, verify_now: bool, episodes: int, unverified: bool) -> None:
    """Import a bundle file: new skills and versions, all or nothing; the index is rebuilt.

    What a bundle says about trust is a claim: every imported version is unverified, with
    no stats and no uses, until this machine's Evaluator verifies it (`skills verify`, or
    --verify here). The bundle's claims (author, verified, stage, stats, uses) are kept as
    the version's provenance and printed here; they never count for ranking or reuse.

    Exit status: 0 imported (and with --verify, every imported skill passed); 3 imported,
    but with --verify some skill failed verification; 1 on an error; 2 on a usage error.
    """
    from skills.bundle import import_bundle

    with _library(app) as lib:
        data = import_bundle(lib, path)
        checked = _verify_imported(app, lib, data["skills"], episodes) if verify_now else None
    if checked is not None:
        data["verification"] = [c.to_dict() for c in checked]

    def human() -> None:
        click.echo(
            f"imported {data['added']} versions ({data['skipped']} already present), "
            "unverified until verified here"
            + ("" if verify_now or not data["added"] else ": run `skillgrove skills verify`")
        )
        for v in data["versions"]:
            c = v["claimed"]
            stats = ", ".join(f"{k} {s}/{e}" for k, (e, s) in c["stats"].items()) or "none"
            click.echo(
                f"  {v['name']} v{v['version']}: the bundle claimed author {c['author']}, "
                f"{'verified' if c['verified'] else 'unverified'}, stats {stats}"
            )
        for c in checked or ():
            click.echo(
                f"  verify {c.name} v{c.version}: {c.status}"
                + (f" ({c.reason})" if c.reason else "")
            )

    emit(app, data, human)
    if checked is not None and any(c.status == "failed" for c in checked):
        click.get_current_context().exit(3)


def _verify_imported(app: App, lib, names: list[str], episodes: int) -> list:
    """`skills verify` on the latest version of each imported skill."""
    from agent.evaluate.verify import plan, verify_library
    from agent.factory import AgentOptions, build_evaluator

    opts = AgentOptions(episodes=episodes)
    todo = [item for name in names for item in plan(lib, opts.pass_bar, name)]
    if not todo:
        return []
    total = sum(len(keys) for _, keys in todo)
    with (
        build_evaluator(opts, lib.home) as (evaluator, scenes),
        progress("verifying imported skills", total, quiet=app.json) as advance,
    ):
        return verify_library(lib, evaluator, scenes, todo, episodes, advance)


@click.command("verify")
@click.argument("name", required=False)
@click.option(
    "--episodes",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="Evaluation episodes per family or goal template (fewer run once the verdict is decided).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Sandbox worker processes (default: 2; with --executor ray, one per CPU of the cluster).",
)
@executor_options
@json_option
@pass_app
def verify(
    app: App,
    name: str | None,
    episodes: int,
    workers: int | None,
    executor: str,
    ray_address: str | None,
) -> None:
    """Re-run each skill's evaluation and mark the versions that no longer pass.

    Checks the latest version of every skill (or of NAME) on each task family or goal
    template of its stats (a version without stats: on the families its parameters
    fit), on fresh evaluation scenes with oracle poses (their seeds in --json). A version fails when it no
    longer passes where it had passed before (a key it "claims"); claiming nothing, it
    must pass on at least one key. A version that fails is marked unverified, so
    automatic reuse no longer picks it; one that passes is marked verified. The new
    episodes are added to its stats. A key no scene generator knows is skipped.

    Exit status: 0 when every checked version passes, 3 when some version failed
    verification, 1 on an error, 2 on a usage error.
    """
    from skillgrove.ops import verify_skills

    with _library(app) as lib:  # the same call as the Python API's `Library.verify`
        checked, data = verify_skills(
            lib,
            name,
            episodes,
            workers,
            lambda n: progress("verifying skills", n, quiet=app.json),
            executor,
            ray_address,
        )
    counts = data["summary"]

    def human() -> None:
        rows = []
        for c in checked:
            for k in c.checks:
                rate, (lo, hi) = k.success_rate, k.interval
                rows.append(
                    [
                        c.name,
                        c.version,
                        k.key,
                        "yes" if k.claimed else "no",
                        k.episodes,
                        k.successes,
                        "-" if rate is None else f"{rate:.0%}",
                        "-" if rate is None else f"{lo:.0%}-{hi:.0%}",
                        k.status,
                    ]
                )
            if not c.checks:
                rows.append([c.name, c.version, "-", "-", 0, 0, "-", "-", "skipped"])
        _table(
            ["skill", "v", "checked on", "claimed", "n", "ok", "rate", "95% interval", "result"],
            rows,
        )
        for c in checked:
            if c.status != "passed":
                click.echo(f"{c.name} v{c.version} {c.status}: {c.reason}")
        click.echo(
            f"{len(checked)} versions: {counts['passed']} passed, {counts['failed']} failed"
            + (" (now unverified)" if counts["failed"] else "")
            + f", {counts['skipped']} skipped"
        )

    emit(app, data, human)
    if counts["failed"]:
        click.get_current_context().exit(3)
