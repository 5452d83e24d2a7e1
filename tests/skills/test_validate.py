"""The AST allow-list: what skills may write, and a precise one-line reason for the rest."""

from __future__ import annotations

import builtins
import math
import types
from collections import deque

import numpy as np
import pytest

from skills.errors import SkillError
from skills.validate import ALLOWED_MODULES, DENIED_NAMES, Validated, attr_allowed, validate

GOOD = '''"""Stack two blocks."""

import math
import numpy as np
from numpy.linalg import norm
from math import pi as PI


def _gap(a, b):
    return float(norm(np.array(a[:2]) - np.array(b[:2])))


def lift(robot, obj, height=0.1, *, tries=2):
    x, y, z, yaw = robot.pose(obj)
    robot.move_to((x, y, z + height), yaw=yaw)


def stack(robot, top, base, **params):
    """Entry."""
    t, b = robot.find(top), robot.find(base)
    best = min((o for o in robot.objects()), key=lambda o: _gap(robot.pose(o), robot.pose(t)))
    squares = {i: i * i for i in range(3)}
    match params.get("mode", "place"):
        case "place" | "put":
            pass
        case {"kind": kind}:
            print(kind)
        case [first, *rest]:
            print(first, rest)
        case _:
            pass
    try:
        robot.place_on(t, b)
    except SkillError as exc:
        print(f"failed: {exc!r} {math.degrees(PI):.1f} {squares} {best.description}")
        raise
    finally:
        total = 0
        while total < 3:
            total += 1
    if (n := len(robot.objects())) > 10:
        return None
    return [x for x in range(n) if x % 2]
'''


def test_accepts_a_full_featured_skill():
    v = validate(GOOD)
    assert v == Validated(
        entry="stack",
        params=("robot", "top", "base", "**params"),
        functions=("_gap", "lift", "stack"),
        helpers=("_gap", "lift"),
    )


def test_entry_selection():
    assert validate(GOOD, entry="lift").params == ("robot", "obj", "height", "tries")
    assert validate("def _h(x):\n    return x\n\ndef a(robot):\n    pass\n").entry == "a"
    assert validate("def a(robot, x):\n    pass\n\ndef b(robot, **p):\n    pass\n").entry == "b"
    assert validate("def a(robot, *args):\n    pass\n").params == ("robot", "*args")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("def _only(robot):\n    pass\n", "no entry function"),
        ('"""doc"""\nimport math\n', "no entry function"),
        ("def f():\n    pass\n", r"line 1: entry function f\(\) must take the robot"),
    ],
)
def test_missing_entry(code, message):
    with pytest.raises(SkillError, match=message):
        validate(code)


def test_named_entry_must_exist():
    with pytest.raises(SkillError, match=r"no entry function 'go' .*functions: _gap, lift, stack"):
        validate(GOOD, entry="go")


def test_syntax_error_names_the_line():
    with pytest.raises(SkillError, match=r"^syntax error at line 2: "):
        validate("def f(robot):\n    return (\n")


def test_non_text_and_oversized_code():
    with pytest.raises(SkillError, match="must be a string"):
        validate(b"def f(robot): pass")  # type: ignore[arg-type]
    with pytest.raises(SkillError, match="too long"):
        validate("def f(robot):\n    pass\n" + "#" * 200_000)
    with pytest.raises(SkillError, match="NUL"):
        validate("def f(robot):\n    pass\n\x00")


