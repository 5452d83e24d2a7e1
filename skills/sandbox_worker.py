"""The sandbox worker process: a warm fork server that runs one skill per child.

Started by `skills.sandbox` as `python -I -c ...` with a clean environment (no secrets
to find in it). The server imports numpy, PyBullet and every task family once, builds
its `World` and its pose provider (the oracle, or what a `ProviderSpec` on the command
line names, e.g. the learned policy: its checkpoint is read here, never after the
lockdown), prepares the lockdown (a Landlock ruleset and a seccomp program), says it
is ready, then reads one JSON request per line on stdin. It keeps one forked *spare*
child waiting; each request goes to the spare, which

1. builds the task's scene for the seed (`reset_task`) and a `Robot`, and lets the pose
   provider prepare for that scene (`prepare(world)`, where it has one);
2. locks itself down: resource limits (address space, CPU, file size, open files,
   processes, no core dumps), all capabilities dropped, no new privileges, a Landlock
   domain (read-only access to the Python installation and nothing else on the file
   system, no TCP, no signals or abstract sockets outside itself) and a seccomp filter
   (no exec, fork, sockets, ptrace, file writes, signals, namespaces, keyrings...),
   each where the kernel offers it;
3. executes the (already validated) skill with a restricted set of builtins whose
   `__import__` allows only math and numpy, calls the entry function, reads every
   object's start and end pose from the simulator, and writes one JSON line to a pipe,
   then is killed.

The verdict is not the child's to give: the server, which runs no skill code, evaluates
the goal (the family's goal for the seed, or the goal the request carries for a scene
given by its layout) with `sim.goals` on the state the child reported.

The server enforces the wall-clock timeout (SIGKILL), caps what it reads from the child,
and answers the parent with one JSON line. Every child starts from the server's pristine
state, so a run can neither see nor disturb another (nor leave numpy's global state
changed for the next); the warm part (imports, physics client) is paid once per worker.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import errno
import gc
import json
import math
import os
import resource
import select
import signal
import sys
import time
import traceback

from skills.errors import SkillError
from skills.poses import ProviderSpec, build_provider
from skills.validate import ALLOWED_MODULES, attr_allowed

MAX_REQUEST_BYTES = 1 << 20
_FALLBACK = b'{"status": "error", "reason": "the skill process could not report its result", "success": false, "output": "", "layers": []}\n'

_SAFE_BUILTIN_NAMES = (
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "bool",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "complex",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "frozenset",
    "hash",
    "hex",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "map",
    "max",
    "min",
    "next",
    "oct",
    "ord",
    "pow",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "slice",
    "sorted",
    "str",
    "sum",
    "tuple",
    "zip",
    "format",
    "True",
    "False",
    "None",
    "Ellipsis",
    "NotImplemented",
    "Exception",
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "FloatingPointError",
    "IndexError",
    "KeyError",
    "LookupError",
    "MemoryError",
    "NameError",
    "NotImplementedError",
    "OverflowError",
    "RecursionError",
    "RuntimeError",
    "StopIteration",
    "TypeError",
    "UnboundLocalError",
    "ValueError",
    "ZeroDivisionError",
    "ImportError",
    "Warning",
    "RuntimeWarning",
    "UserWarning",
)


# -- the server ----------------------------------------------------------------------------
def main() -> None:
    """Serve requests from the parent until stdin closes.

    `sys.argv[2]`, if given, is a JSON `ProviderSpec` (see `skills.poses`).
    """
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)  # C-level chatter (PyBullet) must never reach the protocol pipe
    if not os.environ.get("SKILLGROVE_SANDBOX_DEBUG"):
        os.dup2(devnull, 2)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    try:
        spec = json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
        server = _Server((0, out.fileno()), ProviderSpec(**spec) if spec else None)
        server.prepare()
    except BaseException as exc:  # report, then exit: the parent shows the reason
        _send(out, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    _send(out, {"ready": True, "pid": os.getpid(), "families": server.families})
    stdin = sys.stdin.buffer
    try:
        while True:
            line = stdin.readline(MAX_REQUEST_BYTES)
            if not line:
                return
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise ValueError
            except ValueError:
                _send(out, _reply("error", "malformed request"))
                continue
            _send(out, server.handle(request))
            server.prepare()  # fork the next spare while the parent reads the reply
    finally:
        server.discard_spare()


def _send(out, message: dict) -> None:
    out.write(json.dumps(message).encode() + b"\n")


def _reply(
    status: str, reason: str | None, success: bool = False, output: str = "", layers=()
) -> dict:
    return {
        "status": status,
        "reason": reason,
        "success": success,
        "output": output,
        "layers": list(layers),
    }


class _Server:
    """Owns the warm World and pose provider; keeps one forked spare child waiting."""

    def __init__(self, proto_fds: tuple[int, ...], provider: ProviderSpec | None = None) -> None:
        import numpy  # noqa: F401 - warm import, inherited by every child
        import numpy.fft  # noqa: F401
        import numpy.linalg  # noqa: F401
        import numpy.random  # noqa: F401
        import PIL.GifImagePlugin  # noqa: F401 - recording encodes GIFs after the lockdown
        import PIL.Image  # noqa: F401

        from sim import errors, geometry, goals, poses, primitives  # noqa: F401 - robot imports these lazily
        from sim.families import FAMILIES, task_class
        from sim.goals import plan  # noqa: F401 - the robot's plan() runs it in the child
        from sim.runner import reset_task
        from sim.scenes import Layout, place
        from sim.world import World
        from skills import poses as skill_poses  # noqa: F401
        from skills.robot import Robot

        self.proto_fds = proto_fds
        self.world = World()
        self.Robot = Robot
        self.reset_task = reset_task
        self.goals = goals
        self.place_layout = lambda world, data: place(world, Layout.from_json(data))
        self._family_goals: dict[tuple[str, int], str] = {}
        goals.load()  # every predicate module, imported before any fork
        self.families = []
        for family in FAMILIES:
            try:
                task_class(family)
                reset_task(self.world, family, 0)  # warms caches (shapes, lazy imports)
                self.families.append(family)
            except Exception:  # noqa: S112 - a family not built yet is simply not offered
                continue
        # Built here, in the worker, not in the parent: a learned provider's torch then
        # starts in this process (never forked mid-flight) and reads its checkpoint now.
        self.provider = build_provider(provider)
        self.prepare_scene = getattr(self.provider, "prepare", None)
        if self.prepare_scene is not None and self.families:
            reset_task(self.world, self.families[0], 0)
            self.prepare_scene(self.world)  # warms whatever it does lazily
        self.lockdown = _Lockdown(_python_dirs())
        gc.collect()
        gc.freeze()  # children then leave the warm objects' pages shared (fewer copy-on-write faults)
        self.spare: tuple[int, int, int] | None = None  # (pid, request fd, reply fd)
        self.zombies: list[int] = []

    def prepare(self) -> None:
        """Fork a spare that waits for the next request; reap children that have exited."""
        if self.spare is None:
            self.spare = self._fork_spare()
        self.zombies = [pid for pid in self.zombies if not _reaped(pid, block=False)]

    def discard_spare(self) -> None:
        """Kill the spare and reap every child (the server is exiting)."""
        if self.spare is not None:
            pid, req_w, reply_r = self.spare
            self.spare = None
            os.close(req_w)
            os.close(reply_r)
            _wait(pid, 0, kill=True)
        for pid in self.zombies:
            _reaped(pid, block=True)
        self.zombies = []

    def _fork_spare(self) -> tuple[int, int, int]:
        req_r, req_w = os.pipe()
        reply_r, reply_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child never returns
            try:
                os.close(req_w)
                os.close(reply_r)
                _spare(self, req_r, reply_w)
            finally:
                os._exit(70)
        os.close(req_r)
        os.close(reply_w)
        return pid, req_w, reply_r

    def handle(self, req: dict) -> dict:
        try:
            timeout = float(req["timeout"])
            cap = 8 * int(req.get("output_limit", 16_000)) + 65_536
            cap += RECORD_CAP if req.get("record") else 0
        except (KeyError, TypeError, ValueError):
            return _reply("error", "malformed request")
        scene = req.get("scene")
        if scene is not None and not isinstance(req.get("goal"), str):
            return _reply("error", "a scene given by its layout needs a goal")
        if scene is None and req.get("family") not in self.families:
            return _reply(
                "error", f"task family {req.get('family')!r} is not available in the sandbox"
            )
        if self.spare is None:
            self.spare = self._fork_spare()
        (pid, req_w, reply_r), self.spare = self.spare, None
        deadline = time.monotonic() + timeout
        try:
            try:
                _write_all(req_w, json.dumps(req).encode())
            except OSError:
                pass  # the spare died: its exit status says how
            finally:
                os.close(req_w)
            # The perception is this server's to say; the child only counts the calls.
            reply = self._collect(pid, reply_r, deadline, cap) | {"perception": self.provider.name}
        finally:
            os.close(reply_r)
        return reply | self.judge(req, reply.get("objects"))

    def judge(self, req: dict, objects) -> dict:
        """The verdict, from the state the child reported: this process runs no skill code."""
        G = self.goals
        try:
            goal = req.get("goal") or self.family_goal(req)
            if not isinstance(objects, list):
                return {"success": False, "goal": goal, "atoms": []}
            state = G.State.from_json(objects)
            verdict = G.evaluate(G.check(goal, state), state)
        except Exception as exc:  # a goal that cannot be judged is a failed run, said so
            return {
                "success": False,
                "atoms": [],
                "verdict_error": f"{type(exc).__name__}: {exc}"[:300],
            }
        atoms = [a.to_json() for a in verdict.atoms]
        return {"success": bool(verdict.value), "goal": goal, "atoms": atoms}

    def family_goal(self, req: dict) -> str:
        """The goal of a family's scene for a seed, built in this process's own world."""
        key = (str(req["family"]), int(req["seed"]))
        if key not in self._family_goals:
            task = self.reset_task(self.world, *key)
            self._family_goals[key] = task.goal_text()
            if len(self._family_goals) > 4096:
                self._family_goals.pop(next(iter(self._family_goals)))
        return self._family_goals[key]

    def _collect(self, pid: int, rfd: int, deadline: float, cap: int) -> dict:
        """Read the child's one-line reply (capped), killing it at the deadline."""
        data, timed_out, too_big = bytearray(), False, False
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([rfd], [], [], left)
            if not ready:
                continue
            chunk = os.read(rfd, 65_536)
            if not chunk:
                break
            data += chunk
            if len(data) > cap:
                too_big = True
                break
        if b"\n" in data and not too_big:
            os.kill(pid, signal.SIGKILL)  # its work is done; reaped in prepare()
            self.zombies.append(pid)
            return _parse_child_reply(bytes(data), 0)
        status = _wait(pid, deadline, kill=timed_out or too_big)
        if status is None:  # closed its pipe but kept running: out of time
            timed_out = True
            status = _wait(pid, deadline, kill=True)
        if timed_out:
            return _reply("timeout", "wall-clock time limit exceeded (killed)")
        if too_big:
            return _reply("error", "the skill process sent an oversized reply (killed)")
        if os.WIFSIGNALED(status):
            return _reply(*_signal_reason(os.WTERMSIG(status)))
        return _parse_child_reply(bytes(data), os.WEXITSTATUS(status))


