"""`skillgrove bench sim|retrieval|open|agent|sandbox|continual`.

Exit codes: 0 when the benchmark produced its figures; 3 when it produced them but they
show a broken guarantee (`bench open`: a FALSE success; `bench sim`: the scripted oracle
failed an episode), with a line on stderr saying which; 1 when it produced no figures (no
task or episode ran) or on an error; 2 on a usage error. Failed tasks of `bench agent`
are figures, not errors.
"""

from __future__ import annotations

import click

from agent.cli import App, emit, json_option, pass_app
from agent.cli.agent_opts import agent_options, check_ray_address, perception_options
from agent.errors import AgentError

EXIT_BROKEN = 3  # figures produced, but they show a broken guarantee (as `run`'s FAILED)


def _verdict(what: str, broken: str | None) -> None:
    """After the figures are printed: exit EXIT_BROKEN with one line on stderr when
    `broken` says what went wrong."""
    if broken:
        click.echo(f"{what}: {broken}", err=True)
        click.get_current_context().exit(EXIT_BROKEN)


@click.group()
def bench() -> None:
    """Benchmarks: each prints its figures (and --json one object)."""


def ray_options(f):
    """`--executor local|ray` and `--ray-address` for a benchmark that runs its own work."""
    f = click.option(
        "--ray-address",
        metavar="ADDR",
        help="The Ray cluster's head, HOST:PORT (with --executor ray; default: a Ray started here).",
    )(f)
    return click.option(
        "--executor",
        type=click.Choice(["local", "ray"]),
        default="local",
        show_default=True,
        help="Where the benchmark's work runs: local processes or a Ray cluster.",
    )(f)


@bench.command("sim")
@click.option("--episodes-per-family", type=click.IntRange(1, 50), default=2, show_default=True)
@ray_options
@json_option
@pass_app
def sim_(app: App, episodes_per_family: int, executor: str, ray_address: str | None) -> None:
    """Physics share of oracle episodes (overhead_ratio) and the parallel speedup (2
    processes, or with --executor ray every CPU of the cluster, one World actor each)."""
    from bench.sim import run_sim_bench

    check_ray_address(executor, ray_address)
    if executor == "ray":
        from bench.sim_ray import run_sim_bench_ray

        out = run_sim_bench_ray(episodes_per_family, ray_address)
    else:
        out = run_sim_bench(episodes_per_family)
    if not out.get("episodes"):
        raise AgentError("bench sim ran no episode")
    emit(app, out)
    rate = out["oracle_success_rate"]
    _verdict("bench sim", None if rate >= 1.0 else f"the scripted oracle succeeded on {rate:.0%}")


@bench.command("retrieval")
@click.option(
    "--sizes", default="1000,10000", show_default=True, help="Library sizes for the latency runs."
)
@click.option("--latency-queries", type=click.IntRange(10, 5000), default=200, show_default=True)
@click.option(
    "--cold-runs",
    type=click.IntRange(0, 50),
    default=5,
    show_default=True,
    help="Fresh-process runs of each cold command (0: skip).",
)
@json_option
@pass_app
def retrieval_(app: App, sizes: str, latency_queries: int, cold_runs: int) -> None:
    """Top-1 on paraphrases, calibrated thresholds, cold and warm search latency."""
    from bench.retrieval import run_retrieval_bench, summary_lines

    try:
        sizes_t = tuple(int(s) for s in sizes.split(",") if s.strip())
    except ValueError:
        raise click.BadParameter(
            f"--sizes must be comma-separated integers, got {sizes!r}"
        ) from None
    work = app.home / "bench"
    work.mkdir(parents=True, exist_ok=True)
    out = run_retrieval_bench(
        work, sizes=sizes_t, latency_queries=latency_queries, cold_runs=cold_runs
    )
    emit(app, out, lambda: click.echo("\n".join(summary_lines(out))))


