"""What a sandboxed run gives back: `SandboxResult`, built from the worker's reply."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("ok", "rejected", "error", "timeout")
RECORD_CAP = 4_000_000  # base64 characters of GIF a recorded run may bring back


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
        trajectory: with `record=True`, poses, gripper and atom truths per key frame
            (`skills.sandbox.trajectory`).
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
    trajectory: dict | None = field(default=None, repr=False)


def result_from_reply(msg: dict, seconds: float) -> SandboxResult:
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
        msg["trajectory"] if isinstance(msg.get("trajectory"), dict) else None,
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
