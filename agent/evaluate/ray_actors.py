"""The Ray actor that runs evaluation episodes: one warm sandbox worker, held across jobs.

The actor is a plain Ray worker process; it is not the sandbox. It holds a
`SandboxPool(workers=1)` built with the requested pose provider, so each episode runs in
the same locked-down worker process tree as with the local executor (validation, the
worker's lockdown, its deadlines and the size-capped reply all apply unchanged). Jobs and
results cross as the same `Job` and `SandboxResult` objects, frames included for a
`record=True` job.
"""

from __future__ import annotations

import os

from agent.evaluate.evaluator import Job, run_job


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

    def run(self, job: Job):
        """One episode in the warm worker: a `SandboxResult`."""
        return run_job(self.pool, job)

    def close(self) -> None:
        self.pool.close()
