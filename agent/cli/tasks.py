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
@click.option(
    "--gui",
    is_flag=True,
    help="Show the scene in PyBullet's GUI window (needs a display) until you close it.",
)
@json_option
@pass_app
def show(app: App, family: str, seed: int, gui: bool) -> None:
    """Build FAMILY's scene for a seed and print its instruction and params.

    With --gui the scene stays in PyBullet's window after printing, until the window is
    closed (or Ctrl-C)."""
    from sim.families import check_family
    from sim.runner import check_seed, reset_task
    from sim.world import World

    check_family(family)
    check_seed(seed)
    if gui:
        from sim.display import require_display

        require_display("--gui")
    world = World(gui=gui, check_display=False)  # probed above
    try:
        task = reset_task(world, family, seed)
        data = {
            "family": family,
            "seed": seed,
            "instruction": task.instruction,
            "params": dict(task.params),
            "objects": [o.description for o in world.objects],
        }
        emit(app, data)
        if gui:
            _show_until_closed(world)
    finally:
        world.close()


def _show_until_closed(world, poll_s: float = 0.1) -> None:
    """Keep the GUI window open until the user closes it (or presses Ctrl-C)."""
    import time

    try:
        while world.client.getConnectionInfo().get("isConnected"):
            time.sleep(poll_s)
    except KeyboardInterrupt:
        pass
    except Exception:  # pybullet.error: the window was closed under us
        pass
