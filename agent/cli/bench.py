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


@bench.command("retrieval")
@click.option(
    "--sizes", default="1000,10000", show_default=True, help="Library sizes for the latency runs."
)
@click.option("--latency-queries", type=click.IntRange(10, 5000), default=200, show_default=True)
@json_option
@pass_app
def retrieval_(app: App, sizes: str, latency_queries: int) -> None:
    """Top-1 on paraphrases, novel-task rejection, search latency at 1k and 10k skills."""
    from skills.bench_retrieval import run_retrieval_bench

    try:
        sizes_t = tuple(int(s) for s in sizes.split(",") if s.strip())
    except ValueError:
        raise click.BadParameter(
            f"--sizes must be comma-separated integers, got {sizes!r}"
        ) from None
    work = app.home / "bench"
    work.mkdir(parents=True, exist_ok=True)
    emit(app, run_retrieval_bench(work, sizes=sizes_t, latency_queries=latency_queries))


@bench.command("agent")
@click.option("--suite", "suites", multiple=True, default=("paraphrase", "basic"), show_default=True,
              help="Suites to run, each on a fresh library.")  # fmt: skip
@json_option
@pass_app
def agent_(app: App, suites: tuple[str, ...]) -> None:
    """Offline agent success on fresh libraries, and reuse on a second pass."""
    from agent.bench_agent import run_agent_bench
    from agent.curriculum import load_suite

    from .progress import progress

    total = sum(len(load_suite(s).tasks) * load_suite(s).passes for s in suites)
    keep = app.home / "bench"
    with progress("bench agent", total, quiet=app.json) as advance:
        emit(app, run_agent_bench(tuple(suites), keep=keep, advance=advance))


@bench.command("sandbox")
@click.option("--runs", type=click.IntRange(5, 1000), default=30, show_default=True)
@json_option
@pass_app
def sandbox_(app: App, runs: int) -> None:
    """Per-run cost of a warm sandbox worker above the episode's own work."""
    from skills.sandbox import measure_overhead

    emit(app, measure_overhead(runs))