def _reaped(pid: int, block: bool) -> bool:
    try:
        return os.waitpid(pid, 0 if block else os.WNOHANG)[0] != 0
    except ChildProcessError:
        return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _wait(pid: int, deadline: float, kill: bool) -> int | None:
    """Exit status of `pid`; None if it is still alive at the deadline (and not killed)."""
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return os.waitpid(pid, 0)[1]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.002)


def _signal_reason(sig: int) -> tuple[str, str]:
    if sig == signal.SIGXCPU:
        return "timeout", "CPU time limit exceeded"
    if sig == signal.SIGSYS:
        return "error", "killed for a forbidden system call (seccomp)"
    if sig == signal.SIGXFSZ:
        return "error", "killed for writing a file (file size limit)"
    if sig == signal.SIGKILL:
        return "error", "killed (SIGKILL), probably out of memory"
    return "error", f"the skill process crashed ({signal.Signals(sig).name})"


def _parse_child_reply(data: bytes, code: int) -> dict:
    lines = data.split(b"\n")
    try:
        if len(lines) != 2 or lines[1]:
            raise ValueError("not exactly one line")
        msg = json.loads(lines[0])
        ok = (
            isinstance(msg, dict)
            and msg.get("status") in ("ok", "error")
            and isinstance(msg.get("reason"), str | None)
            and isinstance(msg.get("success"), bool)
            and isinstance(msg.get("output"), str)
            and isinstance(msg.get("layers"), list)
            and all(isinstance(x, str) for x in msg["layers"])
        )
        if not ok:
            raise ValueError("unexpected shape")
    except ValueError:
        return _reply("error", f"the skill process exited ({code}) without a valid result")
    out = _reply(msg["status"], msg["reason"], msg["success"], msg["output"], msg["layers"])
    out.update(_record_fields(msg))
    return out


