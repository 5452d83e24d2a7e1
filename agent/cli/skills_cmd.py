"""`skillgrove skills add|list|show|history|rm|export|import|doctor|search|verify`."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.progress import progress
from agent.evaluate.verify import Verification, families_for
from agent.inputs import VERSION


@click.group()
@click.option(
    "--library-url",
    metavar="URL",
    envvar="SKILLGROVE_LIBRARY_URL",
    help="A Chroma server for the vector index (default: a directory in the data home).",
)
@click.pass_context
def skills(ctx: click.Context, library_url: str | None) -> None:
    """Add, list, search, share and repair the skill library."""
    ctx.meta["library_url"] = library_url


@contextmanager
def _library(app: App, **kw):
    """The data home's library, closed after; what it could not do (an index it could not
    update after a write it made) is printed as a warning line on stderr."""
    from skills.library import open_library

    with open_library(app.home, click.get_current_context().meta.get("library_url"), **kw) as lib:
        yield lib
    for line in lib.warnings:
        click.echo(f"warning: {line}", err=True)


def _table(columns: list[str], rows: list[list]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(*columns)
    for r in rows:
        t.add_row(*[str(x) for x in r])
    Console().print(t)


def _version_dict(v, with_code: bool = False) -> dict:
    d = {
        "name": v.name,
        "version": v.version,
        "description": v.description,
        "author": v.author,
        "verified": v.verified,
        "stage": v.stage,
        "parent": list(v.parent) if v.parent else None,
        "created": v.created,
        "content_hash": v.content_hash,
        "params": [
            {"name": p.name, "required": p.required, "default": p.default} for p in v.params
        ],
        "examples": list(v.examples),
        "goal_template": v.goal_template,
        "stats": {
            f: {"episodes": e, "successes": s, "success_rate": round(s / e, 4) if e else None}
            for f, (e, s) in sorted(v.stats.items())
        },
    }
    if with_code:
        d["code"] = v.code
    return d


# -- verification ----------------------------------------------------------------------
def verify_skill(code: str, entry: str, params: tuple, families: list[str]) -> Verification:
    """The Evaluator's funnel on each family's evaluation scenes (the agent's own check)."""
    from agent.evaluate.verify import KeyCheck
    from agent.factory import AgentOptions, build_evaluator
    from agent.synth.binding import scene_binder

    with build_evaluator(AgentOptions()) as (evaluator, scenes):
        binder = scene_binder(scenes, [(p.name, p.required) for p in params])
        checks = [KeyCheck.of(evaluator.evaluate(code, entry, f, binder)) for f in families]
    return Verification.of(checks)


# -- commands ----------------------------------------------------------------------------
@skills.command("add")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--name", "-n", required=True, help="Skill name = its entry function, e.g. stack_blocks."
)
@click.option("--description", "-d", help="What the skill does (default: the entry docstring).")
@click.option(
    "--unverified",
    is_flag=True,
    help="Store without verifying in simulation (never reused automatically).",
)
@click.option(
    "--task",
    "tasks",
    multiple=True,
    metavar="FAMILY",
    help="Family to verify on (repeatable; default: families whose slots match the parameters).",
)
@click.option(
    "--author", default="human", show_default=True, help="seed, synthesizer, human or llm:<model>."
)
@json_option
@pass_app
def add(
    app: App,
    file: Path,
    name: str,
    description: str | None,
    unverified: bool,
    tasks: tuple,
    author: str,
) -> None:
    """Add FILE as skill NAME (a new version if NAME exists), verified in simulation."""
    from skills.errors import SkillError

    try:
        code = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(
            f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    with _library(app) as lib:
        v = lib.prepare(
            name, code, description, author=author, verified=False
        )  # checks before any run
        stage, stats = "unverified", {}
        if not unverified:
            fams = families_for(v.params, tasks)
            if not fams:
                raise SkillError(
                    f"no task family has the parameters of {name}; pass --task FAMILY or --unverified"
                )
            check = verify_skill(code, name, v.params, fams)
            if not check.verified:
                raise SkillError(
                    f"{name} failed verification (stage {check.stage}): {check.reason}"
                )
            stage, stats = check.stage, check.stats
        v = lib.add(
            name,
            code,
            description,
            author=author,
            verified=not unverified,
            stage=stage,
            stats=stats,
        )
        data = _version_dict(v) | ({"warnings": list(lib.warnings)} if lib.warnings else {})
    emit(
        app,
        data,
        lambda: click.echo(
            f"added {v.name} v{v.version} ({'verified' if v.verified else 'unverified'})"
        ),
    )


@skills.command("list")
@json_option
@pass_app
def list_(app: App) -> None:
    """Every skill with its latest version."""
    with _library(app) as lib:
        rows = [
            {
                "name": i.name,
                "version": i.latest.version,
                "versions": i.versions,
                "author": i.latest.author,
                "verified": i.latest.verified,
                "stage": i.latest.stage,
                "uses": i.uses,
                "description": i.latest.description,
            }
            for i in lib.list()
        ]
    emit(
        app,
        {"skills": rows},
        lambda: _table(
            ["name", "v", "author", "verified", "stage", "uses", "description"],
            [
                [
                    r["name"],
                    r["version"],
                    r["author"],
                    r["verified"],
                    r["stage"],
                    r["uses"],
                    r["description"][:60],
                ]
                for r in rows
            ],
        ),
    )


@skills.command("show")
@click.argument("name")
@click.option(
    "--version", "-v", "version", type=VERSION.click_type(), help="A version (default: the latest)."
)
@json_option
@pass_app
def show(app: App, name: str, version: int | None) -> None:
    """One skill: code, parameters, stats, lineage."""
    with _library(app) as lib:
        info = lib.info(name)
        data = {
            **_version_dict(lib.get(name, version), with_code=True),
            "versions": info.versions,
            "uses": info.uses,
        }

    def human() -> None:
        for k in (
            "name",
            "version",
            "versions",
            "author",
            "verified",
            "stage",
            "uses",
            "parent",
            "description",
        ):
            click.echo(f"{k}: {data[k]}")
        click.echo(
            "params: "
            + ", ".join(
                p["name"] + ("" if p["required"] else f"={p['default']}") for p in data["params"]
            )
        )
        for f, s in data["stats"].items():
            click.echo(f"stats {f}: {s['successes']}/{s['episodes']}")
        click.echo("\n" + data["code"])

    emit(app, data, human)


@skills.command("history")
@click.argument("name")
@json_option
@pass_app
def history(app: App, name: str) -> None:
    """Every version of a skill with author, stage, stats and lineage."""
    with _library(app) as lib:
        versions = [_version_dict(v) for v in lib.history(name)]
    emit(
        app,
        {"name": name, "versions": versions},
        lambda: _table(
            ["v", "author", "verified", "stage", "parent", "created", "description"],
            [
                [
                    d["version"],
                    d["author"],
                    d["verified"],
                    d["stage"],
                    d["parent"] and f"{d['parent'][0]} v{d['parent'][1]}",
                    _when(d["created"]),
                    d["description"][:50],
                ]
                for d in versions
            ],
        ),
    )


def _when(t: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


@skills.command("rm")
@click.argument("name")
@json_option
@pass_app
def rm(app: App, name: str) -> None:
    """Delete a skill and all its versions."""
    with _library(app) as lib:
        n = lib.remove(name)
    emit(
        app, {"removed": name, "versions": n}, lambda: click.echo(f"removed {name} ({n} versions)")
    )


@skills.command("export")
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


@skills.command("import")
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
    with _library(app) as lib:
        data = lib.import_bundle(path)
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
        build_evaluator(opts) as (evaluator, scenes),
        progress("verifying imported skills", total, quiet=app.json) as advance,
    ):
        return verify_library(lib, evaluator, scenes, todo, episodes, advance)


@skills.command("doctor")
@json_option
@pass_app
def doctor(app: App) -> None:
    """Check the database and that the index agrees with it; repair both.

    A damaged database is salvaged: every readable row goes into a fresh file and the
    damaged one is kept beside it (`skillgrove.db.damaged-TIME`); the index is rebuilt.
    """
    with _library(app, salvage=True) as lib:
        data = lib.doctor().to_dict()
    emit(app, data)


@skills.command("search")
@click.argument("query")
@click.option(
    "-k", "k", type=click.IntRange(1, 100), default=5, show_default=True, help="How many results."
)
@json_option
@pass_app
def search(app: App, query: str, k: int) -> None:
    """Rank skills for QUERY and decide: reuse, adapt or synthesize."""
    with _library(app) as lib:
        r = lib.search(query, k)
    data = {
        "decision": r.decision,
        "results": [
            {"name": m.name, "score": m.score, "version": m.version, "verified": m.verified}
            for m in r.matches
        ],
    }
    emit(
        app,
        data,
        lambda: (
            click.echo(f"decision: {r.decision}"),
            _table(
                ["name", "v", "score", "verified", "description"],
                [
                    [m.name, m.version, f"{m.score:.3f}", m.verified, m.description[:60]]
                    for m in r.matches
                ],
            ),
        ),
    )


@skills.command("verify")
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
    default=2,
    show_default=True,
    help="Sandbox worker processes.",
)
@json_option
@pass_app
def verify(app: App, name: str | None, episodes: int, workers: int) -> None:
    """Re-run each skill's evaluation and mark the versions that no longer pass.

    Checks the latest version of every skill (or of NAME) on each task family or goal
    template of its stats (a version without stats: on the families its parameters
    fit), on fixed evaluation seeds with oracle poses. A version fails when it no
    longer passes where it had passed before (a key it "claims"); claiming nothing, it
    must pass on at least one key. A version that fails is marked unverified, so
    automatic reuse no longer picks it; one that passes is marked verified. The new
    episodes are added to its stats. A key no scene generator knows is skipped.

    Exit status: 0 when every checked version passes, 3 when some version failed
    verification, 1 on an error, 2 on a usage error.
    """
    import time

    from agent.evaluate.verify import plan, verify_library
    from agent.factory import AgentOptions, build_evaluator

    t0 = time.perf_counter()
    opts = AgentOptions(workers=workers, episodes=episodes)
    with _library(app) as lib:
        todo = plan(lib, opts.pass_bar, name)
        total = sum(len(keys) for _, keys in todo)
        with (
            build_evaluator(opts) as (evaluator, scenes),
            progress("verifying skills", total, quiet=app.json) as advance,
        ):
            checked = verify_library(lib, evaluator, scenes, todo, episodes, advance)
    counts = {s: sum(c.status == s for c in checked) for s in ("passed", "failed", "skipped")}
    data = {
        "skills": [c.to_dict() for c in checked],
        "summary": {
            "versions": len(checked),
            **counts,
            "episodes": sum(k.episodes for c in checked for k in c.checks),
            "seconds": round(time.perf_counter() - t0, 2),
        },
    }

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
