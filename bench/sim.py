"""`skillgrove bench sim`: how much of an oracle episode is physics, and how it scales.

overhead_ratio: wall time spent inside `stepSimulation` loops during the oracle episodes
÷ the episodes' total wall time (rendering off). Everything else (IK, contact queries,
scene building, Python) is overhead; 1.0 would be none. Measured in the same run as
`idle_ratio`: the same number of raw `stepSimulation` calls on the final scene at rest
÷ the same episode time (a floor: resting bodies are cheaper to step than moving ones).

parallel_speedup: oracle episodes per second with 2 worker processes ÷ with 1, each
worker with its own World, started and warmed before timing.
"""

from __future__ import annotations

import multiprocessing as mp
import time

from sim.families import FAMILIES

_WORLD = None


def _init_worker() -> None:
    global _WORLD
    from sim.world import World

    _WORLD = World()


def _episode(job: tuple[str, int]) -> bool:
    from sim.runner import run_oracle

    return run_oracle(_WORLD, job[0], job[1]).success


def measure_overhead(
    episodes_per_family: int = 2, seed: int = 1000, families: tuple[str, ...] | None = None
) -> dict:
    """Run oracle episodes in one World (of every family, or of `families`) and split
    their time into physics and the rest."""
    from sim.runner import run_oracle
    from sim.world import World

    world = World()
    try:
        run_oracle(world, "pick", seed)  # warm caches (shapes, code paths)
        t0, s0, p0 = time.perf_counter(), world.steps, world.physics_seconds
        successes, n = 0, 0
        for fam in families or FAMILIES:
            for i in range(episodes_per_family):
                successes += run_oracle(world, fam, seed + i).success
                n += 1
        total = time.perf_counter() - t0
        steps, physics = world.steps - s0, world.physics_seconds - p0
        step = world.client.stepSimulation
        t1 = time.perf_counter()
        for _ in range(steps):
            step()
        idle = time.perf_counter() - t1
    finally:
        world.close()
    return {
        "overhead_ratio": physics / total,
        "idle_ratio": idle / total,
        "episodes": n,
        "oracle_success_rate": successes / n,
        "steps": steps,
        "episode_seconds": total,
        "physics_seconds": physics,
        "steps_per_second": steps / total,
    }


def _throughput(workers: int, jobs: list[tuple[str, int]]) -> float:
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker) as pool:
        pool.map(_episode, [("pick", 0)] * workers, chunksize=1)  # warm every worker
        t0 = time.perf_counter()
        pool.map(_episode, jobs, chunksize=1)
        return len(jobs) / (time.perf_counter() - t0)


def measure_parallel(episodes_per_family: int = 2, seed: int = 2000) -> dict:
    """Episodes per second with 1 and with 2 worker processes over the same jobs."""
    jobs = [(fam, seed + i) for i in range(episodes_per_family) for fam in FAMILIES]
    one = _throughput(1, jobs)
    two = _throughput(2, jobs)
    return {
        "parallel_speedup": two / one,
        "episodes_per_s_1": one,
        "episodes_per_s_2": two,
        "parallel_episodes": len(jobs),
    }


def run_sim_bench(episodes_per_family: int = 2) -> dict:
    """Both measurements, in one run."""
    out = {"cpus": mp.cpu_count()}
    out.update(measure_overhead(episodes_per_family))
    out.update(measure_parallel(episodes_per_family))
    return out
