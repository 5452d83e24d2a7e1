"""`skillgrove goals check FORMULA --objects ... | goals list`: the goal language at hand.

`check` builds the scene (from words with `--objects`, or a family's scene with `--task`)
and explains the goal on it atom by atom: true or false, by how much, and why, e.g.
"left_of(red cube, blue cube): false, red cube is 1.2 cm right of blue cube, needs
>= 3.0 cm left". Nothing is written.
"""

from __future__ import annotations

import click

from agent.cli import App, emit, json_option, pass_app
from agent.inputs import SEED


@click.group()
def goals() -> None:
    """Check goals against scenes and list the predicates they are made of."""


@goals.command("list")
@json_option
@pass_app
def list_(app: App) -> None:
    """Every predicate with its arguments and what it means (tolerances in its docs)."""
    from sim.goals import FRAME, load

    preds = [
        {"name": p.name, "signature": p.signature(), "doc": p.doc}
        for p in sorted(load().values(), key=lambda p: p.name)
    ]

    def human() -> None:
        for p in preds:
            click.echo(f"{p['signature']:34s} {p['doc']}")
        click.echo(f"\n{FRAME}")

    emit(app, {"predicates": preds, "frame": FRAME}, human)


@goals.command("check")
@click.argument("formula")
@click.option(
    "--objects",
    metavar="TEXT",
    help='The scene, e.g. "red cube, blue bowl, green cube on yellow plate".',
)
@click.option("--task", "family", metavar="FAMILY", help="Judge on a task family's scene instead.")
@click.option("--seed", type=SEED.click_type(), default=0, show_default=True, help="Scene seed.")
@click.option(
    "--distractors",
    type=click.IntRange(0, 8),
    default=0,
    show_default=True,
    help="Other objects added to a scene from --objects.",
)
@json_option
@pass_app
def check(
    app: App, formula: str, objects: str | None, family: str | None, seed: int, distractors: int
) -> None:
    """Explain FORMULA (text or JSON form) on a scene, atom by atom."""
    from agent.errors import AgentError
    from sim.goals import check as check_goal
    from sim.goals import evaluate, read_world, start_poses
    from sim.runner import check_seed
    from sim.world import World

    if (objects is None) == (family is None):
        raise AgentError("give the scene: --objects TEXT or --task FAMILY")
    check_seed(seed)
    world = World()
    try:
        if family is not None:
            from sim.runner import reset_task

            reset_task(world, family, seed)
        else:
            import numpy as np

            from sim.scenes import build_scene, parse_objects

            build_scene(world, parse_objects(objects), np.random.default_rng(seed), distractors)
        state = read_world(world, start_poses(world))
        goal = check_goal(formula, state)
        verdict = evaluate(goal, state)
    finally:
        world.close()
    data = {
        "goal": goal.text,
        "value": verdict.value,
        "atoms": [a.to_json() for a in verdict.atoms],
        "objects": state.to_json(),
    }

    def human() -> None:
        click.echo(f"{goal.text}: {'TRUE' if verdict.value else 'FALSE'}")
        for a in verdict.atoms:
            click.echo(f"  {a.line()}")
        click.echo("scene: " + ", ".join(state.descriptions))

    emit(app, data, human)
