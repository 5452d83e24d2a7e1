"""`skillgrove bench continual`: every strategy through the task stream, side by side.

For each (task order, seed) the base (first experience) is trained once and shared;
each strategy then fine-tunes through the other experiences (`stream.run_strategy`),
in a pool of worker processes (one torch thread each). The R matrices of success, position
error and yaw error give ACC, BWT, FWT, forgetting and AUC (`metrics`), averaged over
orders and seeds. The final policies are also executed in the simulator on a few
held-out scenes per task (how far the pose-tolerance proxy agrees with real success).
A correction run (simulated expert, `feedback`) teaches the base a new task.
Everything goes to `<home>/policy/bench/`: results.json, results.md, and the plots.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.strategies import STRATEGIES
from agent.policy.stream import ORDERS, StreamConfig

# every registered strategy, then the combination the issue names
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


def _bench_dir(home: Path) -> Path:
    d = Path(home) / "policy" / "bench"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _base_path(home: Path, cfg: StreamConfig, order: str, encoder: str) -> Path:
    tag = f"{order}-s{cfg.seed}-n{cfg.n_train}-b{cfg.base_steps}-bs{cfg.batch_size}-{encoder}"
    return _bench_dir(home) / f"base-{tag}.pt"


def _encoder(home: Path, embedder=None):
    from agent.policy.train import encoder_for

    return encoder_for(home, embedder)


# Modules a strategy run does not execute: editing them keeps cached results valid.
NOT_IN_A_RUN = {
    "bench.py",
    "plots.py",
    "human.py",
    "queue.py",
    "draw.py",
    "session.py",
    "finetune.py",
    "provider.py",
    "robot_eval.py",
    "corrections.py",
}


def code_version() -> str:
    """A hash of the source a strategy run executes: cached results of other code are not reused."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted((Path(__file__).resolve().parents[1] / "agent" / "policy").rglob("*.py")):
        if f.name not in NOT_IN_A_RUN:
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _result_path(args: dict) -> Path:
    """Where a strategy run's result is cached (its settings, base and code in the name)."""
    import hashlib

    key = json.dumps(
        {k: args[k] for k in ("strategy", "order", "base", "config", "code")}, sort_keys=True
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(args["base"]).parent / "runs" / f"{args['strategy']}-{args['order']}-{digest}.json"


def _job(args: dict) -> dict:
    """One strategy through one (order, seed) stream; runs in a worker process.

    Its result is cached next to the bases, so an interrupted benchmark resumes where it
    stopped.
    """
    cached = _result_path(args)
    if cached.exists():
        return json.loads(cached.read_text())
    import torch

    from agent.policy.geometry import ImageSpec
    from agent.policy.stream import load_stream, run_strategy

    torch.set_num_threads(args["threads"])
    cfg = StreamConfig(**{**args["config"], "families": tuple(args["config"]["families"])})
    spec = ImageSpec()
    enc = _encoder(Path(args["home"]), args.get("embedder"))
    data = load_stream(Path(args["home"]), cfg, spec, enc)
    base = torch.load(args["base"], weights_only=True)
    res = run_strategy(args["strategy"], cfg, data, spec, enc, base["state"], base["baseline"])
    out = {**res.to_dict(), "order": args["order"], "seed": cfg.seed}
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(cached)
    return out


def _base_job(args: dict) -> dict:
    """Train and save the shared base of one (order, seed); runs in a worker process."""
    import torch

    from agent.policy.geometry import ImageSpec
    from agent.policy.stream import load_stream, train_base

    torch.set_num_threads(args["threads"])
    cfg = StreamConfig(**{**args["config"], "families": tuple(args["config"]["families"])})
    spec, enc = ImageSpec(), _encoder(Path(args["home"]), args.get("embedder"))
    model, baseline = train_base(cfg, load_stream(Path(args["home"]), cfg, spec, enc), spec, enc)
    path = Path(args["base"])
    tmp = path.with_suffix(".tmp")
    torch.save({"state": model.state_dict(), "baseline": baseline}, tmp)
    tmp.replace(path)
    return {"label": f"the base of order {args['order']}, seed {cfg.seed}"}


def _prepare_bases(
    home: Path, configs: dict, workers: int, threads: int, progress, embedder=None
) -> dict:
    """Demonstrations, embeddings and the shared base of every (order, seed).

    The demonstrations are rendered once here (every order uses the same families);
    the bases missing from the cache are then trained in the worker pool.
    """
    from agent.policy.geometry import ImageSpec
    from agent.policy.stream import load_stream

    spec, enc = ImageSpec(), _encoder(home, embedder)
    paths, todo = {}, []
    for key, cfg in configs.items():
        paths[key] = _base_path(home, cfg, key[0], enc.name)
        if not paths[key].exists():
            todo.append(
                {
                    "order": key[0],
                    "home": str(home),
                    "base": str(paths[key]),
                    "threads": threads,
                    "config": cfg.to_dict(),
                    "embedder": embedder,
                }
            )
    if todo:
        progress("rendering demonstrations (cached in the data home)")
        load_stream(home, next(iter(configs.values())), spec, enc)
        progress(f"training {len(todo)} base model(s) on {workers} worker(s)")
        _pool_map(_base_job, todo, workers, progress, verb="trained")
    return paths


def _aggregate(runs: list[dict]) -> dict:
    """Metrics of each run, then mean (and std) over the runs of a strategy."""
    from agent.policy.metrics import summarize

    per: dict[str, list[dict]] = {}
    for r in runs:
        m = summarize(r["success"], r["baseline"]["success"])
        pos = summarize(r["pos_cm"], r["baseline"]["pos_cm"], higher_is_better=False)
        rot = summarize(r["rot_deg"], r["baseline"]["rot_deg"], higher_is_better=False)
        row = {
            **m,
            "seconds": r["seconds"],
            "pos": pos,
            "rot": rot,
            "trainable_params": r["trainable_params"],
            "buffer_size": r["buffer_size"],
            "max_round_seconds": max(r["train_seconds"] or [0.0]),
            "sim_acc": r["sim"].get("acc"),
            "proxy_agreement": r["sim"].get("proxy_agreement"),
        }
        per.setdefault(r["strategy"], []).append(row)
    out = {}
    for name, rows in per.items():
        agg = {}
        for k in (
            "acc",
            "bwt",
            "fwt",
            "forgetting",
            "auc",
            "seconds",
            "max_round_seconds",
            "sim_acc",
            "proxy_agreement",
        ):
            vals = [x[k] for x in rows if x[k] is not None]
            agg[k] = float(np.mean(vals)) if vals else None
            if k in ("acc", "bwt") and vals:
                agg[f"{k}_std"] = float(np.std(vals))
        for k in ("pos", "rot"):
            agg[f"{k}_" + ("cm" if k == "pos" else "deg")] = {
                m: float(np.mean([x[k][m] for x in rows]))
                for m in ("acc", "bwt", "fwt", "forgetting", "auc")
            }
        agg["trainable_params"] = int(max(x["trainable_params"] for x in rows))
        agg["buffer_size"] = int(max(x["buffer_size"] for x in rows))
        agg["runs"] = len(rows)
        out[name] = agg
    return out


def _markdown(strategies: dict, settings: dict, feedback: dict | None) -> str:
    head = (
        "| strategy | ACC | BWT | FWT | forgetting | AUC | pos err ACC (cm) | yaw err ACC (deg) | sim ACC | "
        "trainable params | buffer | seconds |"
    )
    lines = [
        "# Continual learning of the pose policy",
        "",
        f"Stream: {' -> '.join(settings['families'])} (order A; order B reversed). Orders {settings['orders']}, "
        f"seeds {settings['seeds']}; {settings['n_train']} demonstrations per task, base {settings['base_steps']} "
        f"steps, {settings['steps']} steps per later experience. Success: pose-tolerance proxy on "
        f"{settings['n_test']} held-out scenes per task; sim ACC: the final policy executed in the simulator on "
        f"{settings['sim_episodes']} scenes per task.",
        "",
        head,
        "|" + "---|" * 12,
    ]
    f = lambda v, d=2: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    for name, s in strategies.items():
        lines.append(
            f"| {name} | {f(s['acc'])} | {f(s['bwt'])} | {f(s['fwt'])} | {f(s['forgetting'])} | {f(s['auc'])} | "
            f"{f(s['pos_cm']['acc'])} | {f(s['rot_deg']['acc'], 1)} | {f(s['sim_acc'])} | {s['trainable_params']} | "
            f"{s['buffer_size']} | {f(s['seconds'], 0)} |"
        )
    if feedback:
        lines += [
            "",
            f"Corrections ({feedback['family']}, {feedback['strategy']}, expert {feedback['expert']}): "
            f"success {feedback['start_success']:.2f} before, "
            + ", ".join(
                f"{r['success']:.2f} after {r['corrections']} corrections"
                + (f" and {r['successes_kept']} kept successes" if r.get("successes_kept") else "")
                + f" (round {r['round']})"
                for r in feedback["rounds"]
            ),
        ]
    return "\n".join(lines) + "\n"


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
        overrides: settings replacing the preset's (n_train, n_test, base_steps, steps,
            sim_episodes, feedback), e.g. for tiny test runs.

    Returns:
        {"strategies": {name: {"acc", "bwt", "fwt", "forgetting", "auc", "seconds", ...}},
         "settings", "feedback", "table", "plots", "results", "seconds"}
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
        base_steps=preset["base_steps"],
        steps=preset["steps"],
        threads=threads,
        sim_episodes=preset["sim_episodes"],
    )
    configs = {(o, s): replace(base_cfg, families=ORDERS[o], seed=s) for o in orders for s in seeds}
    bases = _prepare_bases(Path(home), configs, workers, threads, say, embedder)
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
        }
        for (o, s) in configs
        for n in names
    ]
    say(f"{len(jobs)} strategy runs on {workers} worker(s)")
    runs = _run_jobs(jobs, workers, say)
    summary = _aggregate(runs)
    out = _bench_dir(Path(home))
    plots = []
    for o in orders:
        mats = {
            n: np.mean(
                [r["success"] for r in runs if r["strategy"] == n and r["order"] == o], axis=0
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
        fb = _feedback_run(
            Path(home),
            configs[(orders[0], seeds[0])],
            bases[(orders[0], seeds[0])],
            preset,
            threads,
            say,
            embedder,
        )
        from agent.policy.plots import correction_curve

        plots.append(str(correction_curve([fb], out / "corrections.png")))
    settings = {
        **{k: v for k, v in preset.items() if k != "feedback"},
        "seeds": list(seeds),
        "orders": list(orders),
        "families": list(ORDERS[orders[0]]),
        "workers": workers,
        "threads": threads,
        "quick": quick,
    }
    table = out / "results.md"
    table.write_text(_markdown(summary, settings, fb))
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
    return result


def _run_jobs(jobs: list[dict], workers: int, say) -> list[dict]:
    for j in jobs:
        j["label"] = f"{j['strategy']} (order {j['order']}, seed {j['config']['seed']})"
    return _pool_map(_job, jobs, workers, say)


def _pool_map(fn, jobs: list[dict], workers: int, say, verb: str = "done") -> list:
    """`fn` over `jobs` in `workers` spawned processes (in this one if 1), results in job order."""
    if workers <= 1 or len(jobs) <= 1:
        out = []
        for j in jobs:
            out.append(fn(j))
            say(f"{verb} {j.get('label') or out[-1].get('label')}")
        return out
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    out: list = [None] * len(jobs)
    with ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)), mp_context=mp.get_context("spawn")
    ) as pool:
        futures = {pool.submit(fn, j): i for i, j in enumerate(jobs)}
        for fut in as_completed(futures):
            i = futures[fut]
            out[i] = fut.result()
            say(f"{verb} {jobs[i].get('label') or out[i].get('label')}")
    return out


