"""The parent's side of the sandbox: a pool of warm worker processes (`SandboxPool`).

Each worker is `python -I -c ...` running `skills.sandbox.server.main` with a clean
environment, in its own process group; this side validates the code first (rejected code
is never sent), sends one JSON request line, reads one size-capped JSON reply line under
a second wall-clock deadline, and kills and replaces a worker that dies, stops answering
or breaks the protocol. This process is the only one that writes anything.
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
from pathlib import Path

from skills.errors import SkillError
from skills.grasps import GraspMemory
from skills.poses import ProviderSpec
from skills.sandbox.result import RECORD_CAP, SandboxResult, result_from_reply
from skills.validate import validate

GRACE_S = 5.0  # extra time the parent gives a worker beyond the run's own timeout
START_TIMEOUT_S = 120.0
_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); from skills.sandbox.server import main; main()"
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

    def __init__(
        self,
        debug: bool = False,
        provider: ProviderSpec | None = None,
        display: str | None = None,
    ) -> None:
        env = {"PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"} | _WORKER_ENV
        env |= {k: "1" for k in _THREAD_VARS}
        if debug:
            env["SKILLGROVE_SANDBOX_DEBUG"] = "1"
        if display:  # only for --gui; the server hands it to trusted processes alone
            env |= _display_env(display)
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


def _display_env(display: str) -> dict[str, str]:
    """DISPLAY, and the X authority cookie's file an X server may ask for."""
    env = {"DISPLAY": display}
    xauth = os.environ.get("XAUTHORITY") or str(Path.home() / ".Xauthority")
    if os.path.isfile(xauth):
        env["XAUTHORITY"] = xauth
    return env


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
        display: an X display (`DISPLAY`, already probed: `sim.display`) on which each
            run's trusted process shows its episode in PyBullet's GUI (`run --gui`). The
            skill process never gets it (see `skills.sandbox.server`). None: headless.
    """

    def __init__(
        self,
        workers: int = 1,
        memory_mb: int = 1024,
        output_limit: int = 16_000,
        debug: bool = False,
        provider: ProviderSpec | None = None,
        display: str | None = None,
        grasps: GraspMemory | None = None,
    ) -> None:
        if workers < 1:
            raise SkillError("a sandbox pool needs at least one worker")
        self.memory_mb = memory_mb
        self.output_limit = output_limit
        self.provider = provider
        self.display = display
        self.grasps = grasps
        self._debug = debug
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(workers):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        w = _Worker(self._debug, self.provider, self.display)
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
        """Process ids of the current workers (to watch or stop them from outside)."""
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
            "grasps": self.grasps.known() if self.grasps is not None else None,
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
                if self.grasps is not None and msg.get("grasps"):
                    with contextlib.suppress(SkillError):  # a read-only home learns nothing
                        self.grasps.record(msg["grasps"])
                return result_from_reply(msg, time.perf_counter() - start)
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
