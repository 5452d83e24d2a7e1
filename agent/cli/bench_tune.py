"""`skillgrove bench tune`: one strategy's hyperparameters searched on the dev stream.

Registered on the `bench` group by `agent/cli/bench.py`; the search is `bench/tune.py`.
"""

from __future__ import annotations

import click

from agent.cli import App, emit, json_option, pass_app


@click.command("tune")
@click.option(
    "--strategy",
    required=True,
    help="The strategy to tune (a name of `bench continual --strategies`, or a+b).",
)
@click.option(
    "--trials",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="Optuna trials (give every strategy of a comparison the same number).",
)
@click.option("--quick", is_flag=True, help="The goal stream's small sizes and one dev seed.")
@click.option("--seeds", default=None, help="Comma-separated dev seeds (default: 100,101).")
@click.option("--n-train", type=click.IntRange(1, 5000), default=None, help="Rows per experience.")
@click.option(
    "--n-test", type=click.IntRange(1, 1000), default=None, help="Test scenes per experience."
)
@click.option(
    "--base-steps",
    type=click.IntRange(1, 100000),
    default=None,
    help="Steps of the first experience.",
)
@click.option(
    "--steps", type=click.IntRange(1, 100000), default=None, help="Steps of every later experience."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Runs of a trial's seeds at once (one torch thread each).",
)
@json_option
@pass_app
def tune_(
    app: App,
    strategy: str,
    trials: int,
    quick: bool,
    seeds: str | None,
    n_train: int | None,
    n_test: int | None,
    base_steps: int | None,
    steps: int | None,
    workers: int,
) -> None:
    """Search a strategy's hyperparameters on the goal stream's dev order and validation
    scenes (optuna, the same budget for every strategy); `bench continual --stream goals
    --tuned` uses the choice."""
    from agent.cli.bench import _seeds
    from agent.policy.stream import make_plugins
    from bench.tune import run_tune, space_of

    make_plugins(strategy)  # unknown names fail before anything is written
    space_of(strategy)
    given = {"n_train": n_train, "n_test": n_test, "base_steps": base_steps, "steps": steps}

    def say(message: str) -> None:
        if not app.json:
            click.echo(message, err=True)

    res = run_tune(
        app.home,
        strategy,
        trials,
        quick=quick,
        seeds=_seeds(seeds) if seeds is not None else None,
        workers=workers,
        progress=say,
        overrides={k: v for k, v in given.items() if v is not None},
    )

    def human() -> None:
        click.echo(
            f"{strategy}: valid ACC {res['best_valid_acc']:.3f} with {res['best_params']} "
            f"(defaults {res['default_valid_acc']:.3f}; {trials} trials, {res['seconds']:.0f} s)"
        )
        click.echo(f"saved: {res['path']}")

    emit(app, res, human)
