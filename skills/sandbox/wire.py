"""The sandbox's wire formats: frames between a skill process and its robot, and the
one-line reply a run's trusted process gives the fork server.

Between the skill process (untrusted) and the trusted process that holds the simulator,
every message is one frame: a 4-byte big-endian length, then that many bytes of a JSON
object. The trusted side reads with a size cap and a deadline and checks every field, as
hostile input (`ProtocolError` for anything else):

- trusted → skill: `{"go": {...}}` once (the code, entry, params and limits), then one
  answer per call: `{"ok": value}` or `{"err": [class name, [args]]}`;
- skill → trusted: `{"call": method, "args": [values], "kwargs": {name: value}}` or, last,
  `{"done": {"status", "reason", "output", "layers"}}`.

Values: JSON null, booleans, numbers, strings and lists as themselves; everything else a
one-key object: `{"t": [...]}` a tuple, `{"a": [numbers]}` a 1-D numpy array, `{"d":
[[key, value], ...]}` a dict, `{"o": [index, description]}` an object handle, `{"x":
type name}` a value that cannot cross (the robot sees a placeholder of that type name,
which it refuses as it would the original).
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import time
from typing import Any

import numpy as np

from skills.errors import SkillError
from skills.robot import Obj
from skills.sandbox.procs import write_all
from skills.sandbox.result import RECORD_CAP

MAX_DEPTH = 8  # nesting of one value
MAX_ITEMS = 4096  # values in one message
MAX_STR = 10_000  # characters of one string
MAX_ARRAY = 64  # elements of a numpy array argument

_TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")


class ProtocolError(Exception):
    """A message that breaks the protocol (from a skill process that escaped Python)."""


class WireError(SkillError):
    """A value a robot call cannot carry (too large or too deep)."""


class Channel:
    """Framed JSON messages over a pair of pipe file descriptors."""

    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd, self.wfd = rfd, wfd

    def send(self, msg: dict, deadline: float | None = None) -> None:
        body = json.dumps(msg, separators=(",", ":")).encode()
        write_all(self.wfd, len(body).to_bytes(4, "big") + body, deadline)

    def recv(self, cap: int, deadline: float | None = None) -> dict:
        """One message of at most `cap` bytes. Raises ProtocolError, EOFError, TimeoutError."""
        size = int.from_bytes(self._read(4, deadline), "big")
        if size > cap:
            raise ProtocolError(f"a message of {size} bytes (at most {cap})")
        try:
            msg = json.loads(self._read(size, deadline))
        except (ValueError, RecursionError):
            raise ProtocolError("a message that is not JSON") from None
        if not isinstance(msg, dict):
            raise ProtocolError("a message that is not a JSON object")
        return msg

    def _read(self, n: int, deadline: float | None) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no message before the deadline")
                if not select.select([self.rfd], [], [], left)[0]:
                    continue
            chunk = os.read(self.rfd, min(n - len(buf), 1 << 16))
            if not chunk:
                raise EOFError("the other end closed the channel")
            buf += chunk
        return bytes(buf)


# -- values ---------------------------------------------------------------------------------
def encode(value: Any) -> Any:
    """`value` as plain JSON (see the module docstring). Raises WireError if too large."""
    return _encode(value, 0, [MAX_ITEMS])


def _encode(v: Any, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise WireError("robot call arguments are too large or too deeply nested")
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, float):
        return float(v)
    if isinstance(v, int):
        if not -(2**63) <= v < 2**63:
            raise WireError("a number too large for a robot call")
        return int(v)
    if isinstance(v, str):
        if len(v) > MAX_STR:
            raise WireError(f"a string longer than {MAX_STR} characters in a robot call")
        return str(v)
    if isinstance(v, Obj):
        return {"o": [v._key, v.description]}
    if isinstance(v, list | tuple):
        items = [_encode(x, depth + 1, budget) for x in v]
        return items if isinstance(v, list) else {"t": items}
    if isinstance(v, dict):
        return {
            "d": [
                [_encode(k, depth + 1, budget), _encode(x, depth + 1, budget)] for k, x in v.items()
            ]
        }
    if isinstance(v, np.ndarray):
        if v.ndim == 1 and v.size <= MAX_ARRAY and v.dtype.kind in "biuf":
            return {"a": [_encode(x, depth + 1, budget) for x in v.tolist()]}
        return {"x": "ndarray"}
    if isinstance(v, np.generic):
        return _encode(v.item(), depth, budget)
    return {"x": type(v).__name__[:64]}


def decode(v: Any, objects: list[str] | None = None) -> Any:
    """A value from its JSON form, checked field by field (ProtocolError if malformed).

    Args:
        v: the JSON form.
        objects: the scene's object descriptions, by handle index (the trusted side: a
            handle must name one of them, and its description is taken from here); None
            to take handles as they come (the skill side, reading the trusted side).
    """
    return _decode(v, objects, 0, [MAX_ITEMS])


def _decode(v: Any, objects: list[str] | None, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise ProtocolError("a value too large or too deeply nested")
    if v is None or isinstance(v, bool | float):
        return v
    if isinstance(v, int):
        if not -(2**63) <= v < 2**63:
            raise ProtocolError("an integer out of range")
        return v
    if isinstance(v, str):
        if len(v) > MAX_STR:
            raise ProtocolError("a string too long")
        return v
    if isinstance(v, list):
        return [_decode(x, objects, depth + 1, budget) for x in v]
    if not (isinstance(v, dict) and len(v) == 1):
        raise ProtocolError("a value of unknown form")
    ((tag, body),) = v.items()
    if tag == "t" and isinstance(body, list):
        return tuple(_decode(x, objects, depth + 1, budget) for x in body)
    if tag == "a" and isinstance(body, list) and len(body) <= MAX_ARRAY and all(map(_num, body)):
        return np.asarray(body)
    if tag == "d" and isinstance(body, list):
        pairs = [_pair(p, objects, depth + 1, budget) for p in body]
        return dict(pairs)
    if tag == "o":
        return _handle(body, objects)
    if tag == "x" and isinstance(body, str) and _TYPE_NAME.match(body):
        return _placeholder(body)
    raise ProtocolError(f"a value of unknown form {tag!r}")


def _pair(p: Any, objects: list[str] | None, depth: int, budget: list[int]) -> tuple:
    if not (isinstance(p, list) and len(p) == 2):
        raise ProtocolError("a dict item that is not a [key, value] pair")
    key = _decode(p[0], objects, depth, budget)
    try:
        hash(key)
    except TypeError:
        raise ProtocolError("a dict key that cannot be hashed") from None
    return key, _decode(p[1], objects, depth, budget)


def _handle(body: Any, objects: list[str] | None) -> Obj:
    ok = (
        isinstance(body, list)
        and len(body) == 2
        and isinstance(body[0], int)
        and not isinstance(body[0], bool)
        and isinstance(body[1], str)
    )
    if not ok:
        raise ProtocolError("a malformed object handle")
    key, description = body
    if objects is None:
        return Obj(description, key)
    if not 0 <= key < len(objects):
        raise ProtocolError(f"an object handle {key} that is not in the scene")
    return Obj(objects[key], key)


_PLACEHOLDERS: dict[str, type] = {}


def _placeholder(name: str) -> object:
    """An instance of an empty class called `name`: what the robot sees of a value that
    could not cross (it refuses it by its type name, as it would the original)."""
    cls = _PLACEHOLDERS.get(name)
    if cls is None:
        cls = type(name, (), {"__slots__": (), "__repr__": lambda self: f"<{name}>"})
        if len(_PLACEHOLDERS) < 256:
            _PLACEHOLDERS[name] = cls
    return cls()


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


# -- messages from the skill process ----------------------------------------------------------
def check_call(msg: dict, methods: frozenset[str], objects: list[str]) -> tuple[str, list, dict]:
    """(method, args, kwargs) of a call message, every part checked."""
    name, args, kwargs = msg.get("call"), msg.get("args"), msg.get("kwargs")
    if set(msg) != {"call", "args", "kwargs"}:
        raise ProtocolError("a message that is neither a call nor the end")
    if not isinstance(name, str) or name not in methods:
        raise ProtocolError(f"a call of {str(name)[:40]!r}, which the robot does not offer")
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ProtocolError("call arguments of the wrong form")
    if not all(isinstance(k, str) and _TYPE_NAME.match(k) for k in kwargs):
        raise ProtocolError("a keyword argument name that is not an identifier")
    budget = [MAX_ITEMS]
    return (
        name,
        [_decode(a, objects, 1, budget) for a in args],
        {k: _decode(v, objects, 1, budget) for k, v in kwargs.items()},
    )


def check_done(msg: dict, output_limit: int) -> dict:
    """The skill process's last message: {"status", "reason", "output", "layers"}."""
    done = msg.get("done")
    ok = (
        set(msg) == {"done"}
        and isinstance(done, dict)
        and set(done) == {"status", "reason", "output", "layers"}
        and done["status"] in ("ok", "error")
        and isinstance(done.get("reason"), str | None)
        and isinstance(done.get("output"), str)
        and isinstance(done.get("layers"), list)
        and len(done["layers"]) <= 16
        and all(isinstance(x, str) and len(x) <= 64 for x in done["layers"])
    )
    if not ok:
        raise ProtocolError("a malformed end message")
    output = done["output"]
    if len(output) > output_limit + 40:
        output = output[:output_limit] + "\n[output truncated]"
    reason = done["reason"]
    return {
        "status": done["status"],
        "reason": reason[:1000] if reason else None,
        "output": output,
        "layers": list(done["layers"]),
    }


