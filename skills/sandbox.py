"""Run untrusted skill code: validated here, executed in warm, locked-down worker processes.

Layers, outermost first:

1. `skills.validate` (AST allow-list) in this process: rejected code is never sent anywhere.
2. A worker process (`skills.sandbox_worker`) started with a clean environment and
   isolated-mode Python, warm (numpy, PyBullet, the task families and the pose provider
   loaded once), which forks one child per run from its pristine state. The child builds the task scene, then
   locks itself down (rlimits, no capabilities, Landlock, seccomp) before the skill's
   first line runs, with restricted builtins whose `__import__` allows only math and numpy.
3. Wall-clock timeout with SIGKILL in the worker, and a second one here that kills and
   replaces a worker that stops answering.
4. Only one size-capped JSON line crosses back; anything else is an error. This process
   is the only one that writes anything.

Example:
    >>> with SandboxPool(workers=2) as pool:
    ...     result = pool.run(code, "stack_blocks", "stack", seed=3)
    >>> result.status, result.success
    ('ok', True)
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from skills.errors import SkillError
from skills.poses import ProviderSpec
from skills.validate import validate

STATUSES = ("ok", "rejected", "error", "timeout")
RECORD_CAP = 4_000_000  # base64 characters of GIF a recorded run may bring back
GRACE_S = 5.0  # extra time the parent gives a worker beyond the run's own timeout
START_TIMEOUT_S = 120.0
_ROOT = str(Path(__file__).resolve().parents[1])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); from skills.sandbox_worker import main; main()"
)
_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
)
# One thread everywhere (the lockdown binds only the thread that applies it), and no
# model hub: a learned pose provider loads local files only.
_WORKER_ENV = {
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one sandboxed run.

    Attributes:
        status: "ok" (the entry function returned), "rejected" (validation failed; never
            ran), "error" (it raised, or the process was killed for breaking a limit or
            a rule), "timeout" (wall-clock or CPU limit).
        reason: one line saying why, for every status but "ok".
        success: the goal evaluated on the simulator's end state, by the worker's server
            (never by the process that ran the skill); False when the run did not reach
            the end of the scene (rejected, timed out, killed).
        seconds: wall-clock seconds of the run as seen by the caller (excludes waiting
            for a free worker).
        output: what the skill printed, capped.
        layers: the isolation layers applied to the run, e.g. ("rlimits", "seccomp").
        gif: with `record=True`, the episode's front-camera key frames as GIF bytes.
        poses: with `record=True`, every object's final (x, y, z, yaw degrees).
        perception: the pose provider the robot API used ("oracle", "policy").
        pose_calls: how many grasp and place poses the skill asked it for.
        goal: the goal judged (text form).
        atoms: each ground atom of the goal: {"atom", "value", "margin", "unit", "detail"}.
        objects: every object's description, start and end [x, y, z_bottom, yaw_deg],
            size, tilt and whether the gripper held it (see `sim.goals.State.to_json`).
        calls: the robot API calls the skill made, in order (capped; feedback only).
    """

    status: str
    reason: str | None
    success: bool
    seconds: float
    output: str = ""
    layers: tuple[str, ...] = field(default=())
    gif: bytes | None = field(default=None, repr=False)
    poses: dict[str, list[float]] | None = field(default=None, repr=False)
    perception: str = "oracle"
    pose_calls: int = 0
    goal: str | None = None
    atoms: tuple[dict, ...] = field(default=(), repr=False)
    objects: tuple[dict, ...] | None = field(default=None, repr=False)
    calls: tuple[str, ...] = field(default=(), repr=False)


class _WorkerLost(Exception):
    """The worker died, stopped answering, or broke the protocol (it has been killed).

    Attributes:
        sent: whether the request had reached the worker (if not, retrying is safe).
        timed_out: whether it stopped answering (rather than dying or misbehaving).
    """

    def __init__(self, message: str, sent: bool = True, timed_out: bool = False) -> None:
        super().__init__(message)
        self.sent = sent
        self.timed_out = timed_out


