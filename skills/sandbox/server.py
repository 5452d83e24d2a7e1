"""The sandbox worker process: a warm fork server that runs one skill per request.

Started by `skills.sandbox.pool` as `python -I -c ...` with a clean environment (no
secrets to find in it). The server imports numpy, PyBullet and every task family once,
builds its `World` and its pose provider (the oracle, or what a `ProviderSpec` on the
command line names, e.g. the learned policy), prepares the lockdown (a Landlock ruleset
and a seccomp program), says it is ready, then reads one JSON request per line on stdin.

Each run takes two processes, both forked ahead of the request (the *spare*):

1. the run's trusted process (`skills.sandbox.runner`), a fork of this server, which
   holds the World, the `Robot` and the pose provider and runs no skill code;
2. its skill process (`skills.sandbox.child`), which locks itself down and runs the skill
   with nothing but a robot proxy (`skills.sandbox.proxy`): every robot call crosses a
   pipe as a checked message (`skills.sandbox.wire`).

The verdict is out of the skill's reach: the trusted process reads every object's start
and end pose from its own simulator, and this server, which runs no skill code either,
evaluates the goal (the family's goal for the seed, or the goal the request carries for a
scene given by its layout) with `sim.goals` on that state. A skill process can only make
robot calls, as any skill can, and end its run.

The server enforces a backstop deadline on the trusted process (SIGKILL; the skill
process dies with it), caps what it reads, and answers the parent with one JSON line.
Every run starts from the server's pristine state, so a run can neither see nor disturb
another (nor leave numpy's global state changed for the next); the warm part (imports,
physics client) is paid once per worker.
"""

from __future__ import annotations

import gc
import json
import os
import select
import sys
import time

from skills.poses import ProviderSpec, build_provider
from skills.sandbox.lockdown import Lockdown, python_dirs
from skills.sandbox.procs import exit_reason, reaped, wait, write_all
from skills.sandbox.runner import run_spare
from skills.sandbox.wire import RECORD_CAP, parse_run_reply, reply

MAX_REQUEST_BYTES = 1 << 20
BACKSTOP_S = 1.0  # beyond the run's deadline, for a trusted process stuck in a robot call


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
    # `run --gui`: the display is taken out of the environment before any fork, so a skill
    # process never inherits it; a run's trusted process puts it back for itself alone.
    gui_env = {k: os.environ.pop(k) for k in ("DISPLAY", "XAUTHORITY") if k in os.environ}
    try:
        spec = json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
        server = _Server((0, out.fileno()), ProviderSpec(**spec) if spec else None)
        server.gui_env = gui_env if "DISPLAY" in gui_env else {}
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
                _send(out, reply("error", "malformed request"))
                continue
            _send(out, server.handle(request))
            server.prepare()  # fork the next spare while the parent reads the reply
    finally:
        server.discard_spare()


def _send(out, message: dict) -> None:
    out.write(json.dumps(message).encode() + b"\n")


class _Server:
    """Owns the warm World and pose provider; keeps one forked spare run waiting."""

    def __init__(self, proto_fds: tuple[int, ...], provider: ProviderSpec | None = None) -> None:
        import numpy  # noqa: F401 - warm import, inherited by every child
        import numpy.fft  # noqa: F401
        import numpy.linalg  # noqa: F401
        import numpy.random  # noqa: F401
        import PIL.GifImagePlugin  # noqa: F401 - recording encodes GIFs
        import PIL.Image  # noqa: F401

        from sim import errors, geometry, goals, poses, primitives  # noqa: F401 - robot imports these lazily
        from sim.families import FAMILIES, task_class
        from sim.goals import plan  # noqa: F401 - the robot's plan() runs it in a run's process
        from sim.runner import reset_task
        from sim.scenes import Layout, place
        from sim.world import World
        from skills import poses as skill_poses  # noqa: F401
        from skills.robot import Robot

        self.proto_fds = proto_fds
        self.world = World()
        self.World = World  # a run's trusted process builds a GUI World of its own (--gui)
        self.gui_env: dict[str, str] = {}
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
        self.lockdown = Lockdown(python_dirs())
        gc.collect()
        gc.freeze()  # children then leave the warm objects' pages shared (fewer copy-on-write faults)
        self.spare: tuple[int, int, int] | None = None  # (pid, request fd, reply fd)
        self.zombies: list[int] = []

    def prepare(self) -> None:
        """Fork a spare that waits for the next request; reap runs that have exited."""
        if self.spare is None:
            self.spare = self._fork_spare()
        self.zombies = [pid for pid in self.zombies if not reaped(pid, block=False)]

    def discard_spare(self) -> None:
        """Kill the spare and reap every child (the server is exiting)."""
        if self.spare is not None:
            pid, req_w, reply_r = self.spare
            self.spare = None
            os.close(req_w)
            os.close(reply_r)
            wait(pid, 0, kill=True)
        for pid in self.zombies:
            reaped(pid, block=True)
        self.zombies = []

    def _fork_spare(self) -> tuple[int, int, int]:
        req_r, req_w = os.pipe()
        reply_r, reply_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the run's trusted process never returns
            try:
                os.close(req_w)
                os.close(reply_r)
                run_spare(self, req_r, reply_w)
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
            return reply("error", "malformed request")
        scene = req.get("scene")
        if scene is not None and not isinstance(req.get("goal"), str):
            return reply("error", "a scene given by its layout needs a goal")
        if scene is None and req.get("family") not in self.families:
            return reply(
                "error", f"task family {req.get('family')!r} is not available in the sandbox"
            )
        if self.spare is None:
            self.spare = self._fork_spare()
        (pid, req_w, reply_r), self.spare = self.spare, None
        deadline = time.monotonic() + timeout
        try:
            try:
                write_all(req_w, json.dumps(req | {"deadline": deadline}).encode())
            except OSError:
                pass  # the spare died: its exit status says how
            finally:
                os.close(req_w)
            # The perception is this server's to say; the run only counts the calls.
            reply_ = self._collect(pid, reply_r, deadline + BACKSTOP_S, cap)
            reply_ |= {"perception": self.provider.name}
        finally:
            os.close(reply_r)
        return reply_ | self.judge(req, reply_.get("objects"))

    def judge(self, req: dict, objects) -> dict:
        """The verdict, from the end state the run's trusted process read from its own
        simulator: neither process runs skill code."""
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
        """Read the run's one-line reply (capped), killing it at the backstop deadline."""
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
            self.zombies.append(pid)  # it ends its skill process and exits; reaped in prepare()
            return parse_run_reply(bytes(data))
        status = wait(pid, deadline, kill=timed_out or too_big)
        if status is None:  # closed its pipe but kept running: out of time
            timed_out = True
            status = wait(pid, deadline, kill=True)
        if timed_out:
            return reply("timeout", "wall-clock time limit exceeded (killed)")
        if too_big:
            return reply("error", "the sandbox run sent an oversized reply (killed)")
        return reply(*exit_reason(status))
