"""The runs of `bench continual` (`bench/continual.py`): bases, strategy runs, the correction run.

Every run is a job dict executed in a pool of spawned worker processes (one torch thread
each), or in this process with one worker. Bases and strategy results are cached in
`<home>/policy/bench/` under names that hold their settings and (for results) a hash of
the policy code a run executes, so an interrupted benchmark resumes where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path

from agent.policy.stream import StreamConfig


def bench_dir(home: Path) -> Path:
    d = Path(home) / "policy" / "bench"
    d.mkdir(parents=True, exist_ok=True)
    return d


def base_path(home: Path, cfg: StreamConfig, order: str, encoder: str) -> Path:
    o = cfg.optim
    tag = f"{order}-s{o.seed}-n{cfg.n_train}-b{cfg.base_steps}-bs{o.batch_size}-{encoder}"
    return bench_dir(home) / f"base-{tag}.pt"


def instruction_encoder(home: Path, embedder=None):
    """The instruction encoder of the runs (the packaged MiniLM by default)."""
    from agent.policy.train import encoder_for

    return encoder_for(home, embedder)


# Modules a strategy run does not execute: editing them keeps cached results valid.
NOT_IN_A_RUN = {
    "commands.py",
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


def result_path(args: dict) -> Path:
    """Where a strategy run's result is cached (its settings, base and code in the name)."""
    import hashlib

    key = json.dumps(
        {k: args[k] for k in ("strategy", "order", "base", "config", "code")}, sort_keys=True
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(args["base"]).parent / "runs" / f"{args['strategy']}-{args['order']}-{digest}.json"


def run_curves(args: dict, name: str):
    """A `Curves` for one run under the benchmark's TensorBoard directory (args["logdir"],
    not part of a result's cache key), or None without one."""
    from agent.policy.curves import Curves

    return Curves(Path(args["logdir"]) / name) if args.get("logdir") else None


def job(args: dict) -> dict:
    """One strategy through one (order, seed) stream; runs in a worker process.

    Its result is cached next to the bases, so an interrupted benchmark resumes where it
    stopped (a cached run writes no loss curve).
    """
    cached = result_path(args)
    if cached.exists():
        return json.loads(cached.read_text())
    out = strategy_run(args)
    write_result(cached, out)
    return out


def write_result(path: Path, out: dict) -> None:
    """Cache a strategy run's result (atomically: a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(path)


def strategy_run(args: dict, base=None) -> dict:
    """One strategy through one (order, seed) stream, from the base at args["base"] (or
    `base`, a file object of its bytes); writes nothing but its loss curve."""
    import torch

    from agent.policy.geometry import ImageSpec
    from agent.policy.stream import load_stream, run_strategy

    torch.set_num_threads(args["threads"])
    cfg = StreamConfig.from_dict(args["config"])
    spec = ImageSpec()
    enc = instruction_encoder(Path(args["home"]), args.get("embedder"))
    data = load_stream(Path(args["home"]), cfg, spec, enc)
    base = torch.load(base if base is not None else args["base"], weights_only=True)
    curves = run_curves(args, f"{args['strategy']}-{args['order']}-s{cfg.optim.seed}")
    res = run_strategy(
        args["strategy"], cfg, data, spec, enc, base["state"], base["baseline"], curves=curves
    )
    if curves is not None:
        curves.close()
    return {**res.to_dict(), "order": args["order"], "seed": cfg.optim.seed}


def base_job(args: dict) -> dict:
    """Train and save the shared base of one (order, seed); runs in a worker process."""
    import torch

    base = train_base_state(args)
    path = Path(args["base"])
    tmp = path.with_suffix(".tmp")
    torch.save(base, tmp)
    tmp.replace(path)
    return {"label": base_label(args)}


def base_label(args: dict) -> str:
    return f"the base of order {args['order']}, seed {args['config']['optim']['seed']}"


def train_base_state(args: dict) -> dict:
    """The shared base of one (order, seed): {"state": its weights, "baseline": the
    untrained scores}; writes nothing but its loss curve."""
    import torch

    from agent.policy.geometry import ImageSpec
    from agent.policy.stream import load_stream, train_base

    torch.set_num_threads(args["threads"])
    cfg = StreamConfig.from_dict(args["config"])
    spec, enc = ImageSpec(), instruction_encoder(Path(args["home"]), args.get("embedder"))
    curves = run_curves(args, f"base-{args['order']}-s{cfg.optim.seed}")
    stream = load_stream(Path(args["home"]), cfg, spec, enc)
    model, baseline = train_base(cfg, stream, spec, enc, curves)
    if curves is not None:
        curves.close()
    return {"state": model.state_dict(), "baseline": baseline}


def prepare_bases(
    home: Path,
    configs: dict,
    workers: int,
    threads: int,
    progress,
    embedder=None,
    logdir=None,
    cluster=None,
) -> dict:
    """Demonstrations, embeddings and the shared base of every (order, seed).

    The demonstrations are rendered once here (every order uses the same families);
    the bases missing from the cache are then trained in the worker pool, or as tasks on
    `cluster` (`bench.continual_ray.RayCells`), which hands them back to be saved here.
    """
    from agent.policy.geometry import ImageSpec
    from agent.policy.stream import load_stream

    spec, enc = ImageSpec(), instruction_encoder(home, embedder)
    paths, todo = {}, []
    for key, cfg in configs.items():
        paths[key] = base_path(home, cfg, key[0], enc.name)
        if not paths[key].exists():
            todo.append(
                {
                    "order": key[0],
                    "home": str(home),
                    "base": str(paths[key]),
                    "threads": threads,
                    "config": cfg.to_dict(),
                    "embedder": embedder,
                    "logdir": logdir,
                }
            )
    if todo:
        progress("rendering demonstrations (cached in the data home)")
        load_stream(home, next(iter(configs.values())), spec, enc)
        if cluster is not None:
            progress(f"training {len(todo)} base model(s) on {cluster.describe()}")
            cluster.train_bases(todo, progress)
        else:
            progress(f"training {len(todo)} base model(s) on {workers} worker(s)")
            pool_map(base_job, todo, workers, progress, verb="trained")
    return paths


def run_jobs(jobs: list[dict], workers: int, say, cluster=None) -> list[dict]:
    """Every strategy run of `jobs` (cached ones are read back), in job order: in the
    worker pool, or as tasks on `cluster` (`bench.continual_ray.RayCells`; the results are
    read from and cached by this process, so a worker needs no shared disk for them)."""
    for j in jobs:
        j["label"] = f"{j['strategy']} (order {j['order']}, seed {j['config']['optim']['seed']})"
    if cluster is not None:
        return cluster.run(jobs, say)
    return pool_map(job, jobs, workers, say)


def pool_map(fn, jobs: list[dict], workers: int, say, verb: str = "done") -> list:
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


def feedback_run(
    home: Path,
    cfg: StreamConfig,
    base: Path,
    task: str,
    preset: dict,
    threads: int,
    say,
    embedder=None,
    curves=None,
) -> dict:
    """Teach the shared base `task` (one it was not trained on) with the simulated expert
    (its loss and rounds to `curves`, a `curves.Curves`, when given)."""
    import tempfile

    import torch

    from agent.policy.corrections import CorrectionStore
    from agent.policy.feedback import FeedbackConfig, SimulatedExpert, run_feedback
    from agent.policy.geometry import ImageSpec
    from agent.policy.policy import Policy
    from agent.policy.settings import Optim
    from agent.policy.stream import load_stream, new_model

    spec, enc = ImageSpec(), instruction_encoder(home, embedder)
    data = load_stream(home, cfg, spec, enc)
    model = new_model(cfg.optim.seed)
    model.load_state_dict(torch.load(base, weights_only=True)["state"])
    policy = Policy(model, spec, enc, threads=max(threads, 1))
    fb = preset["feedback"]
    fc = FeedbackConfig(
        task,
        fb["rounds"],
        fb["attempts"],
        fb["eval_episodes"],
        fb["steps"],
        "replay",
        optim=Optim(threads=max(threads, 1)),
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
            curves=curves,
        )
