"""`skillgrove policy train|eval|correct|queue|finetune|feedback|checkpoints|corrections`.

Each command parses its options and calls one function of `agent.policy`; printing is in
`policy_show`. Here: the group, training, evaluation, checkpoints and the queue; a
person's corrections are in `policy_correct`, fine-tuning on them in `policy_learn`; the
defaults the `[policy]` settings give (`<home>/config.toml`) in `policy_opts`.
"""

from __future__ import annotations

from pathlib import Path

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.policy_correct import correct, corrections
from agent.cli.policy_goals import goals
from agent.cli.policy_learn import feedback, finetune, self_train
from agent.cli.policy_opts import say, settings_optim, use_policy_settings
from agent.cli.policy_show import show_checkpoints, show_eval, show_queue, show_train

DEFAULT_FAMILIES = "pick,place,stack,put-in-bowl,rotate,align"


def _families(text: str) -> list[str]:
    from agent.policy.train import check_families

    return list(check_families(text.split(",")))


@click.group()
@click.pass_context
def policy(ctx: click.Context) -> None:
    """Train, evaluate and correct the pose policy."""
    use_policy_settings(ctx)


policy.add_command(correct)
policy.add_command(corrections)
policy.add_command(feedback)
policy.add_command(finetune)
policy.add_command(self_train)
policy.add_command(goals)


@policy.group("demos")
def demos() -> None:
    """Export scripted-oracle demonstrations."""


@demos.command("export")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["lerobot"]),
    default="lerobot",
    show_default=True,
    help="lerobot: a LeRobot dataset directory (format v2.1).",
)
@click.option(
    "--families", default=DEFAULT_FAMILIES, show_default=True, help="Comma-separated task families."
)
@click.option(
    "--n",
    type=click.IntRange(1, 5000),
    default=400,
    show_default=True,
    help="Demonstrations per family (the training ones `policy train --n-train N` uses).",
)
@json_option
@pass_app
def demos_export(app: App, path: Path, fmt: str, families: str, n: int) -> None:
    """Write training demonstrations as a LeRobot dataset to the new directory PATH.

    PATH must not exist nor lie in a data home; it appears whole or not at all.
    """
    from agent.policy.lerobot import export_demos

    say(app)(f"demonstrations for {families}")
    res = export_demos(app.home, path, _families(families), n)
    emit(app, res, lambda: click.echo(f"exported {res['episodes']} demonstrations to {path}"))


@policy.command("train")
@click.option(
    "--families",
    default=None,
    help=f"Comma-separated task families [default: {DEFAULT_FAMILIES}; with --dataset, its own].",
)
@click.option(
    "--n-train",
    type=click.IntRange(1, 5000),
    default=400,
    show_default=True,
    help="Demonstrations per family.",
)
@click.option(
    "--n-test",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="Held-out scenes per family.",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 100000),
    default=3000,
    show_default=True,
    help="Optimizer steps.",
)
@click.option("--seed", type=click.IntRange(0, 2**31), default=0, show_default=True)
@click.option(
    "--threads", type=click.IntRange(1, 64), default=2, show_default=True, help="Torch threads."
)
@click.option(
    "--sim-episodes",
    type=click.IntRange(0, 500),
    default=0,
    show_default=True,
    help="Also execute this many held-out scenes per family in the simulator.",
)
@click.option(
    "--dataset",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=None,
    help="Train on a LeRobot dataset (`policy demos export`, `policy corrections export "
    "--format lerobot`) instead of demonstrations; --n-train is then unused.",
)
@json_option
@pass_app
def train(
    app: App,
    families: str | None,
    n_train: int,
    n_test: int,
    steps: int,
    seed: int,
    threads: int,
    sim_episodes: int,
    dataset: Path | None,
) -> None:
    """Train a policy on scripted-oracle demonstrations (or a LeRobot dataset) and save
    a new checkpoint version."""
    from agent.policy.train import TrainSettings, train_policy

    if families is None and dataset is not None:
        from agent.policy.lerobot import dataset_families

        families = ",".join(dataset_families(dataset))
    settings = TrainSettings(
        tuple(_families(families or DEFAULT_FAMILIES)),
        n_train,
        n_test,
        steps,
        optim=settings_optim(seed=seed, threads=threads),
        sim_episodes=sim_episodes,
        dataset=dataset,
    )
    res = train_policy(app.home, settings, progress=say(app))
    emit(app, res, lambda: show_train(res))


