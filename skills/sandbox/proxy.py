"""The robot proxy: the only robot a skill process holds, and the trusted loop behind it.

Skill code gets a `RobotProxy`: it has every public method of `skills.robot.Robot`, and
each sends `(method, args, kwargs)` over the skill process's channel and waits for the
answer. The trusted process (which holds the World, the real `Robot` and the pose
provider, and runs no skill code) runs `serve_calls`: it checks each call as hostile
input (`skills.sandbox.wire`), runs it on the real Robot (which keeps its own limits on
motions and plans, and the call log), and answers with the plain result or the exception
the Robot raised (same class and message, so `except SkillError` works as before).
"""

from __future__ import annotations

from typing import Any

from skills.errors import SkillError
from skills.robot import Robot
from skills.sandbox.wire import (
    Channel,
    ProtocolError,
    WireError,
    check_call,
    check_done,
    decode,
    encode,
)

MAX_CALLS = 10_000  # robot calls one skill run may make (perception included)
RESULT_CAP = 1 << 20  # bytes of one answer the skill process accepts
METHODS = frozenset(
    name for name, v in vars(Robot).items() if not name.startswith("_") and callable(v)
)
# Exceptions that cross back as themselves; any other arrives as RuntimeError("Name: ...").
_ERRORS: dict[str, type[BaseException]] = {"SkillError": SkillError} | {
    cls.__name__: cls
    for cls in (
        ArithmeticError,
        AssertionError,
        AttributeError,
        FloatingPointError,
        IndexError,
        KeyError,
        LookupError,
        MemoryError,
        NotImplementedError,
        OverflowError,
        RecursionError,
        RuntimeError,
        TypeError,
        ValueError,
        ZeroDivisionError,
    )
}


class RobotProxy:
    """The robot as the skill process sees it (see `skills.robot.Robot` for each method)."""

    __slots__ = ("_chan",)

    def __init__(self, chan: Channel) -> None:
        self._chan = chan

    def _call(self, name: str, args: tuple, kwargs: dict) -> Any:
        message = {
            "call": name,
            "args": [encode(a) for a in args],
            "kwargs": {k: encode(v) for k, v in kwargs.items()},
        }
        try:
            self._chan.send(message)
            answer = self._chan.recv(RESULT_CAP)
        except (OSError, EOFError, ProtocolError):
            raise SystemExit("the robot is gone") from None  # the trusted side ended the run
        if "ok" in answer:
            return decode(answer["ok"])
        name, args = answer["err"]
        raise _ERRORS.get(name, RuntimeError)(*args)


def _method(name: str):
    def call(self, *args, **kwargs):
        return self._call(name, args, kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = getattr(Robot, name).__doc__
    return call


for _name in sorted(METHODS):
    setattr(RobotProxy, _name, _method(_name))
RobotProxy.__name__ = RobotProxy.__qualname__ = "Robot"  # what error messages call it


def serve_calls(robot: Robot, chan: Channel, deadline: float, output_limit: int) -> dict:
    """Answer the skill process's robot calls until it says it is done.

    Args:
        robot: the real robot, on this process's World.
        chan: the channel to the skill process.
        deadline: `time.monotonic()` time at which the run is out of time.
        output_limit: characters of printed output the run keeps.

    Returns:
        The end message: {"status", "reason", "output", "layers"}.

    Raises:
        ProtocolError: a message that is malformed, oversized or not allowed.
        EOFError: the skill process closed its channel (it exited or was killed).
        TimeoutError: the deadline passed.
    """
    objects = [o.description for o in robot._world.objects]
    cap = max(8 * output_limit + 65_536, 1 << 16)  # the end message carries the output
    calls = 0
    while True:
        msg = chan.recv(cap, deadline)
        if "done" in msg:
            return check_done(msg, output_limit)
        name, args, kwargs = check_call(msg, METHODS, objects)
        calls += 1
        if calls > MAX_CALLS:
            answer = _error(SkillError(f"too many robot calls (more than {MAX_CALLS}) in one run"))
        else:
            try:
                answer = {"ok": encode(getattr(robot, name)(*args, **kwargs))}
            except WireError as exc:
                answer = _error(SkillError(str(exc)))
            except Exception as exc:  # the skill's to see, as if it had called the robot itself
                answer = _error(exc)
        chan.send(answer, deadline)


def _error(exc: BaseException) -> dict:
    """An exception as it crosses: the nearest class the skill side knows, and its args."""
    cls = next(
        (c for c in type(exc).__mro__ if _ERRORS.get(c.__name__) is c),
        None,
    )
    name = cls.__name__ if cls is not None else "RuntimeError"
    plain = all(isinstance(a, str | int | float | None) for a in exc.args)
    args = list(exc.args) if plain and len(repr(exc.args)) <= 2000 else [str(exc)[:2000]]
    if cls is None:
        args = [f"{type(exc).__name__}: {str(exc)[:2000]}"]
    return {"err": [name, args]}