def _feedback_run(
    home: Path, cfg: StreamConfig, base_path: Path, preset: dict, threads: int, say, embedder=None
) -> dict:
    """Teach the shared base a new task with the simulated expert's corrections."""
    import tempfile

    import torch

    from agent.policy.corrections import CorrectionStore
    from agent.policy.feedback import FeedbackConfig, SimulatedExpert, run_feedback
    from agent.policy.geometry import ImageSpec
    from agent.policy.policy import Policy
    from agent.policy.stream import load_stream, new_model

    spec, enc = ImageSpec(), _encoder(home, embedder)
    data = load_stream(home, cfg, spec, enc)
    model = new_model(cfg.seed)
    model.load_state_dict(torch.load(base_path, weights_only=True)["state"])
    policy = Policy(model, spec, enc, threads=max(threads, 1))
    task = FEEDBACK_TASK if cfg.families[0] != FEEDBACK_TASK else cfg.families[1]
    fb = preset["feedback"]
    fc = FeedbackConfig(
        task,
        fb["rounds"],
        fb["attempts"],
        fb["eval_episodes"],
        fb["steps"],
        "replay",
        threads=max(threads, 1),
    )
    say(f"correction run: base learns {task} from the simulated expert")
    with tempfile.TemporaryDirectory() as tmp:  # bench corrections do not mix with a user's
        store = CorrectionStore(Path(tmp) / "corrections.sqlite")
        return run_feedback(
            policy,
            store,
            fc,
            SimulatedExpert(),
            data.train[0],
            {cfg.families[0]: data.test[0]},
            progress=say,
        )
