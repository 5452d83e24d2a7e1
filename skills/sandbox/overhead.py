"""The sandbox's per-run cost above the episode itself (`skillgrove bench sandbox`)."""

from __future__ import annotations

import time

from skills.errors import SkillError
from skills.sandbox.pool import SandboxPool

TRIVIAL_SKILL = '''
def count_objects(robot, **params):
    """Look at the scene and do nothing else."""
    return len(robot.objects())
'''


def measure_overhead(n: int = 20, family: str = "pick", seed: int = 0) -> dict:
    """Per-run cost of the sandbox above the episode itself.

    Runs a trivial skill `n` times in a warm worker and `n` times directly in this
    process (same scene build, same Robot, same success check) and compares medians.

    Returns:
        {"runs", "family", "direct_ms", "sandbox_ms", "overhead_ms", "overhead_p90_ms",
         "layers"}: median milliseconds per run, and the isolation layers in force.
    """
    from sim.runner import reset_task
    from sim.world import World
    from skills.robot import Robot

    def median(xs: list[float]) -> float:
        xs = sorted(xs)
        return xs[len(xs) // 2]

    world = World()
    try:
        direct = []
        compiled = compile(TRIVIAL_SKILL, "<skill>", "exec")
        for i in range(n + 1):
            t = time.perf_counter()
            task = reset_task(world, family, seed)
            ns: dict = {}
            exec(compiled, ns)  # noqa: S102 - trusted constant code, the in-process baseline
            ns["count_objects"](Robot(world, seed=seed), **task.params)
            task.is_success()
            if i:  # the first run warms caches
                direct.append(time.perf_counter() - t)
    finally:
        world.close()
    boxed, layers = [], ()
    with SandboxPool(workers=1) as pool:
        for i in range(n + 1):
            r = pool.run(TRIVIAL_SKILL, "count_objects", family, seed)
            if r.status != "ok":
                raise SkillError(f"sandbox overhead run failed: {r.reason}")
            layers = r.layers
            if i:
                boxed.append(r.seconds)
    extra = sorted(b - d for b, d in zip(sorted(boxed), sorted(direct), strict=True))
    return {
        "runs": n,
        "family": family,
        "direct_ms": round(1000 * median(direct), 2),
        "sandbox_ms": round(1000 * median(boxed), 2),
        "overhead_ms": round(1000 * (median(boxed) - median(direct)), 2),
        "overhead_p90_ms": round(1000 * extra[int(0.9 * (len(extra) - 1))], 2),
        "layers": list(layers),
    }
