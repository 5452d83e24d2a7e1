"""`skillgrove policy feedback|finetune`: fine-tuning the policy on corrections."""

from __future__ import annotations

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.policy_opts import (
    augment_option,
    say,
    settings_optim,
    steps_option,
    strategy_option,
)
from agent.cli.policy_show import show_feedback, show_finetune


@click.command("feedback")
@click.option("--family", required=True, help="The task to learn from corrections.")
@click.option("--version", default="latest", show_default=True)
@click.option("--rounds", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option(
    "--attempts",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help="Scenes tried per round.",
)
@click.option("--eval-episodes", type=click.IntRange(1, 500), default=30, show_default=True)
@steps_option("Fine-tuning steps per round.")
@strategy_option
@click.option(
    "--noise-pos",
    type=click.FloatRange(0, 5),
    default=0.0,
    show_default=True,
    help="Expert noise, cm.",
)
@click.option(
    "--noise-yaw",
    type=click.FloatRange(0, 45),
    default=0.0,
    show_default=True,
    help="Expert noise, degrees.",
)
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@augment_option
@click.option(
    "--keep-successes/--corrections-only",
    default=True,
    show_default=True,
    help="Also train on the attempts that succeeded (the policy's own verified poses).",
)
@json_option
@pass_app
def feedback(
    app: App,
    family: str,
    version: str,
    rounds: int,
    attempts: int,
    eval_episodes: int,
    steps: int,
    strategy: str,
    noise_pos: float,
    noise_yaw: float,
    threads: int,
    augment: bool,
    keep_successes: bool,
) -> None:
    """Correct the policy with the simulated expert, round after round, and fine-tune."""
    from agent.policy.feedback import FeedbackConfig
    from agent.policy.session import feedback_session

    config = FeedbackConfig(
        family,
        rounds,
        attempts,
        eval_episodes,
        steps,
        strategy,
        augment=augment,
        keep_successes=keep_successes,
        optim=settings_optim(threads=threads),
    )
    res = feedback_session(app.home, config, version, noise_pos / 100, noise_yaw, progress=say(app))
    emit(app, res, lambda: show_feedback(res))


@click.command("finetune")
@click.option("--version", default="latest", show_default=True, help="Checkpoint to start from.")
@click.option(
    "--family",
    "families",
    multiple=True,
    metavar="F",
    help="Only corrections of this family (repeat for several; default: all).",
)
@strategy_option
@steps_option()
@click.option(
    "--all",
    "use_all",
    is_flag=True,
    help="Learn from every stored correction, not only those no fine-tune has used.",
)
@click.option(
    "--eval-episodes",
    type=click.IntRange(0, 500),
    default=20,
    show_default=True,
    help="Held-out scenes per corrected family executed before and after (0: none).",
)
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@augment_option
@json_option
@pass_app
def finetune(
    app: App,
    version: str,
    families: tuple[str, ...],
    strategy: str,
    steps: int,
    use_all: bool,
    eval_episodes: int,
    threads: int,
    augment: bool,
) -> None:
    """Fine-tune on people's stored corrections and save a new checkpoint version.

    Takes the corrections no fine-tune has used yet (`policy correct`, or the queue's
    Corrections page in the web UI), fine-tunes with --strategy while the families the
    checkpoint knows are protected, and executes held-out scenes of the corrected
    families before and after.
    """
    from agent.policy.finetune import FinetuneConfig, finetune_session

    config = FinetuneConfig(
        version,
        tuple(families),
        strategy,
        steps,
        use_all,
        eval_episodes,
        augment=augment,
        optim=settings_optim(threads=threads),
    )
    res = finetune_session(app.home, config, progress=say(app))
    emit(app, res, lambda: show_finetune(res))


@click.command("self-train")
@click.option(
    "--runs",
    "run_ids",
    multiple=True,
    metavar="RUN",
    help="A run to learn from (repeat for several; default: every successful run no "
    "self-supervised fine-tune has used).",
)
@click.option("--version", default="latest", show_default=True, help="Checkpoint to start from.")
@strategy_option
@steps_option()
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@augment_option
@click.option(
    "--practice",
    is_flag=True,
    help="Also learn from failed runs among --runs: each step tried again in the simulator "
    "near where the robot put the object until its atoms hold.",
)
@json_option
@pass_app
def self_train(
    app: App,
    run_ids: tuple[str, ...],
    version: str,
    strategy: str,
    steps: int,
    threads: int,
    augment: bool,
    practice: bool,
) -> None:
    """Fine-tune on the steps of successful runs, with the poses the simulator confirmed.

    No expert label: each step of a run whose goal held becomes a row (the view before
    the step, its phrase, the grasp and where the object came to rest), and the
    checkpoint is fine-tuned on them with --strategy and saved as a new version. With
    --practice, the steps of failed runs too, where practice in the simulator found
    their atoms hold.
    """
    from agent.cli.progress import progress
    from agent.policy.self_data import finetune_from_runs, new_runs
    from agent.policy.strategies import make_strategies

    make_strategies(strategy)  # an unknown strategy is refused before anything is read
    runs = list(dict.fromkeys(r.strip() for r in run_ids if r.strip())) or new_runs(app.home)
    with progress("runs", len(runs), quiet=app.json) as advance:
        res = finetune_from_runs(
            app.home,
            runs,
            strategy,
            version=version,
            steps=steps,
            augment=augment,
            optim=settings_optim(threads=threads),
            progress=say(app),
            rows_progress=lambda _done, _total: advance(),
            practice=practice,
        )
    emit(app, res, lambda: _show_self_train(res))


def _show_self_train(res: dict) -> None:
    click.echo(
        f"v{res['version']:04d} (from v{res['parent'] or 0:04d}, {res['strategy']}): "
        f"{res['rows']} rows from {len(res['runs'])} runs ({', '.join(res['relations'])}), "
        f"{res['steps']} steps, loss {res['first_loss']:.3f} -> {res['final_loss']:.3f}"
    )
    for s in res["skipped"][:10]:
        where = f" step {s['step']}" if "step" in s else ""
        click.echo(f"  skipped run {s['run_id']}{where}: {s['why']}")
    click.echo(f"saved {res['checkpoint']}")
