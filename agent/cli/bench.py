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


@bench.command("continual")
@click.option("--quick", is_flag=True, help="One seed, one order, fewer steps (under 15 min on 2 cores).")
@click.option("--strategies", default=None, help="Comma-separated strategies (default: all; combine with '+').")
@click.option("--seeds", default=None, help="Comma-separated seeds (default: the preset's).")
@click.option("--orders", default=None, help="Comma-separated task orders, A and/or B (default: the preset's).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Worker processes, one torch thread each.")  # fmt: skip
@click.option("--no-feedback", is_flag=True, help="Skip the correction-rounds experiment.")
@json_option
@pass_app
def continual_(app: App, quick: bool, strategies: str | None, seeds: str | None, orders: str | None,
               workers: int, no_feedback: bool) -> None:  # fmt: skip
    """Continual-learning strategies through the task stream: ACC, BWT, FWT, forgetting."""
    from agent.policy.bench import run_continual_bench

    def split(text: str | None, name: str, cast=str):
        if text is None:
            return None
        try:
            return tuple(cast(s.strip()) for s in text.split(",") if s.strip())
        except ValueError:
            raise click.BadParameter(f"{name} must be comma-separated integers, got {text!r}") from None

    say = (lambda m: None) if app.json else (lambda m: click.echo(m, err=True))
    res = run_continual_bench(app.home, quick, strategies=split(strategies, "--strategies"),
                              seeds=split(seeds, "--seeds", int), orders=split(orders, "--orders"),
                              workers=workers, feedback=not no_feedback, progress=say)  # fmt: skip

    def human() -> None:
        click.echo(open(res["table"]).read())
        click.echo(f"table: {res['table']}\nplots: {', '.join(res['plots'])}\nresults: {res['results']}")

    emit(app, res, human)