# -- the run's reply to the fork server -------------------------------------------------------
def reply(
    status: str, reason: str | None, success: bool = False, output: str = "", layers=()
) -> dict:
    """The fields every reply carries."""
    return {
        "status": status,
        "reason": reason,
        "success": success,
        "output": output,
        "layers": list(layers),
    }


FALLBACK = (
    b'{"status": "error", "reason": "the run could not report its result", "success": false,'
    b' "output": "", "layers": []}\n'
)


def parse_run_reply(data: bytes) -> dict:
    """The run's one-line reply, every field checked; an error reply if malformed."""
    lines = data.split(b"\n")
    try:
        if len(lines) != 2 or lines[1]:
            raise ValueError("not exactly one line")
        msg = json.loads(lines[0])
        ok = (
            isinstance(msg, dict)
            and msg.get("status") in ("ok", "error", "timeout")
            and isinstance(msg.get("reason"), str | None)
            and isinstance(msg.get("success"), bool)
            and isinstance(msg.get("output"), str)
            and isinstance(msg.get("layers"), list)
            and all(isinstance(x, str) for x in msg["layers"])
        )
        if not ok:
            raise ValueError("unexpected shape")
    except ValueError:
        return reply("error", "the sandbox run ended without a valid result")
    out = reply(msg["status"], msg["reason"], msg["success"], msg["output"], msg["layers"])
    out.update(_record_fields(msg))
    return out