class _Worker:
    """Parent-side handle of one worker process."""

    def __init__(self, debug: bool = False, provider: ProviderSpec | None = None) -> None:
        env = {"PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"} | _WORKER_ENV
        env |= {k: "1" for k in _THREAD_VARS}
        if debug:
            env["SKILLGROVE_SANDBOX_DEBUG"] = "1"
        spec = [json.dumps(provider.to_dict())] if provider else []
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, _ROOT, *spec],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if debug else subprocess.DEVNULL,
            env=env,
            cwd="/",
            close_fds=True,
            start_new_session=True,  # own process group (killed as one), no controlling tty
        )
        self._buf = bytearray()
        self.ready = False
        self.families: list[str] = []
        self._finalizer = weakref.finalize(self, _kill_group, self.proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        if self.ready:
            return
        msg = self._read_line(time.monotonic() + timeout, cap=1 << 16)
        if not isinstance(msg, dict) or msg.get("ready") is not True:
            self.kill()
            why = msg.get("error") if isinstance(msg, dict) else None
            raise _WorkerLost(f"sandbox worker failed to start: {why or 'no ready message'}")
        self.families = [f for f in msg.get("families", []) if isinstance(f, str)]
        self.ready = True

    def request(self, line: bytes, deadline: float, cap: int) -> dict:
        """Send one request line; return the worker's one-line JSON answer."""
        try:
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.kill()
            raise _WorkerLost("the sandbox worker is gone", sent=False) from None
        return self._read_line(deadline, cap)

    def _read_line(self, deadline: float, cap: int) -> dict:
        """One JSON object from the worker's stdout, at most `cap` bytes, before `deadline`."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise _WorkerLost(
                    "the sandbox worker did not answer in time (killed and replaced)",
                    timed_out=True,
                )
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                self.kill()
                raise _WorkerLost(f"the sandbox worker exited ({self.proc.poll()})")
            self._buf += chunk
            if len(self._buf) > cap:
                self.kill()
                raise _WorkerLost(
                    "the sandbox worker sent an oversized reply (killed and replaced)"
                )
        line, _, rest = bytes(self._buf).partition(b"\n")
        self._buf = bytearray(rest)
        try:
            msg = json.loads(line)
        except ValueError:
            self.kill()
            raise _WorkerLost(
                "the sandbox worker sent something other than JSON (killed and replaced)"
            ) from None
        if not isinstance(msg, dict):
            self.kill()
            raise _WorkerLost("the sandbox worker sent an unexpected reply (killed and replaced)")
        return msg

    def close(self, wait: float = 2.0) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(wait)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def kill(self) -> None:
        self._finalizer()


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream:
                stream.close()
        except OSError:
            pass


class SandboxPool:
    """Warm worker processes that run skill code, one run per worker at a time.

    Thread-safe: `run` may be called from several threads; each call takes a free worker.
    A worker that dies or stops answering is killed and replaced.

    Args:
        workers: number of worker processes (runs in parallel).
        memory_mb: address space a run may add above the worker's own (MiB).
        output_limit: characters of printed output kept per run.
        debug: let workers write to this process's stderr (diagnosing start failures).
        provider: the pose provider the workers build before their lockdown (default:
            the oracle). A provider that cannot be built fails the worker's start: the
            first `run` raises SkillError with its reason.
    """

    def __init__(
        self,
        workers: int = 1,
        memory_mb: int = 1024,
        output_limit: int = 16_000,
        debug: bool = False,
        provider: ProviderSpec | None = None,
    ) -> None:
        if workers < 1:
            raise SkillError("a sandbox pool needs at least one worker")
        self.memory_mb = memory_mb
        self.output_limit = output_limit
        self.provider = provider
        self._debug = debug
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(workers):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        w = _Worker(self._debug, self.provider)
        with self._lock:
            self._all.append(w)
        return w

    def _retire(self, w: _Worker) -> _Worker:
        w.kill()
        with self._lock:
            if w in self._all:
                self._all.remove(w)
        return self._spawn()

    @property
    def pids(self) -> list[int]:
        """Process ids of the current workers."""
        with self._lock:
            return [w.pid for w in self._all]

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), []
        for w in workers:
            w.close()

    def run(
        self,
        code: str,
        entry: str | None,
        family: str,
        seed: int,
        params: dict | None = None,
        timeout: float = 10.0,
        record: bool = False,
        scene: dict | list | None = None,
        goal: str | None = None,
    ) -> SandboxResult:
        """Validate `code`, then run its entry function on `family`'s scene for `seed`
        (or on the scene a layout gives, judged by `goal`).

        Args:
            code: skill source.
            entry: entry function name (None: the validator's choice).
            family: task family id.
            seed: scene seed.
            params: keyword arguments for the entry function (default: the task's params).
            timeout: wall-clock seconds for building the scene and running the skill.
            record: also bring back key frames (a GIF) and the objects' final poses.
            scene: a scene given by its layout (`sim.scenes.Layout.to_json()`) instead of a
                family's seed; `family` is then only a label and `goal` is required.
            goal: the goal (text or JSON form) that judges a `scene` run.

        Raises:
            SkillError: for bad arguments (unknown family, bad seed or params), or when no
                worker can be started; never for what the skill itself does.
        """
        _check_call(family, seed, params, timeout, scene, goal)
        t0 = time.perf_counter()
        try:
            checked = validate(code, entry)
        except SkillError as exc:
            return SandboxResult("rejected", str(exc), False, time.perf_counter() - t0)
        return self._execute(
            code,
            checked.entry,
            family,
            seed,
            params,
            timeout,
            spent=time.perf_counter() - t0,
            record=record,
            scene=scene,
            goal=goal,
        )

    def _execute(
        self,
        code,
        entry,
        family,
        seed,
        params=None,
        timeout=10.0,
        spent=0.0,
        record=False,
        scene=None,
        goal=None,
    ) -> SandboxResult:
        """Run code in a worker WITHOUT validating it. Internal; tests use it to show the
        process-level layers hold on their own."""
        if self._closed:
            raise SkillError("the sandbox pool is closed")
        _check_call(family, seed, params, timeout, scene, goal)
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = "/"
        if isinstance(goal, dict):
            goal = json.dumps(goal)
        payload = {
            "code": code,
            "entry": entry,
            "family": family,
            "seed": seed,
            "params": params,
            "timeout": float(timeout),
            "cwd": cwd,
            "memory_mb": self.memory_mb,
            "output_limit": self.output_limit,
            "record": bool(record),
            "scene": scene,
            "goal": goal,
        }
        try:
            line = json.dumps(payload).encode() + b"\n"
        except (TypeError, ValueError):
            raise SkillError("params must be JSON-serializable") from None
        worker = self._idle.get()
        try:
            for attempt in (1, 2):  # a worker found dead before the request is replaced once
                if worker.proc.poll() is not None:
                    worker = self._retire(worker)
                try:
                    worker.wait_ready()
                except _WorkerLost as exc:
                    worker = self._retire(worker)
                    if attempt == 2:
                        raise SkillError(str(exc)) from None
                    continue
                if scene is None and family not in worker.families:
                    raise SkillError(f"task family {family!r} is not available in the sandbox")
                start = time.perf_counter() - spent  # validation counts, waiting does not
                cap = 8 * self.output_limit + 65_536 + (RECORD_CAP if record else 0)
                try:
                    msg = worker.request(line, time.monotonic() + timeout + GRACE_S, cap)
                except _WorkerLost as exc:
                    worker = self._retire(worker)
                    if not exc.sent and attempt == 1:
                        continue
                    status = "timeout" if exc.timed_out else "error"
                    return SandboxResult(status, str(exc), False, time.perf_counter() - start)
                return _result(msg, time.perf_counter() - start)
            raise SkillError("no sandbox worker could take the run")  # pragma: no cover
        finally:
            self._idle.put(worker)


def _check_call(
    family: str | None, seed: int, params: dict | None, timeout: float, scene=None, goal=None
) -> None:
    """The caller's arguments (not the skill's fault): SkillError if wrong."""
    from sim.errors import SimError
    from sim.families import check_family
    from sim.runner import check_seed

    try:
        if scene is None:
            check_family(family)
        elif goal is None:
            raise SimError("a scene given by its layout needs a goal to judge it")
        check_seed(seed)
    except SimError as exc:
        raise SkillError(str(exc)) from None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
        raise SkillError(f"timeout must be in (0, 3600] seconds, got {timeout!r}")
    if params is not None and not isinstance(params, dict):
        raise SkillError("params must be a dict of keyword arguments")


def _result(msg: dict, seconds: float) -> SandboxResult:
    """A SandboxResult from the worker's reply, checking every field's type."""
    status, reason, success = msg.get("status"), msg.get("reason"), msg.get("success")
    output, layers = msg.get("output", ""), msg.get("layers", [])
    ok = (
        status in ("ok", "error", "timeout")
        and isinstance(reason, str | None)
        and isinstance(success, bool)
        and isinstance(output, str)
        and isinstance(layers, list)
        and all(isinstance(x, str) for x in layers)
    )
    if not ok:
        return SandboxResult("error", "the sandbox worker sent an invalid result", False, seconds)
    if status != "ok" and not reason:
        reason = status
    gif, poses = _record(msg)
    perception, calls = msg.get("perception", "oracle"), msg.get("pose_calls", 0)
    goal, atoms, objects = msg.get("goal"), msg.get("atoms"), msg.get("objects")
    log = msg.get("calls")
    log = tuple(c for c in log if isinstance(c, str)) if isinstance(log, list) else ()
    if status == "ok" and msg.get("verdict_error"):
        status, reason = "error", f"the goal could not be judged: {msg['verdict_error']}"
    return SandboxResult(
        status,
        reason,
        success,
        seconds,
        output,
        tuple(layers),
        gif,
        poses,
        perception if isinstance(perception, str) else "?",
        calls if isinstance(calls, int) and not isinstance(calls, bool) else 0,
        goal if isinstance(goal, str) else None,
        tuple(a for a in atoms if isinstance(a, dict)) if isinstance(atoms, list) else (),
        tuple(objects) if isinstance(objects, list) else None,
        log,
    )


def _record(msg: dict) -> tuple[bytes | None, dict | None]:
    """Decode a recorded run's GIF (checked to be one) and poses; None where absent or bad."""
    import base64
    import binascii

    gif, poses = None, msg.get("poses")
    raw = msg.get("gif")
    if isinstance(raw, str) and len(raw) <= RECORD_CAP:
        try:
            data = base64.b64decode(raw, validate=True)
            gif = data if data[:6] in (b"GIF87a", b"GIF89a") else None
        except (binascii.Error, ValueError):
            gif = None
    if not (
        isinstance(poses, dict)
        and all(isinstance(k, str) and isinstance(v, list) for k, v in poses.items())
    ):
        poses = None
    return gif, poses


def run_skill(
    code: str,
    entry: str | None,
    family: str,
    seed: int,
    params: dict | None = None,
    timeout: float = 10.0,
    memory_mb: int = 1024,
    scene: dict | list | None = None,
    goal: str | None = None,
) -> SandboxResult:
    """Run a skill once in a one-off pool (starts a worker: about a second more than `pool.run`)."""
    t0 = time.perf_counter()
    try:
        checked = validate(code, entry)
    except SkillError as exc:
        return SandboxResult("rejected", str(exc), False, time.perf_counter() - t0)
    with SandboxPool(workers=1, memory_mb=memory_mb) as pool:
        return pool.run(code, checked.entry, family, seed, params, timeout, scene=scene, goal=goal)


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
