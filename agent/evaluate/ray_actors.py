"""The Ray actor that runs evaluation episodes: one warm sandbox worker, held across jobs.

The actor is a plain Ray worker process; it is not the sandbox. It holds a
`SandboxPool(workers=1)` built with the requested pose provider, so each episode runs in
the same locked-down worker process tree as with the local executor (validation, the
worker's lockdown, its deadlines and the size-capped reply all apply unchanged). Jobs and
results cross as the same `Job` and `SandboxResult` objects, frames included for a
`record=True` job.

Grasps remembered per object kind (`skills.grasps.GraspMemory`) live in the driver's
data home, which an actor on another machine cannot open: the driver sends what it knows
with each job (`CarriedGrasps`), and the actor returns what the episode learned beside
its result, for the driver to record -- as a local pool's worker does.
"""

from __future__ import annotations

import os

from agent.evaluate.evaluator import Job, run_job


class CarriedGrasps:
    """The driver's remembered grasps, carried to an actor with one job; what the episode
    learns is kept in `learned` for the driver (the pool's `GraspMemory` interface)."""

    def __init__(self, known: dict | None) -> None:
        self._known = known or {}
        self.learned: list = []

    def known(self) -> dict:
        return self._known

    def record(self, outcomes) -> int:
        self.learned.extend(outcomes)
        return len(outcomes)


class SandboxActor:
    """Holds one warm sandbox worker and runs `Job`s in it, one at a time.

    Args:
        provider: the pose provider's spec as a dict (`ProviderSpec.to_dict()`), or None
            for the oracle.
    """

    def __init__(self, provider: dict | None = None) -> None:
        from skills.poses import ProviderSpec
        from skills.sandbox import SandboxPool

        spec = ProviderSpec(provider["factory"], dict(provider["kwargs"])) if provider else None
        self.pool = SandboxPool(workers=1, provider=spec)

    def ready(self) -> dict:
        """Wait until the sandbox worker is up (its provider built); who is running it.

        Raises SkillError with the worker's reason when it cannot start (e.g. a pose
        provider that cannot be built on this node).
        """
        from skills.errors import SkillError
        from skills.sandbox import _WorkerLost

        worker = self.pool._idle.get()
        try:
            worker.wait_ready()
        except _WorkerLost as exc:
            raise SkillError(str(exc)) from None
        finally:
            self.pool._idle.put(worker)
        return {"pid": os.getpid(), "sandbox": self.pool.pids}

    def pids(self) -> dict:
        """This actor's process id and its sandbox workers' (to watch or stop them)."""
        return {"pid": os.getpid(), "sandbox": self.pool.pids}

    def run(self, job: Job, grasps: dict | None = None):
        """One episode in the warm worker: (its `SandboxResult`, the grasp outcomes it
        learned). `grasps`: the driver's remembered grasps (None: none carried)."""
        carried = CarriedGrasps(grasps) if grasps is not None else None
        self.pool.grasps = carried
        try:
            return run_job(self.pool, job), (carried.learned if carried else [])
        finally:
            self.pool.grasps = None

    def close(self) -> None:
        self.pool.close()