def _record_fields(msg: dict) -> dict:
    """The episode record (GIF as base64, final poses), the end state and the number of
    pose provider calls, each if present and well-formed."""
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
        and all(isinstance(k, str) and _pose(v) for k, v in poses.items())
    ):
        out["poses"] = poses
    objects = msg.get("objects")
    if isinstance(objects, list) and len(objects) <= 64 and all(_object_row(r) for r in objects):
        out["objects"] = objects
    if isinstance(msg.get("trajectory"), dict):  # checked where read (agent.run.replay)
        out["trajectory"] = msg["trajectory"]
    grasps = msg.get("grasps")  # grasps tried on novel kinds: checked where written
    if isinstance(grasps, list) and len(grasps) <= 50 and all(isinstance(g, dict) for g in grasps):
        out["grasps"] = grasps  # (skills.grasps.GraspMemory.record)
    return out


def _object_row(r: Any) -> bool:
    """One well-formed row of the end state (see `sim.goals.State.to_json`)."""
    return (
        isinstance(r, dict)
        and isinstance(r.get("description"), str)
        and len(r["description"]) < 64
        and _pose(r.get("start"))
        and _pose(r.get("end"))
        and _finite(r.get("tilt_deg"))
        and isinstance(r.get("held"), bool)
    )


def _pose(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 4 and all(_finite(x) for x in v)


def _finite(x: Any) -> bool:
    return _num(x) and math.isfinite(x)
