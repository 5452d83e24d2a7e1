"""`skillgrove bench sim|retrieval|agent|continual`."""

from __future__ import annotations

import click

from . import App, emit, json_option, pass_app


@click.group()
def bench() -> None:
    """Benchmarks: each prints its figures (and --json one object)."""


@bench.command("sim")
@click.option("--episodes-per-family", type=click.IntRange(1, 50), default=2, show_default=True)
@json_option
@pass_app
def sim_(app: App, episodes_per_family: int) -> None:
    """Physics share of oracle episodes (overhead_ratio) and 2-process speedup."""
    from sim.bench import run_sim_bench

    emit(app, run_sim_bench(episodes_per_family))