def _record_fields(msg: dict) -> dict:
    """The episode record (GIF as base64, final poses) and the number of pose provider
    calls, each if present and well-formed."""
    out: dict = {}
    calls = msg.get("pose_calls")
    if isinstance(calls, int) and not isinstance(calls, bool) and 0 <= calls < 10**6:
        out["pose_calls"] = calls
    log = msg.get("calls")  # the robot's call log: feedback only, never judged
    if (
        isinstance(log, list)
        and len(log) <= 100
        and all(isinstance(c, str) and len(c) <= 200 for c in log)
    ):
        out["calls"] = log
    gif, poses = msg.get("gif"), msg.get("poses")
    if isinstance(gif, str) and len(gif) <= RECORD_CAP:
        out["gif"] = gif
    if (
        isinstance(poses, dict)
        and len(poses) <= 64
        and all(
            isinstance(k, str)
            and isinstance(v, list)
            and len(v) == 4
            and all(isinstance(x, int | float) for x in v)
            for k, v in poses.items()
        )
    ):
        out["poses"] = poses
    objects = msg.get("objects")
    if isinstance(objects, list) and len(objects) <= 64 and all(_object_row(r) for r in objects):
        out["objects"] = objects
    return out


def _object_row(r) -> bool:
    """One well-formed row of the end state (see `sim.goals.State.to_json`)."""

    def pose(v) -> bool:
        return isinstance(v, list) and len(v) == 4 and all(_num(x) for x in v)

    return (
        isinstance(r, dict)
        and isinstance(r.get("description"), str)
        and len(r["description"]) < 64
        and pose(r.get("start"))
        and pose(r.get("end"))
        and _num(r.get("tilt_deg"))
        and isinstance(r.get("held"), bool)
    )


