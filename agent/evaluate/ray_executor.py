"""Evaluation episodes on Ray: the Evaluator's `Executor` for a cluster (optional extra).

A pool of Ray actors (`agent.evaluate.ray_actors.SandboxActor`), one CPU each, each
holding one warm sandbox worker built with the requested pose provider: the same isolation
as the local pool (the actor is not the sandbox), reused across episodes and candidates.
`run_many` hands jobs to idle actors and collects results in job order. An actor that dies
mid-episode (`ray.exceptions.RayActorError`: its process killed, its node lost) is
replaced by a new one and the lost episode runs again there, so the results are those of
an undisturbed run; an episode lost `MAX_TRIES` times is an error, never a hang.

Needs the optional `ray` extra (`pip install 'skillgrove[ray]'`, which `make install`
installs) and a cluster: `ray start --head` on one machine, `ray start --address HEAD:PORT`
on the others, then `--executor ray --ray-address HEAD:PORT` (see the README).
"""

from __future__ import annotations

import contextlib
import socket
import time

from agent.evaluate.evaluator import Job
from skills.errors import SkillError

MAX_TRIES = 3  # actors an episode may be lost on before the evaluation fails
START_S = 180.0  # an actor's start (Ray worker, sandbox worker, pose provider) at most
CONNECT_S = 5.0  # to reach the head's port before Ray's own (long) retries
WAIT_S = 1.0  # how often the dispatcher looks for overdue episodes


def _ray():
    try:
        import ray
    except ImportError:
        raise SkillError(
            "the Ray executor needs the 'ray' package (pip install 'skillgrove[ray]')"
        ) from None
    return ray


