"""`skillgrove bench continual`: every strategy through the task stream, side by side.

For each (task order, seed) the base (first experience) is trained once and shared;
each strategy then fine-tunes through the other experiences (`stream.run_strategy`),
in a pool of worker processes (one torch thread each). The R matrices of success, position
error and yaw error give ACC, BWT, FWT, forgetting and AUC (`metrics`), averaged over
orders and seeds. The final policies are also executed in the simulator on a few
held-out scenes per task (how far the pose-tolerance proxy agrees with real success).
A correction run (simulated expert, `feedback`) teaches the base a new task.
Everything goes to `<home>/policy/bench/`: results.json, results.md, and the plots.

`stream="goals"` runs the open-world stream instead (`agent.policy.goal_stream`: nine
experiences of goal templates, later ones learnt from correction rows of which a share is
wrong, one run per noise level; no simulator check and no correction run), with each
strategy's tuned hyperparameters when asked (`bench.tune`); its files are
`results_goals.json` and `results_goals.md`.

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
from agent.policy.stream import ORDERS, StreamConfig, make_plugins
from bench.continual_report import aggregate, goals_markdown, markdown, noise_study
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
# The goal stream (nine experiences). QUICK: minutes on 2 cores, one seed, no noise study.
GOALS_QUICK = {
    "seeds": (0,),
    "orders": ("A",),
    "n_train": 60,
    "n_test": 16,
    "base_steps": 300,
    "steps": 40,
    "sim_episodes": 0,
    "noise": (0.0,),
}
# The reported setting: three seeds on the held-out order, wrong labels 0 / 10 / 30%.
GOALS_FULL = {
    "seeds": (0, 1, 2),
    "orders": ("A",),
    "n_train": 200,
    "n_test": 40,
    "base_steps": 1500,
    "steps": 200,
    "sim_episodes": 0,
    "noise": (0.0, 0.1, 0.3),
}
STREAMS = ("families", "goals")


def preset_of(stream: str, quick: bool) -> dict:
    """The preset of a stream."""
    if stream not in STREAMS:
        raise AgentError(f"unknown stream {stream!r} (known: {', '.join(STREAMS)})")
    if stream == "goals":
        return GOALS_QUICK if quick else GOALS_FULL
    return QUICK if quick else FULL


def orders_of(stream: str) -> dict[str, tuple[str, ...]]:
    """Task orders of a stream: order name -> experiences."""
    if stream == "goals":
        from agent.policy.goal_stream import GOAL_ORDERS

        return GOAL_ORDERS
    return ORDERS


def order_key(stream: str, order: str) -> str:
    """An order's name in run records and cached bases ("goals-A": not family order A's)."""
    return order if stream == "families" else f"{stream}-{order}"


def stream_configs(home, stream, preset, orders, seeds, threads) -> dict:
    """The StreamConfig of every (order key, seed), the goal stream's scenes rendered
    here first (cached; workers then only read them)."""
    base_cfg = StreamConfig(
        n_train=preset["n_train"],
        n_test=preset["n_test"],
        n_valid=preset.get("n_valid"),
        base_steps=preset["base_steps"],
        steps=preset["steps"],
        optim=Optim(threads=threads),
        sim_episodes=preset["sim_episodes"] if stream == "families" else 0,
        stream=stream,
    )
    table = orders_of(stream)
    bad = [o for o in orders if o not in table]
    if bad:
        raise AgentError(f"unknown task order {bad[0]!r} (known: {', '.join(table)})")
    configs = {
        (order_key(stream, o), s): replace(
            base_cfg, families=table[o], optim=base_cfg.optim.but(seed=s)
        )
        for o in orders
        for s in seeds
    }
    if stream == "goals":
        from agent.policy.geometry import ImageSpec
        from agent.policy.goal_stream import prefetch

        for cfg in configs.values():
            prefetch(Path(home), cfg, ImageSpec())
    return configs


def strategy_jobs(home, configs, bases, names, noise, params, threads, embedder, logdir):
    """One job per (noise level, order, seed, strategy), each with its strategy's params."""
    code = code_version()
    return [
        {
            "strategy": n,
            "order": key[0],
            "home": str(home),
            "base": str(bases[key]),
            "threads": threads,
            "code": code,
            "config": replace(cfg, noise=nz, params=params.get(n, {})).to_dict(),
            "embedder": embedder,
            "logdir": logdir if not nz else f"{logdir}/noise{nz:g}",
        }
        for nz in noise
        for key, cfg in configs.items()
        for n in names
    ]


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
    stream: str = "families",
    noise=None,
    tuned: bool = False,
) -> dict:
    """Run the benchmark and write its table and plots to `<home>/policy/bench/`.

    Args:
        home: the data home (datasets, bases and results are cached there).
        quick: the small settings (one seed, one order, fewer steps; minutes on 2 cores).
        strategies: names (combinations with "+"); default all of `ALL_STRATEGIES`.
        seeds, orders: override the settings' seeds and task orders ("A", "B"; the goal
            stream's "A" and "dev").
        workers: worker processes (each one torch thread).
        feedback: also run the correction experiment (family stream only).
        progress: callable(str) for progress lines.
        embedder: the sentence embedder (default: the packaged MiniLM); must pickle
            when workers > 1.
        overrides: settings replacing the preset's (n_train, n_test, n_valid, base_steps,
            steps, sim_episodes, feedback), e.g. for tiny test runs; n_valid (validation
            scenes per task) is n_test unless given.
        cluster: run the bases and cells as Ray tasks (`bench.continual_ray.RayCells`)
            instead of in the worker pool.
        stream: "families" (default) or "goals" (`agent.policy.goal_stream`).
        noise: shares of wrong correction labels (goal stream), one run each; the table
            is of the first, the noise study of all.
        tuned: each strategy with the hyperparameters `bench tune` chose (goal stream;
            a strategy not tuned in this home is refused).

    Returns:
        {"strategies": {name: {"acc", "bwt", "fwt", "forgetting", "auc", "seconds", ...}},
         "settings", "feedback", "noise_study", "table", "plots", "results", "seconds",
         "logdir": the run's TensorBoard directory, one subdirectory per run}
    """
    from agent.policy.plots import r_heatmaps, stream_curves

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    preset = {**preset_of(stream, quick), **(overrides or {})}
    names = tuple(strategies or ALL_STRATEGIES)
    for n in names:
        make_plugins(n)  # unknown names fail now, not in a worker
    seeds = tuple(seeds if seeds is not None else preset["seeds"])
    orders = tuple(orders if orders is not None else preset["orders"])
    noise = tuple(noise if noise is not None else preset.get("noise", (0.0,)))
    if stream == "families" and any(noise):
        raise AgentError(
            "wrong correction labels are a setting of the goal stream (--stream goals)"
        )
    if tuned and stream == "families":
        raise AgentError("tuned hyperparameters are a setting of the goal stream (--stream goals)")
    params = tuned_params(Path(home), names) if tuned else {}
    for n in names:
        make_plugins(n, params.get(n))
    configs = stream_configs(home, stream, preset, orders, seeds, threads)
    from agent.policy.curves import Curves

    curves = Curves.open(Path(home), "continual")  # one subdirectory per run, made by its writer
    logdir = str(curves.logdir)
    bases = prepare_bases(Path(home), configs, workers, threads, say, embedder, logdir, cluster)
    jobs = strategy_jobs(home, configs, bases, names, noise, params, threads, embedder, logdir)
    say(f"{len(jobs)} strategy runs on {workers} worker(s)")
    runs = run_jobs(jobs, workers, say, cluster)
    write_matrices(curves.logdir, runs)
    main = [r for r in runs if r.get("noise", 0.0) == noise[0]]
    summary = aggregate(main)
    out = bench_dir(Path(home))
    suffix = "" if stream == "families" else f"_{stream}"
    plots = []
    for o in orders:
        key = order_key(stream, o)
        families = list(orders_of(stream)[o])
        per_run = {
            n: [square(r["success"]) for r in main if r["strategy"] == n and r["order"] == key]
            for n in names
        }
        mats = {n: np.mean(m, axis=0) for n, m in per_run.items()}
        title = f"success R[i, j], order {o}"
        path = out / f"r_matrix{suffix}_{o}.png"
        plots.append(str(r_heatmaps(mats, families, path, title)))
        path = out / f"acc_curve{suffix}_{o}.png"
        title = f"accuracy over the stream, order {o} (mean of {len(seeds)} seed(s), range shaded)"
        plots.append(str(stream_curves(per_run, families, path, title)))
    fb = None
    if feedback and stream == "families":
        first_key = next(iter(configs))
        first = configs[first_key]
        task = FEEDBACK_TASK if first.families[0] != FEEDBACK_TASK else first.families[1]
        with Curves(curves.logdir / f"feedback-{task}") as fb_curves:
            fb = feedback_run(
                Path(home), first, bases[first_key], task, preset, threads, say, embedder, fb_curves
            )
        from agent.policy.plots import correction_curve

        plots.append(str(correction_curve([fb], out / "corrections.png")))
    first_cfg = next(iter(configs.values()))
    settings = {
        **{k: v for k, v in preset.items() if k != "feedback"},
        "stream": stream,
        "n_valid": first_cfg.n_test if first_cfg.n_valid is None else first_cfg.n_valid,
        "seeds": list(seeds),
        "orders": list(orders),
        "noise": list(noise),
        "families": list(first_cfg.families),
        "workers": workers,
        "threads": threads,
        "quick": quick,
        "params": {n: params.get(n, {}) for n in names},
        "tuned": tuned,
        "tuning": tuning_summary(Path(home), names) if tuned else None,
        "code": code_version(),
    }
    study = noise_study(runs) if len(noise) > 1 else None
    if stream == "goals":
        from agent.policy.geometry import ImageSpec
        from agent.policy.goal_stream import stream_facts

        settings["data"] = stream_facts(
            Path(home), replace(first_cfg, noise=max(noise)), ImageSpec()
        )
        text = goals_markdown(summary, settings, study)
    else:
        text = markdown(summary, settings, fb)
    table = out / f"results{suffix}.md"
    table.write_text(text)
    result = {
        "strategies": summary,
        "settings": settings,
        "feedback": fb,
        "noise_study": study,
        "table": str(table),
        "plots": plots,
        "seconds": time.perf_counter() - t0,
    }
    results = out / f"results{suffix}.json"
    results.write_text(json.dumps({**result, "runs": runs}, indent=1, default=str))
    result["results"] = str(results)
    result["logdir"] = logdir
    return result


