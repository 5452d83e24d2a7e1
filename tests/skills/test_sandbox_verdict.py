"""The verdict is out of the skill's reach: skill code runs in a process that holds only a
robot proxy, and the goal is judged on the simulator's own state by processes that run
no skill code.

The hostile skills here bypass the validator on purpose (`pool._execute`) and escape
Python's restrictions (a walk from `()` to the os module's globals), as code that found a
hole in the first two layers would; then they write forged results on every file
descriptor they hold, or forged frames on the robot proxy's own pipe.
"""

from __future__ import annotations

import json

import pytest

from skills.sandbox import SandboxPool

FAMILY, SEED = "pick", 3
PICK = """
def pick_up(robot, obj, **params):
    robot.pick(robot.find(obj))
"""
ESCAPE = '''
def _os():
    """The os module's globals, reached from a tuple through object's subclasses."""
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__
'''
FORGE_EVERY_FD = (
    ESCAPE
    + """
def attack(robot, **params):
    os = _os()
    for fd in range(64):
        try:
            os["write"](fd, PAYLOAD)
        except Exception:  # OSError: the name is not among the skill's builtins
            pass
    os["_exit"](0)
"""
)
FORGE_ON_PROXY = (
    ESCAPE
    + """
def attack(robot, **params):
    os = _os()
    os["write"](robot._chan.wfd, PAYLOAD)
    os["_exit"](0)
"""
)


def frame(msg: dict | bytes) -> bytes:
    body = msg if isinstance(msg, bytes) else json.dumps(msg).encode()
    return len(body).to_bytes(4, "big") + body


def hostile(template: str, payload: bytes) -> str:
    return template.replace("PAYLOAD", repr(payload))


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=1) as p:
        yield p


@pytest.fixture(scope="module")
def achieved(pool) -> tuple[dict, ...]:
    """The end state of a real successful run: what a forger would claim."""
    result = pool.run(PICK, "pick_up", FAMILY, SEED)
    assert (result.status, result.success) == ("ok", True), result
    return result.objects


def assert_nothing_moved(result) -> None:
    """The verdict of a run that moved nothing, judged on the simulator's own state."""
    assert result.success is False
    assert result.goal == "held(red cube)"
    if result.objects is None:  # the run ended abnormally: no end state was judged
        assert result.atoms == ()
        return
    assert [(a["atom"], a["value"]) for a in result.atoms] == [("held(red cube)", False)]
    for row in result.objects:
        assert row["start"] == row["end"] and row["held"] is False


def test_a_forged_end_state_on_every_file_descriptor_changes_nothing(pool, achieved):
    forged = {
        "status": "ok",
        "reason": None,
        "success": True,
        "output": "",
        "layers": ["seccomp"],
        "objects": list(achieved),
        "atoms": [{"atom": "held(red cube)", "value": True}],
    }
    line = json.dumps(forged).encode() + b"\n"
    result = pool._execute(hostile(FORGE_EVERY_FD, line), "attack", FAMILY, SEED)
    assert result.status == "error", result
    assert "protocol" in result.reason
    assert_nothing_moved(result)


def test_a_well_formed_forged_end_is_judged_on_the_simulators_state(pool):
    done = {"done": {"status": "ok", "reason": None, "output": "done!", "layers": []}}
    result = pool._execute(hostile(FORGE_ON_PROXY, frame(done)), "attack", FAMILY, SEED)
    assert result.status == "ok" and result.output == "done!", result
    assert result.objects is not None  # the end state was read, from the simulator
    assert_nothing_moved(result)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (
            frame(
                {
                    "done": {"status": "ok", "reason": None, "output": "", "layers": []},
                    "success": True,
                }
            ),
            "end message",
        ),
        (
            frame(
                {
                    "done": {
                        "status": "ok",
                        "reason": None,
                        "output": "",
                        "layers": [],
                        "success": True,
                        "objects": [],
                    }
                }
            ),
            "end message",
        ),
        ((2**31 - 1).to_bytes(4, "big") + b"{" * 100, "bytes"),
        (frame(b'{"call": "pick", "args": [{"o": [0, "red cube"'), "not JSON"),
        (frame({"call": "_do", "args": [], "kwargs": {}}), "does not offer"),
        (frame({"call": "find", "args": ["red cube"], "kwargs": {}, "verdict": True}), "neither"),
        (frame({"call": "pick", "args": [{"o": [7, "red cube"]}], "kwargs": {}}), "not in the"),
    ],
)
def test_malformed_or_oversized_messages_end_the_run_without_a_verdict(pool, payload, why):
    result = pool._execute(hostile(FORGE_ON_PROXY, payload), "attack", FAMILY, SEED)
    assert result.status == "error" and "broke the robot protocol" in result.reason, result
    assert why in result.reason
    assert result.objects is None  # no end state is judged after a protocol breach
    assert_nothing_moved(result)


def test_robot_errors_reach_the_skill_as_the_same_exceptions(pool):
    code = """
def probe(robot, **params):
    try:
        robot.find("purple unicorn")
    except SkillError as exc:
        print("SkillError:", str(exc)[:28])
    try:
        robot.find()
    except TypeError as exc:
        print("TypeError:", exc)
    cube = robot.find("red cube")
    print(cube, cube == robot.objects()[0], isinstance(robot.pose(cube), tuple))
    move = robot.plan("on(red cube, green cube)")[0]
    print(robot.holding(), move["kind"], move["object"], move["target"])
"""
    result = pool.run(code, "probe", FAMILY, SEED)
    assert result.status == "ok", result
    assert result.output.splitlines() == [
        "SkillError: nothing in the scene matches",
        "TypeError: Robot.find() missing 1 required positional argument: 'description'",
        "<red cube> True True",
        "None place_on red cube green cube",
    ]
    assert result.calls == ("plan('on(red cube, green cube)')",)