class RayExecutor:
    """Episodes on a pool of Ray actors, each with one warm sandbox worker.

    Args:
        address: the cluster's address (HOST:PORT of the head, or "auto"); None starts a
            Ray local to this process (tests and one-machine use).
        workers: actors (episodes at once); default every CPU of the cluster. More than
            the cluster's CPUs is an error (the extra actors would never start).
        provider: the pose provider the sandbox workers build (`skills.poses.ProviderSpec`;
            default the oracle). Its files must be readable at the same path on every node.
        grasps: the data home's remembered grasps (`skills.grasps.GraspMemory`): sent with
            every job and taught what each episode learned, as the local pool does.

    Raises:
        SkillError: no `ray`, no cluster at `address`, too many workers, or a sandbox
            worker that cannot start (e.g. its pose provider), as one line.
    """

    def __init__(
        self, address: str | None = None, workers: int | None = None, provider=None, grasps=None
    ):
        ray = connect(address)
        self._ray = ray
        self.workers = cluster_workers(ray, workers, "each sandbox actor takes one")
        self.provider = provider
        self.grasps = grasps
        self.retried = 0  # episodes run again after their actor died
        from agent.evaluate.ray_actors import SandboxActor

        self._cls = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(SandboxActor)
        self._actors: list = []
        self.in_flight = 0  # episodes handed to actors and not yet back
        self._info: dict = {}  # actor handle id -> {"pid": actor's, "sandbox": [workers']}
        try:
            self._start(self.workers)
        except BaseException:
            self.close()
            raise

    def _start(self, n: int) -> list:
        """Start `n` actors and wait until their sandbox workers are ready."""
        spec = self.provider.to_dict() if self.provider is not None else None
        new = [self._cls.remote(spec) for _ in range(n)]
        self._actors += new
        infos = self._get([a.ready.remote() for a in new], START_S, "start")
        for a, info in zip(new, infos, strict=True):
            self._info[id(a)] = info
        return new

    def _get(self, refs: list, timeout: float, what: str) -> list:
        ray = self._ray
        try:
            return ray.get(refs, timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            raise SkillError(f"Ray sandbox actors did not {what} within {timeout:.0f} s") from None
        except ray.exceptions.RayTaskError as exc:
            raise _task_error(exc) from None
        except ray.exceptions.RayActorError as exc:
            raise SkillError(f"a Ray sandbox actor died during its {what}: {_line(exc)}") from None

    def processes(self) -> list[dict]:
        """Each live actor's {"pid": its process id, "sandbox": its sandbox worker's}."""
        return [self._info[id(a)] for a in self._actors if id(a) in self._info]

    def actor_pids(self) -> list[int]:
        """Process ids of the live actors (each holds one sandbox worker)."""
        return [p["pid"] for p in self.processes()]

    def run_many(self, jobs: list[Job]) -> list:
        """Run `jobs` on the actors; their `SandboxResult`s in job order."""
        ray = self._ray
        results: list = [None] * len(jobs)
        todo = list(range(len(jobs)))  # job indices not yet handed out, in order
        tries = [0] * len(jobs)
        idle = list(self._actors)
        running: dict = {}  # ref -> (job index, actor, deadline)
        while todo or running:
            while todo and idle:
                i, actor = todo.pop(0), idle.pop(0)
                tries[i] += 1
                deadline = time.monotonic() + jobs[i].timeout + START_S
                known = self.grasps.known() if self.grasps is not None else None  # as of now
                running[actor.run.remote(jobs[i], known)] = (i, actor, deadline)
            self.in_flight = len(running)
            done, _ = ray.wait(list(running), num_returns=1, timeout=WAIT_S)
            for ref in done:
                i, actor, _ = running.pop(ref)
                try:
                    results[i], learned = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:
                    idle.append(actor)
                    self._drain(running)
                    raise _task_error(exc) from None
                except ray.exceptions.RayActorError as exc:
                    idle.append(self._replace(actor, jobs[i], tries[i], exc))
                    todo.insert(0, i)
                    continue
                self._learn(learned)
                idle.append(actor)
            now = time.monotonic()
            for ref, (i, actor, deadline) in list(running.items()):
                if now > deadline:  # the actor stopped answering: treat it as dead
                    running.pop(ref)
                    idle.append(self._replace(actor, jobs[i], tries[i], "it stopped answering"))
                    todo.insert(0, i)
        self.in_flight = 0
        return results

    def _learn(self, outcomes: list) -> None:
        """Record an episode's grasp outcomes in the home (a read-only home learns nothing)."""
        if self.grasps is not None and outcomes:
            with contextlib.suppress(SkillError):
                self.grasps.record(outcomes)

    def _replace(self, actor, job: Job, tries: int, why):
        """Drop a dead actor and start another; the lost job may run again on it."""
        self._kill(actor)
        if tries >= MAX_TRIES:
            raise SkillError(
                f"an evaluation episode (seed {job.seed}) was lost on {tries} Ray actors: "
                f"{_line(why)}"
            )
        self.retried += 1
        return self._start(1)[0]

    def _drain(self, running: dict) -> None:
        """Wait for the episodes still running (their actors stay in the pool)."""
        if running:
            self._ray.wait(list(running), num_returns=len(running), timeout=START_S)
            running.clear()

    def _kill(self, actor) -> None:
        if actor in self._actors:
            self._actors.remove(actor)
        self._info.pop(id(actor), None)
        with contextlib.suppress(Exception):  # already gone
            self._ray.kill(actor, no_restart=True)

    def close(self) -> None:
        """Stop the actors (and with them their sandbox workers)."""
        actors, self._actors = list(self._actors), []
        if actors:
            with contextlib.suppress(Exception):  # a dead actor has nothing to close
                self._ray.wait(
                    [a.close.remote() for a in actors], num_returns=len(actors), timeout=10
                )
        for a in actors:
            self._kill(a)


def connect(address: str | None):
    """The `ray` module, connected to the cluster at `address` (HOST:PORT, "auto", or None
    for a Ray local to this process); already connected elsewhere is an error.

    Raises:
        SkillError: no `ray`, nothing answering at `address`, or another cluster, as one line.
    """
    ray = _ray()
    if not ray.is_initialized():
        _check_reachable(address)
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise SkillError(
                f"cannot connect to the Ray cluster at {address}: {_line(exc)}"
            ) from None
    elif address and address != "auto" and "://" not in address:
        now = ray.get_runtime_context().gcs_address
        if now.rpartition(":")[2] != address.rpartition(":")[2]:
            raise SkillError(f"this process is already connected to the Ray cluster at {now}")
    return ray


def cluster_workers(ray, workers: int | None, why: str) -> int:
    """`workers` (default: every CPU of the connected cluster), at most its CPUs.

    Raises:
        SkillError: fewer than one, or more than the cluster's CPUs (`why`: what takes one).
    """
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if workers is None:
        workers = max(1, cpus)
    if workers < 1:
        raise SkillError("the Ray executor needs at least one worker")
    if workers > cpus:
        raise SkillError(f"--workers {workers} is more than the Ray cluster's {cpus} CPUs ({why})")
    return workers


def _check_reachable(address: str | None) -> None:
    """A HOST:PORT that nothing answers on is a one-line error now, rather than after
    Ray's own minutes of retries."""
    if not address or address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise SkillError(f"the Ray address must be HOST:PORT, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_S).close()
    except OSError as exc:
        raise SkillError(f"cannot reach the Ray cluster at {address}: {exc}") from None


def _line(exc) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def _task_error(exc) -> SkillError:
    """A SkillError raised in an actor (bad arguments, no worker) as this side's one line."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, SkillError):
        return SkillError(str(cause))
    return SkillError(f"a Ray sandbox actor failed: {_line(cause or exc)}")
