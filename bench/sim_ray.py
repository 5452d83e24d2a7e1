"""`skillgrove bench sim --executor ray`: the same figures, every episode on a Ray cluster.

A pool of Ray actors (`WorldActor`), one CPU each, each holding one warm `World`. The
physics split (`overhead_ratio`, `idle_ratio`) is measured inside one actor, as
`bench.sim.measure_overhead` does in one process; the throughput runs the same oracle
jobs on one actor, then spread over every actor (`parallel_workers`, by default every CPU
of the cluster), each warmed before timing. `parallel_speedup` is the second ÷ the first.
"""

from __future__ import annotations

import contextlib
import time

from agent.errors import AgentError
from sim.families import FAMILIES
from skills.errors import SkillError


class WorldActor:
    """One warm PyBullet `World`, running oracle episodes one at a time."""

    def __init__(self) -> None:
        from sim.world import World

        self.world = World()

    def episode(self, family: str, seed: int) -> bool:
        from sim.runner import run_oracle

        return run_oracle(self.world, family, seed).success

    def overhead(self, episodes_per_family: int, families: tuple[str, ...]) -> dict:
        from bench.sim import measure_overhead

        return measure_overhead(episodes_per_family, families=families)

    def close(self) -> None:
        self.world.close()


def _throughput(ray, actors: list, jobs: list[tuple[str, int]]) -> float:
    """Episodes per second of `jobs` over `actors`, each taking the next job when idle."""
    ray.get([a.episode.remote("pick", 0) for a in actors])  # warm every actor
    t0 = time.perf_counter()
    todo, running, idle = list(jobs), {}, list(actors)
    while todo or running:
        while todo and idle:
            a = idle.pop()
            running[a.episode.remote(*todo.pop(0))] = a
        done, _ = ray.wait(list(running), num_returns=1)
        for ref in done:
            ray.get(ref)
            idle.append(running.pop(ref))
    return len(jobs) / (time.perf_counter() - t0)


def run_sim_bench_ray(
    episodes_per_family: int = 2,
    address: str | None = None,
    workers: int | None = None,
    seed: int = 2000,
) -> dict:
    """`bench sim`'s figures with its episodes on the Ray cluster at `address`.

    Raises:
        AgentError: no `ray`, no cluster there, or more workers than its CPUs (one line).
    """
    from agent.evaluate.ray_executor import cluster_workers, connect

    try:
        ray = connect(address)
        n = cluster_workers(ray, workers, "each World actor takes one")
    except SkillError as exc:
        raise AgentError(str(exc)) from None
    cls = ray.remote(num_cpus=1)(WorldActor)
    actors = [cls.remote() for _ in range(n)]
    try:
        out = {"executor": "ray", "cpus": int(ray.cluster_resources().get("CPU", 0))}
        families = tuple(FAMILIES)  # read here: the actors run what this process names
        out.update(ray.get(actors[0].overhead.remote(episodes_per_family, families)))
        jobs = [(fam, seed + i) for i in range(episodes_per_family) for fam in families]
        one = _throughput(ray, actors[:1], jobs)
        many = _throughput(ray, actors, jobs)
    finally:
        with contextlib.suppress(Exception):  # a dead actor has no World to close
            ray.get([a.close.remote() for a in actors], timeout=30)
        for a in actors:
            ray.kill(a)
    out.update(
        {
            "parallel_speedup": many / one,
            "episodes_per_s_1": one,
            "episodes_per_s_parallel": many,
            "parallel_workers": n,
            "parallel_episodes": len(jobs),
        }
    )
    return out
