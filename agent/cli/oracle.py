"""`skillgrove oracle FAMILY --episodes N --seed S [--gif PATH] [--gui]`."""

from __future__ import annotations

import time

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.progress import progress
from agent.inputs import SEED


@click.command()
@click.argument("family")
@click.option(
    "--episodes",
    type=int,
    default=10,
    show_default=True,
    help="Number of episodes (seeds S, S+1, ...).",
)
@click.option("--seed", type=SEED.click_type(), default=0, show_default=True, help="First seed.")
@click.option(
    "--gif",
    type=click.Path(),
    help="Write the first episode as an animated GIF (a new file unless --force).",
)
@click.option("--force", is_flag=True, help="Replace the --gif file if it exists.")
@click.option("--gui", is_flag=True, help="Watch in PyBullet's GUI window (needs a display).")
@json_option
@pass_app
def oracle(
    app: App, family: str, episodes: int, seed: int, gif: str | None, force: bool, gui: bool
) -> None:
    """Run the scripted oracle on FAMILY and report its success rate."""
    from sim.families import check_family
    from sim.runner import check_seed, run_oracle, write_gif
    from sim.world import World
    from skills.files import check_target, safe_write

    check_family(family)
    if episodes < 1:
        raise click.BadParameter(f"--episodes must be >= 1, got {episodes}")
    check_seed(seed)
    check_seed(seed + episodes - 1)
    if gif is not None:
        check_target(gif, force=force, home=app.home_path)  # refused before anything runs
    if gui:
        from sim.display import require_display

        require_display("--gui")
    world = World(gui=gui, check_display=False)  # probed above
    t0 = time.perf_counter()
    results = []
    try:
        with progress(f"oracle {family}", episodes, quiet=app.json) as advance:
            for i in range(episodes):
                frames = [] if (gif and i == 0) else None
                results.append(run_oracle(world, family, seed + i, frames))
                if frames:
                    with safe_write(gif, force=force, home=app.home_path) as tmp:
                        write_gif(frames, str(tmp))
                advance()
    finally:
        world.close()
    data = {
        "family": family,
        "episodes": episodes,
        "success_rate": sum(r.success for r in results) / episodes,
        "seconds": time.perf_counter() - t0,
        "failed_seeds": [r.seed for r in results if not r.success],
    }
    if gif:
        data["gif"] = str(gif)
    emit(app, data)
