"""`skillgrove demo`: the main job, offline, with results written to the data home.

Runs the scripted oracle once on every task family and writes one GIF per family to
`<home>/demo/`. (The agent's curriculum joins the demo as it lands.)
"""

from __future__ import annotations

import time

import click

from . import App, emit, json_option, pass_app
from .progress import progress


@click.command()
@click.option("--seed", type=int, default=0, show_default=True, help="Scene seed for every family.")
@json_option
@pass_app
def demo(app: App, seed: int) -> None:
    """Run every task family's oracle offline and write a GIF per family."""
    from sim.families import FAMILIES
    from sim.runner import check_seed, run_oracle, write_gif
    from sim.world import World

    check_seed(seed)
    out = app.home / "demo"
    out.mkdir(parents=True, exist_ok=True)
    world = World()
    rows, t0 = [], time.perf_counter()
    try:
        with progress("demo: oracle per family", len(FAMILIES), quiet=app.json) as advance:
            for fam in FAMILIES:
                frames: list = []
                ep = run_oracle(world, fam, seed, frames)
                gif = out / f"{fam}.gif"
                write_gif(frames[::2], str(gif))
                rows.append({"family": fam, "instruction": ep.instruction, "success": ep.success, "gif": str(gif)})
                advance()
    finally:
        world.close()
    data = {
        "home": str(app.home),
        "families": rows,
        "success_rate": sum(r["success"] for r in rows) / len(rows),
        "seconds": time.perf_counter() - t0,
    }

    def human() -> None:
        from rich.console import Console
        from rich.table import Table

        t = Table("family", "instruction", "success", title="Scripted oracle, one episode per family")
        for r in rows:
            t.add_row(r["family"], r["instruction"], "yes" if r["success"] else "NO")
        con = Console()
        con.print(t)
        con.print(f"success rate {data['success_rate']:.0%} in {data['seconds']:.1f} s")
        con.print(f"GIFs written to {out}/ (one per family)")

    emit(app, data, human)
