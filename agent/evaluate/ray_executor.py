"""Evaluation episodes on Ray: the Evaluator's `Executor` for a cluster (optional extra)."""

from __future__ import annotations

from agent.evaluate.evaluator import Job
from skills.errors import SkillError


class RayExecutor:
    """Episodes as Ray tasks, each running in a sandbox worker on whichever node Ray picks.

    Needs the optional `ray` extra (`pip install skillgrove[ray]`) and a cluster address
    (or a local Ray started on demand).
    """

    def __init__(self, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise SkillError(
                "the Ray executor needs the 'ray' package (pip install 'skillgrove[ray]')"
            ) from None
        if not ray.is_initialized():
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        self._ray = ray
        self._remote = ray.remote(_ray_episode)
        # how many episodes run at once: the Evaluator's batch width
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))

    def run_many(self, jobs: list[Job]) -> list:
        return self._ray.get([self._remote.remote(j) for j in jobs])

    def close(self) -> None:
        pass


def _ray_episode(job: Job):
    from skills.sandbox import run_skill

    return run_skill(
        job.code,
        job.entry,
        job.family,
        job.seed,
        job.params,
        job.timeout,
        scene=job.scene,
        goal=job.goal,
    )
