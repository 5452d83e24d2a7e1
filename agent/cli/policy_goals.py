"""`skillgrove policy goals train|eval`: the pose policy on goal templates, any step.

Demonstrations and test scenes come from goal templates (`agent.policy.goal_data`): one
row per sampled goal, asked by the move's step phrase. `eval` reports seen and unseen
combinations apart, in the proxy and executed in the simulator (`agent.policy.goal_eval`).
"""

from __future__ import annotations

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.policy_opts import say, settings_optim
from agent.policy.goal_train import GoalTrainSettings


@click.group("goals")
def goals() -> None:
    """Train and score the pose policy on goal templates (every step's phrase)."""


def _show(res: dict) -> None:
    ev = res.get("eval", res)
    if "version" in res:
        click.echo(f"checkpoint v{res['version']:04d}: {res['rows']} rows, {res['steps']} steps")
    head = f"{'group':<14} {'n':>4} {'proxy':>6} {'grasp':>6} {'sim':>6} {'oracle':>6}"
    click.echo(f"{head} {'grasp cm':>8}")
    lines = [("seen", ev["seen"]), ("unseen", ev["unseen"])]
    lines += [(f"  {k}", v) for k, v in ev["relations"].items()]
    for name, s in lines:
        cells = [
            "-" if s.get(k) is None else f"{s[k]:.2f}"
            for k in ("proxy", "grasp", "sim", "oracle_sim", "grasp_cm")
        ]
        click.echo(
            f"{name:<14} {s['n']:>4} " + " ".join(f"{c:>6}" for c in cells[:4]) + f" {cells[4]:>8}"
        )
    click.echo(f"held-out relations: {', '.join(ev['held_out_relations'])}; {ev['seconds']:.0f} s")


@goals.command("train")
@click.option(
    "--n-train",
    type=click.IntRange(1, 20000),
    default=GoalTrainSettings.n_train,
    show_default=True,
    help="Training seeds (one goal each; a scene is made in about 40 ms).",
)
@click.option(
    "--n-test",
    type=click.IntRange(1, 2000),
    default=GoalTrainSettings.n_test,
    show_default=True,
)
@click.option(
    "--steps", type=click.IntRange(1, 100000), default=GoalTrainSettings.steps, show_default=True
)
@click.option("--seed", type=click.IntRange(0, 2**31), default=0, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--lr", type=click.FloatRange(0, 1, min_open=True), default=None, help="Adam's rate.")
@click.option(
    "--schedule",
    type=click.Choice(["cosine", "constant"]),
    default="cosine",
    show_default=True,
    help="Learning rate: warm-up then cosine decay, or constant.",
)
@click.option(
    "--role-queries/--no-role-queries",
    default=False,
    show_default=True,
    help="The match queries also read the phrase's object and place parts apart.",
)
@click.option(
    "--augment/--no-augment",
    default=GoalTrainSettings.augment,
    show_default=True,
    help="Train on random table turns and shifts (directions are not turned).",
)
@click.option(
    "--sim/--no-sim", default=True, show_default=True, help="Also execute the test goals."
)
@json_option
@pass_app
def goals_train(
    app: App,
    n_train: int,
    n_test: int,
    steps: int,
    seed: int,
    threads: int,
    lr: float | None,
    schedule: str,
    role_queries: bool,
    augment: bool,
    sim: bool,
) -> None:
    """Train a policy on goal-template demonstrations and save a new checkpoint version."""
    from agent.policy.goal_train import train_on_goals

    optim = settings_optim(seed=seed, threads=threads, lr=lr)
    settings = GoalTrainSettings(
        n_train, n_test, steps, optim, sim, schedule, role_queries, augment
    )
    res = train_on_goals(app.home, settings, progress=say(app))
    emit(app, res, lambda: _show(res))


@goals.command("eval")
@click.option("--version", default="latest", show_default=True, help="Checkpoint version.")
@click.option("--episodes", type=click.IntRange(1, 2000), default=60, show_default=True)
@click.option("--sim/--no-sim", default=True, show_default=True, help="Also execute the goals.")
@click.option("--oracle", is_flag=True, help="Also execute them with oracle poses (the ceiling).")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@json_option
@pass_app
def goals_eval(
    app: App, version: str, episodes: int, sim: bool, oracle: bool, threads: int
) -> None:
    """Score a checkpoint on held-out goal-template scenes (odd seeds), seen vs unseen."""
    from agent.policy.checkpoint import resolve
    from agent.policy.goal_eval import evaluate_goals
    from agent.policy.provider import embedder_for
    from agent.policy.train import load_policy

    embedder = embedder_for(resolve(app.home, version).manifest.get("encoder", ""))
    policy = load_policy(app.home, version, embedder, threads=threads)
    say(app)(f"scoring on {episodes} test goals")
    res = evaluate_goals(policy, episodes, sim=sim, oracle=oracle)
    res["version"] = int(policy.info.get("version", 0)) or None
    emit(app, res, lambda: _show({"eval": res}))
