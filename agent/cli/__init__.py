"""The `skillgrove` command line.

Commands live in one module each under `agent.cli` and are imported only when run, so
`skillgrove --help` stays fast and imports no torch, pybullet or chromadb. Every command
takes `--json` (print exactly one JSON object on stdout); errors are one line on stderr
and a non-zero exit, never a traceback for bad input.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import click

# name -> ("module:attribute", short help). Modules are imported lazily.
COMMANDS: dict[str, tuple[str, str]] = {
    "tasks": ("agent.cli.tasks:tasks", "List the task families and show seeded instances."),
    "goals": ("agent.cli.goals_cmd:goals", "Check a goal against a scene; list the predicates."),
    "oracle": (
        "agent.cli.oracle:oracle",
        "Run the scripted oracle on a family and report success.",
    ),
    "sandbox": (
        "agent.cli.sandbox_cmd:sandbox",
        "Validate and run untrusted skill code in the sandbox.",
    ),
    "skills": (
        "agent.cli.skills_cmd:skills",
        "Add, list, search, share and repair the skill library.",
    ),
    "run": (
        "agent.cli.run_cmd:run",
        "Carry out an instruction: reuse, adapt or write a skill, prove it, run it.",
    ),
    "learn": (
        "agent.cli.learn_cmd:learn",
        "Run a curriculum of tasks and report library growth and reuse.",
    ),
    "runs": ("agent.cli.runs_cmd:runs", "List and show recorded runs."),
    "bench": (
        "agent.cli.bench:bench",
        "Benchmarks: sim, retrieval, agent, open, continual, tune, sandbox.",
    ),
    "demo": (
        "agent.cli.demo:demo",
        "Run the main job offline and write the results to the data home.",
    ),
    "ui": ("agent.cli.ui_cmd:ui", "Serve the web UI: library, runs, corrections, learning."),
    "policy": ("agent.cli.policy_cmd:policy", "Train, evaluate and correct the pose policy."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                return None  # command not built yet
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class App:
    """What every command gets: the data home and the output mode."""

    def __init__(self, home: str | None, as_json: bool) -> None:
        self._home = home
        self.json = as_json

    @property
    def home_path(self) -> Path:
        """The data home's path, without creating or touching it."""
        raw = self._home or os.environ.get("SKILLGROVE_HOME") or "~/.skillgrove"
        return Path(raw).expanduser()

    @property
    def home(self) -> Path:
        """The data home, created if missing; a one-line error if it cannot be written."""
        path = self.home_path
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise click.ClickException(
                f"data home {str(path)!r} cannot be written: {exc.strerror or exc}"
            ) from None
        return path

    @property
    def read_home(self) -> Path:
        """The data home for a command that only reads it: an existing home is used as it
        is, even read-only (a read-only file system or folder); a missing one is made."""
        path = self.home_path
        return path if path.is_dir() else self.home


def json_option(f):
    """Add `--json` to a command; it sets the output mode on the App."""

    def callback(ctx: click.Context, _param, value: bool) -> bool:
        if value:
            ctx.find_object(App).json = True
        return value

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        callback=callback,
        help="Print exactly one JSON object on stdout.",
    )(f)


def emit(app: App, data: dict[str, Any], human=None) -> None:
    """Print a result: JSON with --json, else `human()` (or a key: value listing)."""
    from agent.cli.terminal import escaping_stdout, safe

    if app.json:
        try:
            text = json.dumps(data, default=_jsonable, allow_nan=False)
        except ValueError:  # inf or nan somewhere: JSON has no such numbers, say null
            text = json.dumps(_finite(json.loads(json.dumps(data, default=_jsonable))))
        click.echo(text)
    elif human is not None:
        with escaping_stdout():  # control characters of user text and skill output escaped
            human()
    else:
        for k, v in data.items():
            click.echo(safe(f"{k}: {v}"))


def _finite(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_finite(v) for v in o]
    return o


def _jsonable(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


pass_app = click.make_pass_decorator(App)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home", metavar="DIR", help="Data home (default: $SKILLGROVE_HOME or ~/.skillgrove)."
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
@click.version_option(package_name="skillgrove")
@click.pass_context
def cli(ctx: click.Context, home: str | None, as_json: bool) -> None:
    """skillgrove: a robot skill-library agent that learns skills in simulation.

    \b
    Exit status:
      0  done (run, learn: the goal held; skills verify: every version passed)
      3  ran, but did not pass (a goal not reached, a skill failed verification)
      1  error (one line on stderr; {"error": ...} with --json)
      2  usage error (a bad command, option or value)
    """
    if home is not None and not home.strip():
        raise click.UsageError("--home needs a directory; it was given an empty string")
    ctx.obj = App(home, as_json)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the CLI and turn known errors into one-line messages."""
    from agent.errors import AgentError, LLMUnavailable

    known: tuple[type[Exception], ...] = (AgentError, LLMUnavailable)
    try:
        from skills.errors import SkillError

        known += (SkillError,)
    except ImportError:  # pragma: no cover
        pass
    as_json = "--json" in (argv if argv is not None else sys.argv[1:])
    try:
        rc = cli.main(args=argv, prog_name="skillgrove", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("error: aborted", err=True)
        return 130
    except click.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code, as_json)
    except _with_sim_error(known) as exc:  # evaluated once the command has run
        return _fail(str(exc), 1, as_json)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    return rc if isinstance(rc, int) else 0


def _with_sim_error(known: tuple[type[Exception], ...]) -> tuple[type[Exception], ...]:
    """`known` plus `SimError` if `sim` was imported: importing it costs 0.3 s (gymnasium),
    and only a command that imported it can raise it."""
    mod = sys.modules.get("sim.errors")
    return (*known, mod.SimError) if mod is not None else known


def _fail(message: str, code: int, as_json: bool) -> int:
    from agent.cli.terminal import safe

    line = " ".join(str(message).split())
    if as_json:
        click.echo(json.dumps({"error": line}))
    click.echo(f"error: {safe(line)}", err=True)
    return code or 1
