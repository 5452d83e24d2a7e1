"""`skillgrove tasks list|show`."""

from __future__ import annotations

import click

from agent.cli import App, emit, json_option, pass_app
from agent.inputs import SEED


@click.group()
def tasks() -> None:
    """List the task families and show seeded instances."""


@tasks.command("list")
@json_option
@pass_app
def list_(app: App) -> None:
    """Every task family with its gymnasium id, instruction template and slots."""
    from sim.families import FAMILIES, env_id, task_class

    fams = []
    for fam in FAMILIES:
        cls = task_class(fam)
        fams.append(
            {"id": fam, "env_id": env_id(fam), "template": cls.template, "slots": list(cls.slots)}
        )

    def human() -> None:
        from rich.console import Console
        from rich.table import Table

        t = Table("id", "env_id", "template")
        for f in fams:
            t.add_row(f["id"], f["env_id"], f["template"])
        Console().print(t)

    emit(app, {"families": fams}, human)


@tasks.command("show")
@click.argument("family")
@click.option("--seed", type=SEED.click_type(), default=0, show_default=True, help="Layout seed.")
@json_option
@pass_app
def show(app: App, family: str, seed: int) -> None:
    """Build FAMILY's scene for a seed and print its instruction and params."""
    from sim.families import check_family
    from sim.runner import check_seed, reset_task
    from sim.world import World

    check_family(family)
    check_seed(seed)
    world = World()
    try:
        task = reset_task(world, family, seed)
        data = {
            "family": family,
            "seed": seed,
            "instruction": task.instruction,
            "params": dict(task.params),
            "objects": [o.description for o in world.objects],
        }
    finally:
        world.close()
    emit(app, data)
