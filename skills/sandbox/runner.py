"""The trusted process of one run: the simulator, the real robot and the pose provider.

The fork server keeps one of these forked as its spare. At once it forks its own skill
process (`skills.sandbox.child`), which waits; then it waits for the request. It builds
the task's scene for the seed (or places a layout), creates the `Robot` and lets the pose
provider prepare for the scene, sends the skill process `go`, and answers its robot calls
(`skills.sandbox.proxy.serve_calls`) until it is done, out of time, or breaks the
protocol. It runs no skill code: the end state it reports to the fork server (every
object's start and end pose, read from its own simulator) is the simulator's, whatever the
skill process wrote. Then it kills the skill process, answers with one JSON line and exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal

from skills.sandbox.child import fork_skill_process
from skills.sandbox.lockdown import die_with_parent
from skills.sandbox.procs import exit_reason, read_all, wait, write_all
from skills.sandbox.proxy import serve_calls
from skills.sandbox.trajectory import Trajectory
from skills.sandbox.wire import FALLBACK, RECORD_CAP, Channel, ProtocolError, reply

RECORD_EVERY = 48  # physics steps between two key frames (5 per simulated second)


class _SkillProcess:
    """This run's skill process: its pid and channel, reaped exactly once."""

    def __init__(self, pid: int, chan: Channel) -> None:
        self.pid, self.chan = pid, chan
        self.status: int | None = None

    def kill(self) -> None:
        """SIGKILL it, if not reaped yet (reaping waits for its teardown: `end`, later)."""
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def end(self) -> None:
        """Kill it (if it still runs) and reap it."""
        if self.status is None:
            self.status = wait(self.pid, 0.0, kill=True)

    def exit_status(self, deadline: float) -> int | None:
        """Its exit status once it has exited, or None if it outlives the deadline (killed)."""
        if self.status is None:
            status = wait(self.pid, deadline, kill=False)
            if status is None:
                self.end()
                return None
            self.status = status
        return self.status


def run_spare(server, req_fd: int, reply_fd: int) -> None:
    """A forked spare: fork the skill process, wait for the request, run it, reply, exit."""
    die_with_parent()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in server.proto_fds:  # neither process of a run may talk to the parent
        if fd == 0:
            os.dup2(devnull, 0)
        else:
            os.close(fd)
    os.close(devnull)
    skill = _SkillProcess(*fork_skill_process(server.lockdown))
    payload = b""
    try:
        request = read_all(req_fd)
        os.close(req_fd)
        if request:  # empty: the server is exiting and drops its spare
            payload = json.dumps(_run(server, json.loads(request), skill)).encode() + b"\n"
    except BaseException:
        payload = FALLBACK
    try:
        skill.kill()
        if payload:
            write_all(reply_fd, payload)
    finally:
        skill.end()  # after the reply: a killed process's teardown takes milliseconds
        os._exit(0)


def _run(server, req: dict, skill: _SkillProcess) -> dict:
    """Build the scene, drive the skill process, read the end state: the reply's fields."""
    status, reason, output, layers = "error", None, "", []
    frames, objects, robot, task = None, None, None, None
    try:
        if server.gui_env:  # run --gui
            _show_in_gui(server)
        if req.get("scene") is not None:
            server.place_layout(server.world, req["scene"])
            params = req.get("params") or {}
        else:
            task = server.reset_task(server.world, req["family"], int(req["seed"]))
            params = req["params"] if req.get("params") is not None else dict(task.params)
        start = server.goals.start_poses(server.world)
        robot = server.Robot(
            server.world, server.provider, int(req["seed"]), start, req.get("grasps")
        )
        if server.prepare_scene is not None:
            server.prepare_scene(server.world)
        if req.get("record"):
            goal = req.get("goal") or (task.goal_text() if task is not None else None)
            frames = _start_recording(
                server.world, Trajectory(server.world, server.goals, goal, start)
            )
        status, reason, output, layers, finished = _drive(skill, robot, req, params)
        if finished:  # the skill process ended its run itself: the end state counts
            try:
                objects = server.goals.read_world(server.world, start).to_json()
            except Exception as exc:
                status = "error"
                reason = f"reading the end state failed: {type(exc).__name__}: {exc}"
    except BaseException as exc:  # the sandbox's own failure (scene, provider)
        status, reason = "error", f"sandbox: {type(exc).__name__}: {exc}"
    skill.kill()
    record = {
        "pose_calls": _calls(server.provider),
        "objects": objects,
        "calls": robot._calls() if robot is not None else [],
        "grasps": robot._grasper.outcomes if robot is not None else [],  # the parent writes them
    }
    if frames is not None:
        record |= _finish_recording(server.world, frames)
        if objects is not None:  # the recorded final poses: the end state already read
            record["poses"] = {o["description"]: o["end"] for o in objects}
    return reply(status, (reason or "")[:1000] or None, False, output, layers) | record