REJECTED = [
    # imports
    ("import os", 1, "import of 'os' is not allowed"),
    ("import numpy.lib", 1, "import of 'numpy.lib' is not allowed"),
    ("from numpy import load", 1, "importing 'load' from numpy is not allowed"),
    ("from numpy import *", 1, "'from numpy import *' is not allowed"),
    ("from . import robot", 1, "import from '.' is not allowed"),
    ("from numpy import _core", 1, "importing '_core' from numpy"),
    ("import math as __builtins__", 1, "dunder names"),
    # module level
    ("x = 1", 1, "module-level Assign statements are not allowed"),
    ("print('hi')", 1, "module-level Expr statements are not allowed"),
    ("if True:\n    pass", 1, "module-level If statements"),
    ("class A:\n    pass", 1, "class definitions are not allowed"),
    ("async def g():\n    pass", 1, "async functions are not allowed"),
    ("@staticmethod\ndef g(robot):\n    pass", 1, "decorators are not allowed"),
    ("def g(robot, x=print()):\n    pass", 1, "default values of g() must be literal constants"),
    ("def g(robot, x: print() = 1):\n    pass", 1, "annotations may only name types"),
    ("def main(robot):\n    pass", 5, "defined twice"),
    # names
    ("def g(robot):\n    return getattr(robot, 'x')", 2, "'getattr' is not allowed"),
    ("def g(robot):\n    return eval('1')", 2, "'eval' is not allowed"),
    ("def g(robot):\n    exec('1')", 2, "'exec' is not allowed"),
    ("def g(robot):\n    open('f')", 2, "'open' is not allowed"),
    ("def g(robot):\n    return type(robot)", 2, "'type' is not allowed"),
    ("def g(robot):\n    return vars()", 2, "'vars' is not allowed"),
    ("def g(robot):\n    return __builtins__", 2, "dunder names"),
    ("def g(robot):\n    return __import__('os')", 2, "dunder names"),
    ("def g(robot, __x=1):\n    pass", 1, "dunder names"),
    # attributes
    (
        "def g(robot):\n    return robot._world",
        2,
        "'_world' is not allowed (names starting with '_' are private)",
    ),
    ("def g(robot):\n    return robot.find('x')._key", 2, "'_key'"),
    ("def g(robot):\n    return robot.pick.__self__", 2, "dunder attributes"),
    ("def g(robot):\n    return ().__class__", 2, "'__class__'"),
    (
        "def g(robot):\n    return '{0._world}'.format(robot)",
        2,
        "'format' is not allowed (format strings",
    ),
    ("def g(robot):\n    return '{r}'.format_map({})", 2, "'format_map'"),
    ("def g(robot):\n    x = (i for i in [1])\n    return x.gi_frame", 3, "'gi_frame'"),
    ("def g(robot):\n    return robot.f_back", 2, "frame, traceback, generator"),
    ("def g(robot):\n    return robot.tb_next", 2, "'tb_next'"),
    ("def g(robot):\n    return robot.co_code", 2, "'co_code'"),
    (
        "import numpy as np\ndef g(robot):\n    return np.random.default_rng.func_globals",
        3,
        "'func_globals'",
    ),
    ("def g(robot):\n    return SkillError.mro()", 2, "'mro'"),
    ("import numpy as np\ndef g(robot):\n    np.save('x', 1)", 3, "'save' is not allowed"),
    ("import numpy as np\ndef g(robot):\n    np.zeros(1).tofile('x')", 3, "'tofile'"),
    ("import numpy as np\ndef g(robot):\n    return np.ctypeslib", 3, "'ctypeslib'"),
    ("import numpy as np\ndef g(robot):\n    return np.ma", 3, "'ma'"),
    ("import numpy as np\ndef g(robot):\n    return np.random.mtrand.operator", 3, "'operator'"),
    ("import numpy as np\ndef g(robot):\n    return np.lib", 3, "'lib'"),
    ("import numpy as np\ndef g(robot):\n    np.test()", 3, "'test'"),
    (
        "import numpy as np\ndef g(robot):\n    np.sctypeDict['float64'] = np.int8",
        3,
        "'sctypeDict'",
    ),
    (
        "import numpy as np\ndef g(robot, b):\n    return np.ndarray((1,), object, b)",
        3,
        "'ndarray'",
    ),
    ("import numpy as np\ndef g(robot):\n    np.zeros(2).resize(9, refcheck=False)", 3, "'resize'"),
    ("import numpy as np\ndef g(robot):\n    np.pi = 3", 3, "assigning or deleting attribute 'pi'"),
    ("def g(robot):\n    del robot.pick", 2, "assigning or deleting attribute"),
    ("def g(robot):\n    print(f'{robot._world}')", 2, "'_world'"),
    # statements
    ("def g(robot):\n    yield 1", 2, "yield is not allowed"),
    ("def g(robot):\n    yield from []", 2, "yield from is not allowed"),
    ("def g(robot):\n    global x", 2, "global statements are not allowed"),
    ("def g(robot):\n    def h():\n        nonlocal robot\n    h()", 3, "nonlocal"),
    ("def g(robot):\n    class B:\n        pass", 2, "class definitions"),
    (
        "def g(robot):\n    match robot:\n        case int(real=r):\n            pass",
        3,
        "class patterns",
    ),
    (
        "def g(robot):\n    match robot:\n        case tuple(a, b):\n            pass",
        3,
        "class patterns",
    ),
    ("def g(robot):\n    lambda r=robot: r._world", 2, "'_world'"),
]


