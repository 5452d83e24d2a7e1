"""The skill process: the only process that runs skill code, holding nothing but a robot proxy.

The trusted process of a run forks it before the request arrives (`fork_skill_process`).
It closes every file descriptor but its channel to the trusted process (and the Landlock
ruleset it is about to apply), and waits for the `go` message. Then it locks itself down
(`skills.sandbox.lockdown`), executes the (already validated) skill with a restricted set
of builtins whose `__import__` allows only math and numpy, calls the entry function with
a `RobotProxy`, and sends `done` with its status, the error if any, and what it printed
(capped). It never sees the simulator: whatever it writes on its channel is checked by
the trusted side, and the verdict is computed there from the simulator's own state.
"""

from __future__ import annotations

import builtins
import os
import sys
import traceback

from skills.errors import SkillError
from skills.sandbox.lockdown import Lockdown, die_with_parent
from skills.sandbox.procs import close_fds_except
from skills.sandbox.proxy import RobotProxy
from skills.sandbox.wire import Channel
from skills.validate import ALLOWED_MODULES, attr_allowed

GO_CAP = 1 << 24  # bytes of the go message (code and params; from the trusted side)

SAFE_BUILTIN_NAMES = (
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


def fork_skill_process(lockdown: Lockdown) -> tuple[int, Channel]:
    """Fork the skill process; it waits for `go`. Returns (pid, channel to it)."""
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the skill process never returns
        try:
            die_with_parent()
            keep = {to_r, from_w} | ({lockdown.ruleset[0]} if lockdown.ruleset else set())
            close_fds_except(keep)  # no way back to the fork server or the parent
            _skill_main(lockdown, Channel(to_r, from_w))
        finally:
            os._exit(70)
    os.close(to_r)
    os.close(from_w)
    os.set_blocking(to_w, False)  # the trusted side writes with a deadline
    return pid, Channel(from_r, to_w)


def _skill_main(lockdown: Lockdown, chan: Channel) -> None:
    """Wait for the run, lock down, run the skill, say `done`, exit."""
    try:
        go = chan.recv(GO_CAP)["go"]
    except BaseException:  # the run was dropped before it began
        os._exit(0)
    capture = _Capture(int(go["output_limit"]))
    sys.stdout = sys.stderr = capture
    status, reason, layers = "error", None, []
    try:
        try:
            os.chdir(go.get("cwd") or "/")
        except OSError:
            os.chdir("/")
        layers = lockdown.apply(float(go["timeout"]), int(go["memory_mb"]))
        status, reason = _run_skill(
            go["code"], go["entry"], RobotProxy(chan), go["params"], capture
        )
    except BaseException as exc:  # the sandbox's own failure (the lockdown)
        reason = f"sandbox: {type(exc).__name__}: {exc}"
    done = {"status": status, "reason": (reason or "")[:1000] or None, "layers": layers}
    try:
        chan.send({"done": done | {"output": capture.text()}})
    finally:
        os._exit(0)


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
    safe = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}

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