def _drive(skill: _SkillProcess, robot, req: dict, params: dict) -> tuple:
    """Run the skill process to its end: (status, reason, output, layers, finished)."""
    deadline = float(req["deadline"])
    limit = int(req.get("output_limit", 16_000))
    go = {
        "code": req["code"],
        "entry": req["entry"],
        "params": params,
        "timeout": float(req["timeout"]),
        "memory_mb": int(req.get("memory_mb", 1024)),
        "output_limit": limit,
        "cwd": req.get("cwd"),
    }
    try:
        skill.chan.send({"go": go}, deadline)
        done = serve_calls(robot, skill.chan, deadline, limit)
    except TimeoutError:
        skill.kill()
        return "timeout", "wall-clock time limit exceeded (killed)", "", [], False
    except ProtocolError as exc:
        skill.kill()
        return "error", f"the skill process broke the robot protocol ({exc}): killed", "", [], False
    except (EOFError, OSError):  # it exited or was killed (seccomp, CPU limit...)
        status = skill.exit_status(deadline)
        if status is None:
            return "timeout", "wall-clock time limit exceeded (killed)", "", [], False
        return *exit_reason(status), "", [], False
    skill.kill()  # it has said all it may say
    return done["status"], done["reason"], done["output"], done["layers"], True


def _show_in_gui(server) -> None:
    """Swap this process's copy of the server's World for one in PyBullet's GUI.

    A GUI connection (its threads, its X connection) cannot cross a fork, so the run's
    trusted process opens its own, after its skill process was forked: only this process
    gets the display back (the server took it out of the environment), and the skill
    process's lockdown is the same as in any run."""
    os.environ.update(server.gui_env)
    server.world = server.World(gui=True, check_display=False)


def _calls(provider) -> int:
    calls = getattr(provider, "calls", 0)
    return calls if isinstance(calls, int) else 0


class _Frames(list):
    """Key frames, and the trajectory sampled at each (`skills.sandbox.trajectory`)."""

    trajectory: Trajectory


def _start_recording(world, trajectory: Trajectory) -> _Frames:
    """Record front-camera key frames, and the trajectory, while the skill runs."""
    frames = _Frames([world.render("front")[0]])
    frames.trajectory = trajectory
    trajectory.sample()

    def record(w) -> None:
        frames.append(w.render("front")[0])
        trajectory.sample()

    world.record_every = RECORD_EVERY
    world.recorder = record
    return frames


def _finish_recording(world, frames: _Frames) -> dict:
    """The frames as a base64 GIF (thinned to fit) and the trajectory sampled with them."""
    import base64
    import io

    from PIL import Image

    world.recorder = None
    try:
        frames.append(world.render("front")[0])
        frames.trajectory.sample()
        step = max(1, len(frames) // 150)
        images = [Image.fromarray(f) for f in frames[::step]] + [Image.fromarray(frames[-1])] * 3
        buf = io.BytesIO()
        images[0].save(
            buf, format="GIF", save_all=True, append_images=images[1:], duration=200, loop=0
        )
        gif = base64.b64encode(buf.getvalue()).decode()
        traj = frames.trajectory.to_json(step)
        if traj is not None and len(gif) + len(json.dumps(traj)) <= RECORD_CAP:
            return {"gif": gif, "trajectory": traj}
        return {"gif": gif} if len(gif) <= RECORD_CAP else {}
    except Exception:  # a record is a bonus: never let it spoil the result
        return {}
