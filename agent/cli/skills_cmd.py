"""`skillgrove skills add|list|show|history|rm|export|import|doctor|search|verify|grasps`."""

from __future__ import annotations

from pathlib import Path

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.grasps_cmd import grasps
from agent.cli.skills_io_cmd import export, import_, verify
from agent.cli.skills_lib import _library, _table
from agent.evaluate.verify import Verification, families_for  # noqa: F401 - used by tests
from agent.inputs import VERSION
from skillgrove.ops import verify_skill  # the check `add` runs (a test may replace it)
from skillgrove.ops import version_dict as _version_dict


@click.group()
@click.option(
    "--library-url",
    metavar="URL",
    help="A Chroma server for the vector index (also $SKILLGROVE_LIBRARY_URL or [library] url in <home>/config.toml; default: a file in the data home).",
)
@click.option(
    "--store-url",
    metavar="URL",
    help="A Postgres skill store shared by machines, postgresql+psycopg://... (also $SKILLGROVE_STORE_URL or [library] store_url; default: the data home's SQLite file).",
)
@click.pass_context
def skills(ctx: click.Context, library_url: str | None, store_url: str | None) -> None:
    """Add, list, search, share and repair the skill library."""
    ctx.meta["library_url"] = library_url
    ctx.meta["store_url"] = store_url


for _command in (export, import_, verify, grasps):  # moving skills, proving them, grasps
    skills.add_command(_command)


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
    from skillgrove.ops import add_skill

    try:
        code = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(
            f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    with _library(app) as lib:  # the same call as the Python API's `Library.add_skill`
        v, data = add_skill(
            lib, name, code, description, unverified, tasks, author, verify=verify_skill
        )
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
    """One skill: code, parameters, stats, lineage.

    `stats` and `uses` are this machine's evidence; an imported version's `provenance`
    shows apart what its bundle claimed (author, verified, stats, uses), which never
    counts for reuse (null for a version not imported).
    """
    from skills.bundle import provenance

    with _library(app) as lib:
        info = lib.info(name)
        v = lib.get(name, version)
        data = {
            **_version_dict(v, with_code=True),
            "versions": info.versions,
            "uses": info.uses,
            "provenance": provenance(lib, v.name, v.version),
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
        _claims(data["provenance"])
        click.echo("\n" + data["code"])

    emit(app, data, human)


def _claims(prov: dict | None) -> None:
    """What an imported version's bundle claimed, apart from this machine's evidence."""
    if not prov:
        return
    c = prov.get("claimed") or {}
    from agent.cli.terminal import safe

    click.echo(
        f"claimed by bundle {safe(str(prov.get('bundle')))} (provenance only, never used for reuse): "
        f"author {c.get('author')}, {'verified' if c.get('verified') else 'unverified'}, "
        f"uses {c.get('uses', 0)}"
    )
    for key, (e, s) in sorted((c.get("stats") or {}).items()):
        click.echo(f"  claimed stats {key}: {s}/{e}")


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


@skills.command("doctor")
@click.option(
    "--repair/--check",
    default=True,
    show_default=True,
    help="Repair what differs (the default), or only report it (exit 1 when anything does).",
)
@json_option
@pass_app
def doctor(app: App, repair: bool) -> None:
    """Check the store and that the index agrees with it; repair both.

    Any difference between the index and the store (missing, stale or orphaned entries,
    on every backend) is reported and, unless --check, the index rebuilt from the store.
    A damaged SQLite database is salvaged: every readable row goes into a fresh file and
    the damaged one is kept beside it (`skillgrove.db.damaged-TIME`).
    """
    with _library(app, salvage=repair) as lib:
        data = lib.doctor(repair=repair).to_dict()
    emit(app, data)
    if not repair and not data["ok"]:
        click.get_current_context().exit(1)


@skills.command("search")
@click.argument("query")
@click.option(
    "-k", "k", type=click.IntRange(1, 100), default=5, show_default=True, help="How many results."
)
@json_option
@pass_app
def search(app: App, query: str, k: int) -> None:
    """Rank skills for QUERY and decide: reuse, adapt or synthesize."""
    from skillgrove.ops import search_skills

    with _library(app) as lib:  # the same call as the Python API's `Library.search`
        r, data = search_skills(lib, query, k)
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
