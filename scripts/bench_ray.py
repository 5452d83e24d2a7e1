"""Ray on a loopback cluster: evaluation speedup and overhead, `bench continual` through Ray.

Starts its own 2-CPU Ray head on 127.0.0.1 (as the tests do, `tests/ray_cluster.py`),
stops it by its PIDs at the end, and prints one JSON object:

- "evaluation": 200 episodes of the seed skill `place_on` (fixed evaluation seeds, pass
  bar 1.0 so that the Evaluator runs every episode unless one fails) through the
  Evaluator, on the local pool with 1 and 2 sandbox workers and on the RayExecutor with 1
  and 2 actors, every executor started and warmed before timing. speedup: Ray 2 actors
  vs Ray 1 actor (and vs the local pool's 1 worker); overhead: Ray's seconds per episode
  over the local pool's at the same width, in ms.
- "continual": `skillgrove bench continual --quick --json` on two copies of one home
  holding the rendered demonstrations (no bases, no results): local (--workers 2) and
  `--executor ray --ray-address <the cluster>`; wall times, whether every figure other
  than wall times and process memory (`continual_report.MEASURED`) is identical, and the
  first places where they differ. With `--out DIR` both runs' JSON (their figures and
  every run) are kept there.

The head is started with RAY_worker_niceness=0 (Ray's default is 15), so that Ray's workers
and the local pool's compete alike with whatever else runs on the machine.

Usage: .venv/bin/python scripts/bench_ray.py [--episodes 200] [--skip-continual]
       [--skip-evaluation] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Ray runs its workers at nice 15 by default; on a machine shared with other jobs that alone
# makes them slower than the local pool's (nice 0) workers. The comparison runs both at 0.
NICE = {"RAY_worker_niceness": "0"}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def evaluate(executor, episodes: int) -> dict:
    from agent.evaluate.evaluator import EVAL_SEED_BASE, Evaluator, Job

    code = (ROOT / "skills" / "seed" / "place_on.py").read_text()
    seeds = [EVAL_SEED_BASE + 7 * i for i in range(episodes)]
    warm = [Job(code, "place_on", "place", s, None, 60.0) for s in seeds[: executor.workers]]
    executor.run_many(warm)  # every worker warm before timing
    jobs = [Job(code, "place_on", "place", s, None, 60.0) for s in seeds]
    ev = Evaluator(executor, episodes=episodes, pass_bar=1.0)
    t0 = time.perf_counter()
    verdict = ev.evaluate_jobs(code, "place_on", "place", jobs)
    wall = time.perf_counter() - t0
    n = len(verdict.episodes)
    return {
        "workers": executor.workers,
        "episodes": n,
        "successes": sum(e.success for e in verdict.episodes),
        "wall_s": round(wall, 2),
        "s_per_episode": wall / n,
        "load": load(),
    }


def measure_evaluation(address: str, episodes: int) -> dict:
    from agent.evaluate.evaluator import LocalExecutor
    from agent.evaluate.ray_executor import RayExecutor

    out = {}
    for name, make in (
        ("local_1", lambda: LocalExecutor(1)),
        ("ray_1", lambda: RayExecutor(address, workers=1)),
        ("local_2", lambda: LocalExecutor(2)),
        ("ray_2", lambda: RayExecutor(address, workers=2)),
    ):
        ex = make()
        try:
            out[name] = evaluate(ex, episodes)
        finally:
            ex.close()
        print(name, out[name], file=sys.stderr, flush=True)
    per = {k: v["s_per_episode"] for k, v in out.items()}
    out["speedup_ray_2_vs_ray_1"] = round(per["ray_1"] / per["ray_2"], 3)
    out["speedup_ray_2_vs_local_1"] = round(per["local_1"] / per["ray_2"], 3)
    out["speedup_local_2_vs_local_1"] = round(per["local_1"] / per["local_2"], 3)
    out["ray_overhead_ms_per_episode_1_worker"] = round(1000 * (per["ray_1"] - per["local_1"]), 1)
    # at width 2 two episodes share the wall time: the overhead one episode's worker pays
    out["ray_overhead_ms_per_episode_2_workers"] = round(2000 * (per["ray_2"] - per["local_2"]), 1)
    return out


def render_demos(home: Path) -> None:
    """The quick preset's demonstrations and instruction embeddings, cached in `home`."""
    from agent.policy.geometry import ImageSpec
    from agent.policy.stream import ORDERS, StreamConfig, load_stream
    from bench.continual import QUICK
    from bench.continual_runs import instruction_encoder

    cfg = StreamConfig(families=ORDERS["A"], n_train=QUICK["n_train"], n_test=QUICK["n_test"])
    load_stream(home, cfg, ImageSpec(), instruction_encoder(home))


def bench_continual(home: Path, extra: list[str]) -> tuple[float, dict]:
    cmd = [str(ROOT / ".venv" / "bin" / "skillgrove"), "--home", str(home), "bench"]
    cmd += ["continual", "--quick", "--json", *extra]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    res = json.loads(done.stdout)
    return wall, {**res, "runs": json.loads(Path(res["results"]).read_text())["runs"]}


def differences(a, b, where: str = "") -> list[str]:
    """Where `a` and `b` differ (JSON paths), leaving out wall times and process memory."""
    from bench.continual_report import MEASURED

    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted((set(a) | set(b)) - MEASURED)
        return [d for k in keys for d in differences(a.get(k), b.get(k), f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{where}[{i}]")
        ]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"[:200]]


def measure_continual(address: str, work: Path, keep: Path | None) -> dict:
    base = work / "home"
    t0 = time.perf_counter()
    render_demos(base)
    render_s = time.perf_counter() - t0
    homes = {k: work / k for k in ("local", "ray")}
    for h in homes.values():
        shutil.copytree(base, h)
    out = {"render_s": round(render_s, 1)}
    runs = {}
    for name, extra in (
        ("local", ["--workers", "2"]),
        ("ray", ["--executor", "ray", "--ray-address", address]),
    ):
        before = load()
        wall, runs[name] = bench_continual(homes[name], extra)
        out[name] = {"wall_s": round(wall, 1), "load_before": before, "load_after": load()}
        print(name, out[name], file=sys.stderr, flush=True)
    keys = ("strategies", "feedback", "runs")
    diff = {k: differences(runs["local"][k], runs["ray"][k], k) for k in keys}
    out["identical"] = {k: not d for k, d in diff.items()}
    out["differences"] = {k: d[:10] for k, d in diff.items() if d}
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        for name, res in runs.items():
            (keep / f"continual_quick_{name}.json").write_text(json.dumps(res, indent=1))
    out["acc"] = {n: s["acc"] for n, s in runs["local"]["strategies"].items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--skip-continual", action="store_true")
    ap.add_argument("--skip-evaluation", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="Keep both continual runs' JSON here.")
    args = ap.parse_args()
    from tests.ray_cluster import loopback_cluster

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    result: dict = {"cpus_here": os.cpu_count(), "load_start": load(), "ray_env": NICE}
    with (
        tempfile.TemporaryDirectory(prefix="sgbenchray-") as tmp,
        loopback_cluster(2, NICE) as address,
    ):
        import ray

        ray.init(address=address, log_to_driver=False, configure_logging=False)
        try:
            result["cluster_cpus"] = int(ray.cluster_resources().get("CPU", 0))
            if not args.skip_evaluation:
                result["evaluation"] = measure_evaluation(address, args.episodes)
            if not args.skip_continual:
                result["continual"] = measure_continual(address, Path(tmp), args.out)
        finally:
            ray.shutdown()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