def _num(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


# -- the child ------------------------------------------------------------------------------
def _spare(server: _Server, req_fd: int, reply_fd: int) -> None:
    """A forked spare: prepare the lockdown, wait for the request, then run it."""
    with contextlib.suppress(OSError, AttributeError):  # Linux only
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the server
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in server.proto_fds:  # an escaped skill must not talk to the parent directly
        if fd == 0:
            os.dup2(devnull, 0)
        else:
            os.close(fd)
    os.close(devnull)
    request = _read_all(req_fd)
    os.close(req_fd)
    _child(server, json.loads(request), reply_fd)


def _child(server: _Server, req: dict, wfd: int) -> None:
    """Build the scene, lock down, run the skill, report one JSON line, exit."""
    capture = _Capture(int(req.get("output_limit", 16_000)))
    sys.stdout = sys.stderr = capture
    status, reason, success, layers = "error", None, False, []
    frames, objects, robot = None, None, None
    try:
        try:
            os.chdir(req.get("cwd") or "/")
        except OSError:
            os.chdir("/")
        if req.get("scene") is not None:
            server.place_layout(server.world, req["scene"])
            params = req.get("params") or {}
        else:
            task = server.reset_task(server.world, req["family"], int(req["seed"]))
            params = req["params"] if req.get("params") is not None else dict(task.params)
        start = server.goals.start_poses(server.world)
        robot = server.Robot(server.world, server.provider, seed=int(req["seed"]), start=start)
        if server.prepare_scene is not None:
            server.prepare_scene(server.world)  # the last moment files may be read
        frames = _start_recording(server.world) if req.get("record") else None
        layers = server.lockdown.apply(float(req["timeout"]), int(req.get("memory_mb", 1024)))
        status, reason = _run_skill(req["code"], req["entry"], robot, params, capture)
        try:
            objects = server.goals.read_world(server.world, start).to_json()
        except Exception as exc:
            status, reason = "error", f"reading the end state failed: {type(exc).__name__}: {exc}"
    except BaseException as exc:  # the sandbox's own failure (scene, lockdown)
        reason = f"sandbox: {type(exc).__name__}: {exc}"
    record = {
        "pose_calls": _calls(server.provider),
        "objects": objects,
        "calls": robot._calls() if robot is not None else [],
    }
    if frames is not None:
        record |= _finish_recording(server.world, frames)
        if objects is not None:  # the recorded final poses: the end state already read
            record["poses"] = {o["description"]: o["end"] for o in objects}
    try:
        line = json.dumps(
            _reply(status, (reason or "")[:1000] or None, success, capture.text(), layers) | record
        )
        payload = line.encode() + b"\n"
    except BaseException:
        payload = _FALLBACK
    try:
        _write_all(wfd, payload)
    finally:
        os._exit(0)


def _calls(provider) -> int:
    calls = getattr(provider, "calls", 0)
    return calls if isinstance(calls, int) else 0


RECORD_CAP = 4_000_000  # bytes of base64 GIF a recorded run may send back
RECORD_EVERY = 48  # physics steps between two key frames (5 per simulated second)


def _start_recording(world) -> list:
    """Record front-camera key frames while the skill runs (rendering stays in this child)."""
    frames = [world.render("front")[0]]
    world.record_every = RECORD_EVERY
    world.recorder = lambda w: frames.append(w.render("front")[0])
    return frames


def _finish_recording(world, frames: list) -> dict:
    """The frames as a base64 GIF (thinned to fit)."""
    import base64
    import io

    from PIL import Image

    world.recorder = None
    try:
        frames.append(world.render("front")[0])
        step = max(1, len(frames) // 150)
        images = [Image.fromarray(f) for f in frames[::step]] + [Image.fromarray(frames[-1])] * 3
        buf = io.BytesIO()
        images[0].save(
            buf, format="GIF", save_all=True, append_images=images[1:], duration=200, loop=0
        )
        gif = base64.b64encode(buf.getvalue()).decode()
        return {"gif": gif} if len(gif) <= RECORD_CAP else {}
    except Exception:  # a record is a bonus: never let it spoil the result
        return {}


def _run_skill(
    code: str, entry: str, robot, params: dict, capture: _Capture
) -> tuple[str, str | None]:
    namespace = {
        "__builtins__": _safe_builtins(capture),
        "__name__": "skill",
        "SkillError": SkillError,
    }
    try:
        compiled = builtins.compile(code, "<skill>", "exec", dont_inherit=True)
        builtins.exec(compiled, namespace)
        fn = namespace.get(entry)
        if not callable(fn):
            return "error", f"entry {entry!r} is not a function"
        fn(robot, **params)
    except BaseException as exc:  # everything the skill raises is its own error
        return "error", describe(exc)
    return "ok", None


def describe(exc: BaseException) -> str:
    """One line: exception type, message and the skill line it came from."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == "<skill>":
            line = lineno
    text = " ".join(str(exc).split())
    where = f" (line {line})" if line else ""
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"


class _Capture:
    """A text stream that keeps the first `limit` characters written to it."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size, self.parts, self.truncated = limit, 0, [], False

    def write(self, s) -> int:
        s = s if isinstance(s, str) else str(s)
        room = self.limit - self.size
        if room <= 0:
            self.truncated = self.truncated or bool(s)
            return len(s)
        if len(s) > room:
            self.truncated = True
            s = s[: max(room, 0)]
        self.parts.append(s)
        self.size += len(s)
        return len(s)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        return "".join(self.parts) + ("\n[output truncated]" if self.truncated else "")


def _safe_builtins(capture: _Capture) -> dict:
    safe = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES}

    def print_(*args, sep=" ", end="\n", file=None, flush=False):
        sep = " " if sep is None else sep
        end = "\n" if end is None else end
        if not isinstance(sep, str) or not isinstance(end, str):
            raise TypeError("sep and end must be strings")
        capture.write(sep.join(str(a) for a in args) + end)

    def import_(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0 or name not in ALLOWED_MODULES:
            raise ImportError(f"import of {name!r} is not allowed (only math and numpy)")
        for item in fromlist or ():
            if not isinstance(item, str) or item == "*" or not attr_allowed(item):
                raise ImportError(f"importing {item!r} from {name} is not allowed")
        return builtins.__import__(name, None, None, fromlist, 0)

    safe["print"] = print_
    safe["__import__"] = import_
    return safe


# -- the lockdown ---------------------------------------------------------------------------
class _Lockdown:
    """The isolation layers: built once by the server, applied by each child.

    The Landlock ruleset (a file descriptor) and the seccomp program (BPF bytes) are
    inherited through fork, so a child only has to switch them on. Each layer is used
    where the kernel offers it; `apply` returns the names of those in force and fails
    (so the skill never runs) if an offered layer cannot be applied.
    """

    def __init__(self, read_dirs: list[str]) -> None:
        self.ruleset: tuple[int, int] | None = None
        self.bpf: bytes | None = None
        with contextlib.suppress(Exception):  # no Landlock on this kernel
            self.ruleset = _landlock_ruleset(read_dirs)
        with contextlib.suppress(Exception):  # no seccomp, or no libseccomp
            self.bpf = _seccomp_bpf()

    def apply(self, timeout: float, memory_mb: int) -> list[str]:
        if _thread_count() > 1:  # seccomp and Landlock bind this thread only
            raise SkillError("more than one thread before the lockdown: the others would escape it")
        layers = [_rlimits(timeout, memory_mb)]
        with contextlib.suppress(OSError, AttributeError):  # no capset (not Linux): nothing to drop
            if _drop_capabilities():
                layers.append("capabilities:none")
        if self.ruleset is None and self.bpf is None:
            return layers
        _prctl(_PR_SET_NO_NEW_PRIVS, 1)  # both need it; from here on a failure is fatal
        if self.ruleset is not None:
            fd, abi = self.ruleset
            _syscall(_SYS_LL_RESTRICT, fd, 0)
            os.close(fd)
            layers.append(f"landlock:v{abi}")
        if self.bpf is not None:
            _load_bpf(self.bpf)
            layers.append("seccomp")
        return layers


def _thread_count() -> int:
    """Threads of this process (1 where /proc cannot tell)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _rlimits(timeout: float, memory_mb: int) -> str:
    """Soft = hard limits, never above the hard limits already in force."""
    cpu = int(math.ceil(timeout)) + 1
    limits = [
        (resource.RLIMIT_CORE, 0),  # no core dumps (they are files)
        (resource.RLIMIT_FSIZE, 0),  # no bytes written to any regular file
        (resource.RLIMIT_NOFILE, 64),
        (resource.RLIMIT_NPROC, 0),  # no new processes (ignored for root: seccomp covers it)
        (resource.RLIMIT_CPU, cpu),
    ]
    vm = _vm_size()
    if vm:
        limits.append((resource.RLIMIT_AS, vm + memory_mb * 2**20))
    for res, value in limits:
        hard = resource.getrlimit(res)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(res, (value, value))
    return "rlimits"


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


_PR_SET_NO_NEW_PRIVS, _PR_SET_PDEATHSIG = 38, 1
_SYS_LL_CREATE, _SYS_LL_ADD, _SYS_LL_RESTRICT = 444, 445, 446  # same numbers on every arch


def _libc_call(name: str, *args) -> int:
    """Call a libc function; raise OSError on a negative result."""
    fn = getattr(ctypes.CDLL(None, use_errno=True), name)
    fn.restype = ctypes.c_long
    res = fn(*args)
    if res < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return res


def _syscall(*args) -> int:
    return _libc_call("syscall", *args)


def _prctl(option: int, arg: int) -> None:
    _libc_call("prctl", option, arg, 0, 0, 0)


def _drop_capabilities() -> bool:
    """A root child keeps uid 0 (to read the Python it already uses) but no capability."""
    if os.geteuid() != 0:
        return False

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    header, data = Header(0x20080522, 0), (Data * 2)()
    _libc_call("capset", ctypes.byref(header), ctypes.byref(data))
    return True


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _landlock_ruleset(read_dirs: list[str]) -> tuple[int, int] | None:
    """(ruleset fd, ABI): read-only access to the Python installation; no other file
    access, no TCP bind/connect, no signals or abstract sockets outside the domain."""
    abi = _syscall(_SYS_LL_CREATE, None, 0, 1)
    if abi < 1:
        return None
    fs = (1 << 13) - 1  # ABI 1: execute, write, read, dirs, remove, make-*
    fs |= (1 << 13) if abi >= 2 else 0  # refer
    fs |= (1 << 14) if abi >= 3 else 0  # truncate
    fs |= (1 << 15) if abi >= 5 else 0  # ioctl on devices
    attr = _RulesetAttr(fs, 0b11 if abi >= 4 else 0, 0b11 if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _syscall(_SYS_LL_CREATE, ctypes.byref(attr), size, 0)
    read = (1 << 2) | (1 << 3)  # read files, read directories
    for path in read_dirs:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            _syscall(_SYS_LL_ADD, ruleset, 1, ctypes.byref(_PathBeneath(read, fd)), 0)
        finally:
            os.close(fd)
    return ruleset, abi


def _python_dirs() -> list[str]:
    """Directories the child may still read: the interpreter's libraries and this project."""
    import sysconfig

    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    libs = {
        v
        for k, v in sysconfig.get_paths().items()
        if k in ("stdlib", "platstdlib", "purelib", "platlib")
    }
    # sys.path minus the project root, which holds more than code: only its packages
    dirs = libs | {p for p in sys.path if p and os.path.isabs(p) and p != root}
    dirs |= {here, os.path.join(root, "sim")}
    return sorted(d for d in dirs if os.path.isdir(d) or d.endswith(".zip"))


_KILL_SYSCALLS = (
    "execve",
    "execveat",
    "fork",
    "vfork",
    "clone",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "keyctl",
    "add_key",
    "request_key",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "name_to_handle_at",
    "open_by_handle_at",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "setfsuid",
    "setfsgid",
    "capset",
    "setrlimit",
    "syslog",
    "acct",
    "quotactl",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "sethostname",
    "setdomainname",
    "fanotify_init",
    "kcmp",
    "modify_ldt",
    "personality",
    "vhangup",
    "move_pages",
    "migrate_pages",
    "mknod",
    "mknodat",
    "rt_sigqueueinfo",
    "tkill",
    "rt_tgsigqueueinfo",
    "memfd_create",
    "memfd_secret",
    "process_madvise",
    "lookup_dcookie",
    "nfsservctl",
    "uselib",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
)
_EPERM_SYSCALLS = (
    "creat",
    "openat2",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "rmdir",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "truncate",
    "ftruncate",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "fallocate",
)
_WRITE_FLAGS = (os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC, os.O_APPEND)
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C


def _seccomp_bpf() -> bytes:
    """The seccomp program: kill the process on exec, fork, sockets, ptrace, namespaces,
    kernel keyrings...; refuse (EPERM) file writes and signals."""
    import pyseccomp as sc

    f = sc.SyscallFilter(sc.ALLOW)
    kill, eperm = sc.KILL_PROCESS, sc.ERRNO(errno.EPERM)

    def rule(action, name, *args):
        with contextlib.suppress(OSError, ValueError, RuntimeError):  # not on this arch
            f.add_rule(action, name, *args)

    for name in _KILL_SYSCALLS:
        rule(kill, name)
    rule(sc.ERRNO(errno.ENOSYS), "clone3")  # flags unreadable by seccomp: libc falls back to clone
    for name in _EPERM_SYSCALLS:
        rule(eperm, name)
    for flag in _WRITE_FLAGS:
        rule(eperm, "open", sc.Arg(1, sc.MASKED_EQ, flag, flag))
        rule(eperm, "openat", sc.Arg(2, sc.MASKED_EQ, flag, flag))
    for name in ("kill", "tgkill"):  # the child never needs to signal anyone
        rule(eperm, name)
    rule(eperm, "prlimit64", sc.Arg(2, sc.NE, 0))
    for request in (_TIOCSTI, _TIOCLINUX):
        rule(eperm, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))
    r, w = os.pipe()
    try:
        with os.fdopen(w, "wb") as sink:
            f.export_bpf(sink)
        return _read_all(r)
    finally:
        os.close(r)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _load_bpf(bpf: bytes) -> None:
    """Install a seccomp filter program (8-byte instructions) on the calling thread."""
    buf = ctypes.create_string_buffer(bpf, len(bpf))
    prog = _SockFprog(len(bpf) // 8, ctypes.cast(buf, ctypes.c_void_p))
    _PR_SET_SECCOMP, mode_filter = 22, 2
    _libc_call("prctl", _PR_SET_SECCOMP, mode_filter, ctypes.byref(prog), 0, 0)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)