@bench.command("open")
@click.option(
    "--suite",
    "suite_path",
    metavar="FILE",
    default=None,
    help="A suite JSON, or 'dev' / 'test' for a packaged split (default: dev).",
)
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=None, help="Run only the first N tasks."
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Scene seed of the first task."
)
@perception_options
@agent_options
@json_option
@pass_app
def open_(
    app: App,
    suite_path: str | None,
    limit: int | None,
    seed: int,
    perception: str,
    policy_version: str | None,
    opts,
) -> None:
    """Open-world instructions: successes, honest failures, refusals and FALSE successes."""
    from dataclasses import replace

    from agent.cli.progress import progress
    from agent.factory import build_agent
    from bench.open_world import load_open_suite, run_open_bench

    tasks = load_open_suite(suite_path)[:limit]
    opts = replace(opts, perception=perception, policy_version=policy_version)
    with (
        build_agent(app.home, opts) as agent,
        progress("bench open", len(tasks), quiet=app.json) as advance,
    ):
        out = run_open_bench(agent, tasks, seed, advance)
    if not out["tasks"]:
        raise AgentError("bench open ran no task")

    def human() -> None:
        for r in out["rows"]:
            click.echo(
                f"{r['outcome']:13s} {r['instruction']}  [{r.get('goal') or r.get('reason', '')}]"
            )
        click.echo(
            f"{out['tasks']} tasks: {out['successes']} succeeded, {out['honest_failures']} failed honestly, "
            f"{out['refused']} refused; FALSE successes: {out['false_successes']} ({out['seconds']} s)"
        )

    emit(app, out, human)
    false = out["false_successes"]
    _verdict("bench open", f"{false} FALSE successes" if false else None)


@bench.command("agent")
@click.option(
    "--suite",
    "suites",
    multiple=True,
    default=("paraphrase", "basic"),
    show_default=True,
    help="Suites to run, each on a fresh library ('open': the open-world dev and test splits, two passes).",
)
@agent_options
@json_option
@pass_app
def agent_(app: App, suites: tuple[str, ...], opts) -> None:
    """Offline agent success on fresh libraries, and reuse on a second pass."""
    from agent.cli.progress import progress
    from agent.run.curriculum import load_suite
    from bench.agent import run_agent_bench
    from bench.open_world import SPLITS, load_open_suite

    def size(s: str) -> int:
        if s == "open":
            return 2 * sum(len(load_open_suite(split)) for split in SPLITS)
        return len(load_suite(s).tasks) * load_suite(s).passes

    total = sum(size(s) for s in suites)
    keep = app.home / "bench"
    with progress("bench agent", total, quiet=app.json) as advance:
        out = run_agent_bench(tuple(suites), opts, keep=keep, advance=advance)
    empty = [n for n, r in out["suites"].items() if not r.get("tasks", 1)]
    if not out["suites"] or empty:
        raise AgentError(f"bench agent ran no task of {', '.join(empty) or 'any suite'}")
    emit(app, out)


@bench.command("sandbox")
@click.option("--runs", type=click.IntRange(5, 1000), default=30, show_default=True)
@json_option
@pass_app
def sandbox_(app: App, runs: int) -> None:
    """Per-run cost of a warm sandbox worker above the episode's own work."""
    from skills.sandbox import measure_overhead

    emit(app, measure_overhead(runs))