@pytest.mark.parametrize(("code", "line", "message"), REJECTED, ids=[c[2][:40] for c in REJECTED])
def test_rejects_with_line_and_reason(code, line, message):
    full = code + "\n\n\ndef main(robot, **params):\n    pass\n"
    with pytest.raises(SkillError) as info:
        validate(full, entry="main")
    text = str(info.value)
    assert text.startswith(f"line {line}: "), text
    assert message in text, text
    assert "\n" not in text


def test_class_patterns_without_attributes_are_fine():
    validate("def g(robot, **p):\n    match p:\n        case dict():\n            return 1\n")


def test_the_worker_builtins_avoid_every_denied_name():
    from skills.sandbox.child import SAFE_BUILTIN_NAMES as _SAFE_BUILTIN_NAMES

    assert not set(_SAFE_BUILTIN_NAMES) & DENIED_NAMES
    assert not [n for n in _SAFE_BUILTIN_NAMES if n.startswith("_")]


def _reachable(roots: dict, depth: int = 4):
    """Everything reachable from `roots` through attribute names the validator allows."""
    seen: set[int] = set()
    queue = deque((name, obj, 0) for name, obj in roots.items())
    while queue:
        path, obj, d = queue.popleft()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield path, obj
        if d >= depth or isinstance(obj, int | float | complex | str | bytes | bool):
            continue
        try:
            names = dir(obj)
        except Exception:
            continue
        for name in names:
            if attr_allowed(name):
                try:
                    value = getattr(obj, name)
                except Exception:
                    continue
                queue.append((f"{path}.{name}", value, d + 1))


def test_allowed_attributes_lead_nowhere_dangerous(world):
    """Walk numpy, math, arrays, generators, the robot and its handles through allowed names:
    no module but math/numpy's safe parts, no file/ctypes/exec function, no simulator."""
    import numpy.lib.stride_tricks

    from sim.runner import reset_task
    from sim.world import World
    from skills.robot import Robot

    task = reset_task(world, "stack", 1)
    robot = Robot(world)
    safe_modules = set(ALLOWED_MODULES) | {"numpy.lib.scimath"}
    dangerous = {id(getattr(builtins, n)) for n in DENIED_NAMES if hasattr(builtins, n)}
    dangerous |= {id(builtins.__import__)}
    dangerous |= {
        id(getattr(np, n))
        for n in (
            "load",
            "save",
            "savez",
            "savetxt",
            "loadtxt",
            "genfromtxt",
            "fromfile",
            "fromregex",
            "memmap",
            "frombuffer",
        )
    }
    dangerous.add(id(np.lib.npyio.DataSource))
    dangerous |= {
        id(numpy.lib.stride_tricks.as_strided),
        id(np.lib.add_newdoc),
        id(np.ndarray.tofile),
    }
    dangerous |= {id(world), id(world.client), id(task), id(type(robot)), id(World)}
    roots = {
        "np": np,
        "math": math,
        "arrays": [np.zeros((2, 2)), np.zeros(3).flat, np.nditer(np.zeros(2)), np.poly1d([1, 2])],
        "rng": np.random.default_rng(0),
        "numpy_objects": [np.dtype(float), np.errstate(), np.vectorize(abs), np.finfo(float)],
        "robot": robot,
        "obj": robot.find(task.params["top"]),
        "returns": [
            robot.pose(robot.objects()[0]),
            robot.holding(),
            robot.size(robot.objects()[0]),
        ],
        "errors": [SkillError, SkillError("x"), ValueError("x")],
        "gen": (i for i in range(2)),
        "builtin_types": [int, str, list, dict, tuple, set, float, bool, bytes, bytearray, range],
    }
    bad = []
    for path, obj in _reachable(roots, depth=5):
        if isinstance(obj, types.ModuleType) and obj.__name__ not in safe_modules:
            bad.append((path, obj.__name__))
        elif isinstance(obj, dict) and ("__builtins__" in obj or "__import__" in obj):
            bad.append((path, "a module's globals or the builtins"))
        elif id(obj) in dangerous or isinstance(
            obj, types.FrameType | types.CodeType | types.TracebackType
        ):
            bad.append((path, repr(obj)[:60]))
    assert bad == []
