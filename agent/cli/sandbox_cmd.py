"""`skillgrove sandbox run FILE --entry NAME --task FAMILY --seed S`."""

from __future__ import annotations

from pathlib import Path

import click

from agent.cli import App, emit, json_option, pass_app
from agent.inputs import SEED


@click.group()
def sandbox() -> None:
    """Validate and run untrusted skill code in the sandbox."""


@sandbox.command("run")
@click.argument("file", metavar="FILE")
@click.option(
    "--entry", metavar="NAME", default=None, help="Entry function (default: the first public one)."
)
@click.option(
    "--task",
    "family",
    metavar="FAMILY",
    required=True,
    help="Task family whose scene the skill runs in.",
)
@click.option("--seed", type=SEED.click_type(), default=0, show_default=True, help="Scene seed.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=10.0,
    show_default=True,
    help="Wall-clock limit in seconds.",
)
@json_option
@pass_app
def run(app: App, file: str, entry: str | None, family: str, seed: int, timeout: float) -> None:
    """Run FILE's entry function on FAMILY's scene for a seed, with the task's params.

    Prints {"status", "reason", "success", "seconds", "output"}; status is ok, rejected
    (the code failed validation and never ran), error or timeout. Exits 0 when the code
    ran to the end (whatever `success` says), 1 otherwise.
    """
    from agent.evaluate.paths import scrub
    from sim.families import check_family
    from sim.runner import check_seed
    from skills.sandbox import run_skill

    check_family(family)
    check_seed(seed)
    path = Path(file)
    try:
        code = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise click.ClickException(f"no such file: {file}") from None
    except IsADirectoryError:
        raise click.ClickException(f"{file} is a directory, not a skill file") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not UTF-8 text") from None
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    result = run_skill(code, entry, family, seed, timeout=timeout)
    reason, output = scrub(result.reason), scrub(result.output)  # no install paths
    data = {
        "status": result.status,
        "reason": reason,
        "success": result.success,
        "seconds": round(result.seconds, 3),
        "output": output,
    }

    def human() -> None:
        click.echo(f"status:  {result.status}")
        if reason:
            click.echo(f"reason:  {reason}")
        click.echo(f"success: {result.success}")
        click.echo(f"seconds: {result.seconds:.2f}")
        if output:
            click.echo("output:")
            click.echo(output.rstrip("\n"))

    emit(app, data, human)
    if result.status != "ok":
        click.echo(f"error: {result.status}: {reason}", err=True)
        raise SystemExit(1)