@bench.command("continual")
@click.option(
    "--quick", is_flag=True, help="One seed, one order, fewer steps (under 15 min on 2 cores)."
)
@click.option(
    "--strategies",
    default=None,
    help="Comma-separated strategies (default: all; combine with '+').",
)
@click.option("--seeds", default=None, help="Comma-separated seeds (default: the preset's).")
@click.option(
    "--orders",
    default=None,
    help="Comma-separated task orders, A and/or B (default: the preset's).",
)
@click.option(
    "--n-train",
    type=click.IntRange(1, 5000),
    default=None,
    help="Demonstrations per task (default: the preset's).",
)
@click.option(
    "--n-test",
    type=click.IntRange(1, 1000),
    default=None,
    help="Held-out scenes per task (default: the preset's).",
)
@click.option(
    "--base-steps",
    type=click.IntRange(1, 100000),
    default=None,
    help="Optimizer steps of the first experience (default: the preset's).",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 100000),
    default=None,
    help="Optimizer steps of every later experience (default: the preset's).",
)
@click.option(
    "--sim-episodes",
    type=click.IntRange(0, 500),
    default=None,
    help="Simulator episodes per task for the final policies, 0 for none (default: the preset's).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Runs at once, one torch thread each (default: 2 processes; with --executor ray, "
    "every CPU of the cluster).",
)
@click.option("--no-feedback", is_flag=True, help="Skip the correction-rounds experiment.")
@click.option(
    "--stream",
    type=click.Choice(["families", "goals"]),
    default="families",
    show_default=True,
    help="Task families, or the open-world stream of goal templates.",
)
@click.option(
    "--noise", default=None, help="Shares of wrong correction labels (goals), e.g. 0,0.1,0.3."
)
@click.option("--tuned", is_flag=True, help="Each strategy with its `bench tune` choice (goals).")
@ray_options
@json_option
@pass_app
def continual_(
    app: App,
    quick: bool,
    strategies: str | None,
    seeds: str | None,
    orders: str | None,
    n_train: int | None,
    n_test: int | None,
    base_steps: int | None,
    steps: int | None,
    sim_episodes: int | None,
    workers: int | None,
    no_feedback: bool,
    stream: str,
    noise: str | None,
    tuned: bool,
    executor: str,
    ray_address: str | None,
) -> None:
    """Continual-learning strategies through the task stream: ACC, BWT, FWT, forgetting.

    --quick picks the small preset; --n-train, --n-test, --base-steps, --steps and
    --sim-episodes override single settings of whichever preset runs. With --executor ray
    the bases and the (strategy x seed x order) runs are Ray tasks; results are cached here.
    """
    from pathlib import Path

    from agent.cli.progress import progress
    from agent.policy.strategies import make_strategies
    from bench.continual import ALL_STRATEGIES, orders_of, preset_of, run_continual_bench

    check_ray_address(executor, ray_address)
    names = _names(strategies, "--strategies") if strategies is not None else ALL_STRATEGIES
    for n in names:
        make_strategies(n)  # unknown names fail before anything is written
    seed_t = _seeds(seeds) if seeds is not None else None
    known = orders_of(stream)
    order_t = _names(orders, "--orders") if orders is not None else None
    order_t = order_t and tuple(o.upper() if o.upper() in known else o for o in order_t)
    bad = [o for o in order_t or () if o not in known]
    if bad:
        raise click.BadParameter(
            f"unknown task order {bad[0]!r} (known: {', '.join(known)})", param_hint="--orders"
        )
    noise_t = _noise(noise) if noise is not None else None
    if (noise_t and any(noise_t) or tuned) and stream != "goals":
        raise click.UsageError("--noise and --tuned are settings of --stream goals")
    given = {
        "n_train": n_train,
        "n_test": n_test,
        "base_steps": base_steps,
        "steps": steps,
        "sim_episodes": sim_episodes,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    preset = preset_of(stream, quick)
    cluster = None
    if executor == "ray":
        from bench.continual_ray import RayCells

        try:
            cluster = RayCells(ray_address, workers)
        except AgentError as exc:
            if "--workers" in str(exc):
                raise click.UsageError(str(exc)) from None
            raise
        workers = cluster.workers
    workers = workers or 2
    runs = len(names) * len(seed_t or preset["seeds"]) * len(order_t or preset["orders"])
    runs *= len(noise_t or preset.get("noise", (0.0,)))
    with progress("bench continual", runs, quiet=app.json) as advance:

        def say(message: str) -> None:
            if app.json:
                return
            click.echo(message, err=True)
            # bench.continual reports each finished strategy run as "done <strategy> (...)"
            if message.startswith("done "):
                advance()

        res = run_continual_bench(
            app.home,
            quick,
            strategies=names,
            seeds=seed_t,
            orders=order_t,
            workers=workers,
            feedback=not no_feedback,
            progress=say,
            overrides=overrides,
            cluster=cluster,
            stream=stream,
            noise=noise_t,
            tuned=tuned,
        )
    res["executor"] = executor

    def human() -> None:
        click.echo(Path(res["table"]).read_text().rstrip())
        click.echo(
            f"\ntable: {res['table']}\nplots: {', '.join(res['plots'])}\nresults: {res['results']}"
        )
        click.echo(f"curves: {res['logdir']}")
        click.echo(f"{res['seconds']:.0f} s")

    emit(app, res, human)


def _names(text: str, option: str) -> tuple[str, ...]:
    """Comma-separated names, deduplicated in order; at least one."""
    names = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not names:
        raise click.BadParameter(f"give at least one name, got {text!r}", param_hint=option)
    return names


def _seeds(text: str) -> tuple[int, ...]:
    """Comma-separated seeds in [0, 2**31)."""
    try:
        seeds = tuple(int(s) for s in _names(text, "--seeds"))
    except ValueError:
        raise click.BadParameter(
            f"must be comma-separated integers, got {text!r}", param_hint="--seeds"
        ) from None
    bad = [s for s in seeds if not 0 <= s < 2**31]
    if bad:
        raise click.BadParameter(f"seed {bad[0]} is out of range [0, 2**31)", param_hint="--seeds")
    return seeds


def _noise(text: str) -> tuple[float, ...]:
    """Comma-separated shares of wrong labels in [0, 0.5]."""
    try:
        shares = tuple(float(s) for s in _names(text, "--noise"))
    except ValueError:
        raise click.BadParameter(
            f"must be comma-separated numbers, got {text!r}", param_hint="--noise"
        ) from None
    bad = [s for s in shares if not 0 <= s <= 0.5]
    if bad:
        raise click.BadParameter(f"share {bad[0]} is out of range [0, 0.5]", param_hint="--noise")
    return shares


from agent.cli.bench_tune import tune_  # noqa: E402  (the command lives in its own file)

bench.add_command(tune_)
