"""`skillgrove bench continual`: every strategy through the task stream, side by side.

For each (task order, seed) the base (first experience) is trained once and shared;
each strategy then fine-tunes through the other experiences (`stream.run_strategy`),
in a pool of worker processes (one torch thread each). The R matrices of success, position
error and yaw error give ACC, BWT, FWT, forgetting and AUC (`metrics`), averaged over
orders and seeds. The final policies are also executed in the simulator on a few
held-out scenes per task (how far the pose-tolerance proxy agrees with real success).
A correction run (simulated expert, `feedback`) teaches the base a new task.
Everything goes to `<home>/policy/bench/`: results.json, results.md, and the plots.

This module holds the presets and the run from start to end; the runs and their worker
pool are in `continual_runs`, the table in `continual_report`.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.settings import Optim
from agent.policy.strategies import STRATEGIES
from agent.policy.stream import ORDERS, StreamConfig
from bench.continual_report import aggregate, markdown
from bench.continual_runs import bench_dir, code_version, feedback_run, prepare_bases, run_jobs

# every registered strategy (the bounds joint and cumulative included), then the
# combination the issue names
ALL_STRATEGIES = (*STRATEGIES, "replay+lwf")
QUICK = {
    "seeds": (0,),
    "orders": ("A",),
    "n_train": 150,
    "n_test": 20,
    "base_steps": 500,
    "steps": 100,
    "sim_episodes": 3,
    "feedback": {"rounds": 3, "attempts": 10, "eval_episodes": 10, "steps": 100},
}
# Sized so that 3 seeds x 2 orders of the main strategies fit in about an hour on 2 cores.
FULL = {
    "seeds": (0, 1, 2),
    "orders": ("A", "B"),
    "n_train": 200,
    "n_test": 30,
    "base_steps": 800,
    "steps": 150,
    "sim_episodes": 6,
    "feedback": {"rounds": 5, "attempts": 20, "eval_episodes": 30, "steps": 150},
}
FEEDBACK_TASK = "stack"  # the new task of the correction run (not in the base's experience)


def run_continual_bench(
    home: Path,
    quick: bool,
    strategies: tuple[str, ...] | None = None,
    seeds=None,
    orders=None,
    workers: int = 2,
    threads: int = 1,
    feedback: bool = True,
    progress=None,
    embedder=None,
    overrides: dict | None = None,
    cluster=None,
) -> dict:
    """Run the benchmark and write its table and plots to `<home>/policy/bench/`.

    Args:
        home: the data home (datasets, bases and results are cached there).
        quick: the small settings (one seed, one order, fewer steps; minutes on 2 cores).
        strategies: names (combinations with "+"); default all of `ALL_STRATEGIES`.
        seeds, orders: override the settings' seeds and task orders ("A", "B").
        workers: worker processes (each one torch thread).
        feedback: also run the correction experiment.
        progress: callable(str) for progress lines.
        embedder: the sentence embedder (default: the packaged MiniLM); must pickle
            when workers > 1.
        overrides: settings replacing the preset's (n_train, n_test, n_valid, base_steps,
            steps, sim_episodes, feedback), e.g. for tiny test runs; n_valid (validation
            scenes per task) is n_test unless given.
        cluster: run the bases and cells as Ray tasks (`bench.continual_ray.RayCells`)
            instead of in the worker pool.

    Returns:
        {"strategies": {name: {"acc", "bwt", "fwt", "forgetting", "auc", "seconds", ...}},
         "settings", "feedback", "table", "plots", "results", "seconds",
         "logdir": the run's TensorBoard directory, one subdirectory per run}
    """
    from agent.policy.plots import r_heatmaps
    from agent.policy.strategies import make_strategies

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    preset = {**(QUICK if quick else FULL), **(overrides or {})}
    names = tuple(strategies or ALL_STRATEGIES)
    for n in names:
        make_strategies(n)  # unknown names fail now, not in a worker
    seeds = tuple(seeds if seeds is not None else preset["seeds"])
    orders = tuple(orders if orders is not None else preset["orders"])
    bad = [o for o in orders if o not in ORDERS]
    if bad:
        raise AgentError(f"unknown task order {bad[0]!r} (known: {', '.join(ORDERS)})")
    base_cfg = StreamConfig(
        n_train=preset["n_train"],
        n_test=preset["n_test"],
        n_valid=preset.get("n_valid"),
        base_steps=preset["base_steps"],
        steps=preset["steps"],
        optim=Optim(threads=threads),
        sim_episodes=preset["sim_episodes"],
    )
    configs = {
        (o, s): replace(base_cfg, families=ORDERS[o], optim=base_cfg.optim.but(seed=s))
        for o in orders
        for s in seeds
    }
    from agent.policy.curves import Curves

    curves = Curves.open(Path(home), "continual")  # one subdirectory per run, made by its writer
    logdir = str(curves.logdir)
    bases = prepare_bases(Path(home), configs, workers, threads, say, embedder, logdir, cluster)
    code = code_version()
    jobs = [
        {
            "strategy": n,
            "order": o,
            "home": str(home),
            "base": str(bases[(o, s)]),
            "threads": threads,
            "code": code,
            "config": configs[(o, s)].to_dict(),
            "embedder": embedder,
            "logdir": logdir,
        }
        for (o, s) in configs
        for n in names
    ]
    say(f"{len(jobs)} strategy runs on {workers} worker(s)")
    runs = run_jobs(jobs, workers, say, cluster)
    write_matrices(curves.logdir, runs)
    summary = aggregate(runs)
    out = bench_dir(Path(home))
    plots = []
    for o in orders:
        mats = {
            n: square(
                np.mean(
                    [r["success"] for r in runs if r["strategy"] == n and r["order"] == o], axis=0
                )
            )
            for n in names
        }
        plots.append(
            str(
                r_heatmaps(
                    mats, list(ORDERS[o]), out / f"r_matrix_{o}.png", f"success R[i, j], order {o}"
                )
            )
        )
    fb = None
    if feedback:
        first = configs[(orders[0], seeds[0])]
        task = FEEDBACK_TASK if first.families[0] != FEEDBACK_TASK else first.families[1]
        with Curves(curves.logdir / f"feedback-{task}") as fb_curves:
            fb = feedback_run(
                Path(home),
                first,
                bases[(orders[0], seeds[0])],
                task,
                preset,
                threads,
                say,
                embedder,
                fb_curves,
            )
        from agent.policy.plots import correction_curve

        plots.append(str(correction_curve([fb], out / "corrections.png")))
    settings = {
        **{k: v for k, v in preset.items() if k != "feedback"},
        "n_valid": base_cfg.n_test if base_cfg.n_valid is None else base_cfg.n_valid,
        "seeds": list(seeds),
        "orders": list(orders),
        "families": list(ORDERS[orders[0]]),
        "workers": workers,
        "threads": threads,
        "quick": quick,
    }
    table = out / "results.md"
    table.write_text(markdown(summary, settings, fb))
    result = {
        "strategies": summary,
        "settings": settings,
        "feedback": fb,
        "table": str(table),
        "plots": plots,
        "seconds": time.perf_counter() - t0,
    }
    (out / "results.json").write_text(json.dumps({**result, "runs": runs}, indent=1, default=str))
    result["results"] = str(out / "results.json")
    result["logdir"] = logdir
    return result


def square(r) -> np.ndarray:
    """A T x T matrix of R: the joint bound's single final row below rows of NaN."""
    r = np.atleast_2d(np.asarray(r, dtype=float))
    t = r.shape[1]
    return np.vstack([np.full((t - r.shape[0], t), np.nan), r])


def write_matrices(logdir: Path, runs: list[dict]) -> None:
    """Each run's rows of R as TensorBoard scalars in `<logdir>/<strategy>-<order>-s<seed>`:
    success, position and yaw error of every task (step: the experience just trained; the
    joint bound's one row at the last experience)."""
    from agent.policy.curves import Curves

    for r in runs:
        skip = len(r["families"]) - len(r["success"])
        with Curves(Path(logdir) / f"{r['strategy']}-{r['order']}-s{r['seed']}") as c:
            for key in ("success", "pos_cm", "rot_deg"):
                for i, row in enumerate(r[key], skip):
                    for fam, v in zip(r["families"], row, strict=True):
                        c.scalar(f"{key}/{fam}", v, i)
            for i, row in enumerate(r["success"], skip):
                c.scalar("acc_seen", float(np.mean(row[: i + 1])), i)
