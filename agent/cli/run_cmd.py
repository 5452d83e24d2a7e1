"""`skillgrove run INSTRUCTION [--objects TEXT] [--goal FORMULA] [--distractors N]
[--task FAMILY] [--seed S] [--llm SPEC] [--perception oracle|policy]`.

The verdict is the goal (given with --goal, or read from the instruction) evaluated on the
simulator's end state; --json prints it with every atom's truth and margin and every
object's start and end pose.

With `--perception policy` the run's grasp and place poses come from the learned policy
(checkpoint `--policy-version`, default the latest); candidate skills are still verified
with oracle poses (see `agent.evaluate.evaluator`).

Exit status: 0 when the goal holds at the end, 3 when the run ended but the goal does
not hold (`EXIT_NOT_REACHED`, the code `skills verify` gives a version that fails), 1 on
an error (nothing ran to the end), 2 on a usage error.
"""

from __future__ import annotations

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.agent_opts import agent_options, perception_options
from agent.cli.terminal import safe
from agent.inputs import SEED

EXIT_NOT_REACHED = 3  # ran to the end, the goal does not hold (as `skills verify`: did not pass)


@click.command()
@click.argument("instruction")
@click.option(
    "--task",
    "family",
    metavar="FAMILY",
    help="Task family that builds the scene and judges it (default: inferred from the text).",
)
@click.option(
    "--objects",
    metavar="TEXT",
    default=None,
    help='The scene, e.g. "red cube, blue bowl, green cube on yellow plate" (default: the objects the instruction names).',
)
@click.option(
    "--goal",
    metavar="FORMULA",
    default=None,
    help='The goal, text or JSON, e.g. "left_of(red cube, blue bowl)" (default: read from the instruction).',
)
@click.option(
    "--distractors",
    type=click.IntRange(0, 8),
    default=None,
    help="Other objects added to a scene from words (default 1).",
)
@click.option("--seed", type=SEED.click_type(), default=0, show_default=True, help="Scene seed.")
@perception_options
@click.option(
    "--gui",
    is_flag=True,
    help="Show the run (not its verification) in PyBullet's GUI window (needs a display).",
)
@agent_options
@json_option
@pass_app
def run(
    app: App,
    instruction: str,
    family: str | None,
    objects: str | None,
    goal: str | None,
    distractors: int | None,
    seed: int,
    perception: str,
    policy_version: str | None,
    gui: bool,
    opts,
) -> None:
    """Carry out INSTRUCTION: reuse, adapt or write a skill, prove it in simulation, run it.

    \b
    Exit status:
      0  the goal holds at the end (SUCCESS)
      3  the run ended, but the goal does not hold (FAILED)
      1  an error: nothing ran to the end (one line on stderr)
      2  a usage error
    """
    from skillgrove.ops import run_instruction

    if gui:  # the sandbox's trusted process shows it: `skills.sandbox.runner._show_in_gui`
        from dataclasses import replace

        from sim.display import require_display

        opts = replace(opts, display=require_display("--gui"))
    log = (lambda m: None) if app.json else (lambda m: click.echo(safe(m), err=True))
    record, data = run_instruction(  # the same call as the Python API's `Library.run`
        app.home,
        opts,
        instruction,
        family=family,
        seed=seed,
        goal=goal,
        objects=objects,
        distractors=distractors,
        perception=perception,
        policy_version=policy_version,
        log=log,
    )

    def human() -> None:
        click.echo(f"{'SUCCESS' if record.success else 'FAILED'}: {record.instruction}")
        click.echo(f"  goal: {record.goal}")
        for a in record.atoms:
            click.echo(
                f"    {a.get('atom')}: {'true' if a.get('value') else 'false'}, {a.get('detail', '')}"
            )
        where = (
            f"family {record.family} ({record.family_source})"
            if record.family
            else "a scene from words"
        )
        click.echo(
            f"  {where}, seed {record.seed}, planner {record.planner}, perception {record.perception}"
        )
        for d in record.decisions:
            click.echo(
                f"  {d.decision:10s} score {d.score:.2f}  {d.skill or '-'}{'' if d.version is None else f' v{d.version}'}  ({d.step})"
            )
        if record.reason:
            click.echo(f"  reason: {record.reason}")
        click.echo(
            f"  {record.seconds:.1f} s, {record.llm_calls} LLM calls, run id {record.run_id}"
        )
        if record.gif:
            click.echo(f"  replay: {app.home / record.gif}")

    emit(app, data, human)
    if not record.success:
        click.get_current_context().exit(EXIT_NOT_REACHED)