def tuned_params(home: Path, names) -> dict[str, dict]:
    """Each strategy's hyperparameters chosen by `bench tune` in this home (refused unless
    every one was tuned with the same budget and sizes)."""
    from bench.tune import load_all

    return load_all(home, names)


def tuning_summary(home: Path, names) -> dict:
    """How the strategies were tuned: trials, sizes, dev order and seeds, search spaces."""
    from bench.tune import load_tuned, space_of

    recs = {n: load_tuned(home, n) for n in names}
    first = next(iter(recs.values()))
    return {
        "trials": first["trials"],
        "settings": first["settings"],
        "dev": first["dev"],
        "sampler": first["sampler"],
        "valid_acc": {n: [r["default_valid_acc"], r["best_valid_acc"]] for n, r in recs.items()},
        "spaces": {n: {k: list(v) for k, v in space_of(n).items()} for n in names},
    }


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
        noisy = f"-noise{r['noise']:g}" if r.get("noise") else ""
        with Curves(Path(logdir) / f"{r['strategy']}-{r['order']}-s{r['seed']}{noisy}") as c:
            for key in ("success", "pos_cm", "rot_deg"):
                for i, row in enumerate(r[key], skip):
                    for fam, v in zip(r["families"], row, strict=True):
                        c.scalar(f"{key}/{fam}", v, i)
            for i, row in enumerate(r["success"], skip):
                c.scalar("acc_seen", float(np.mean(row[: i + 1])), i)