@policy.command("eval")
@click.option(
    "--version", "version", default="latest", show_default=True, help="Checkpoint version."
)
@click.option("--families", default=None, help="Families (default: those it was trained on).")
@click.option("--episodes", type=click.IntRange(1, 1000), default=30, show_default=True)
@click.option(
    "--mode",
    type=click.Choice(["sim", "proxy", "robot"]),
    default="sim",
    show_default=True,
    help="sim: execute the predicted action; proxy: pose tolerances; robot: canonical skills "
    "through the robot API, oracle vs policy poses.",
)
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@json_option
@pass_app
def eval_(
    app: App, version: str, families: str | None, episodes: int, mode: str, threads: int
) -> None:
    """Score a checkpoint on held-out scenes (odd seeds)."""
    from agent.cli.progress import progress
    from agent.policy.commands import evaluate_checkpoint, policy_to_evaluate

    asked = families.split(",") if families else None
    pol, fams = policy_to_evaluate(app.home, version, asked, threads)
    with progress(f"policy eval ({mode})", len(fams), quiet=app.json) as advance:
        res = evaluate_checkpoint(app.home, pol, fams, mode, episodes, advance)
    emit(app, res, lambda: show_eval(res))


@policy.command("checkpoints")
@json_option
@pass_app
def checkpoints(app: App) -> None:
    """List the saved checkpoint versions (versioned, hash-checked, in <home>/policy/checkpoints)."""
    from agent.policy.checkpoint import checkpoint_dir, list_checkpoints

    items = list_checkpoints(app.read_home)
    emit(
        app, {"checkpoints": items}, lambda: show_checkpoints(items, checkpoint_dir(app.read_home))
    )


@policy.command("queue")
@click.option("--family", default=None, help="Task family of the held-out scenes.")
@click.option(
    "--runs",
    "run_ids",
    multiple=True,
    metavar="RUN",
    help="Queue the failed step of this failed run instead (repeat; --all-runs: every "
    "failed run made with --perception policy).",
)
@click.option("--all-runs", is_flag=True, help="Queue the failed step of every failed policy run.")
@click.option(
    "--episodes",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="Held-out scenes to try (odd seeds, as `policy eval`).",
)
@click.option(
    "--start",
    type=click.IntRange(0, 100000),
    default=0,
    show_default=True,
    help="Skip this many held-out scenes first.",
)
@click.option("--version", default="latest", show_default=True, help="Checkpoint version.")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@json_option
@pass_app
def queue(
    app: App,
    family: str | None,
    run_ids: tuple[str, ...],
    all_runs: bool,
    episodes: int,
    start: int,
    version: str,
    threads: int,
) -> None:
    """Run the policy on held-out scenes and queue its failures for a person to correct.

    Queued failures wait on the web UI's Corrections page (`skillgrove ui`); each one is
    the scene `policy correct --family F --seed S` shows, so either can correct it.
    """
    from agent.policy.queue import enqueue_failures

    if (family is not None) + bool(run_ids or all_runs) != 1:
        raise click.UsageError("give --family, or --runs RUN... / --all-runs (one of them)")
    if family is None:
        from agent.cli.policy_correct import queue_runs

        queue_runs(app, list(run_ids) or None, version, threads)
        return
    res = enqueue_failures(
        app.home,
        version,
        _families(family)[0],
        episodes,
        start=start,
        threads=threads,
        progress=say(app),
    )
    emit(app, res, lambda: show_queue(res))
