"""The robot proxy's wire: values cross as plain JSON, and the trusted side refuses every
message that is malformed, oversized or asks for what the robot does not offer.

These run the trusted loop (`serve_calls`) in this process on a real World and Robot,
with the test writing the skill process's side of the pipe byte by byte, as a skill
process that escaped Python could.
"""

from __future__ import annotations

import json
import tempfile
import time

import numpy as np
import pytest

from skills.errors import SkillError
from skills.robot import Obj
from skills.sandbox.proxy import MAX_CALLS, METHODS, RobotProxy, serve_calls
from skills.sandbox.wire import (
    Channel,
    ProtocolError,
    WireError,
    check_call,
    check_done,
    decode,
    encode,
)

DONE = {"done": {"status": "ok", "reason": None, "output": "hi\n", "layers": ["rlimits"]}}
SCENE = ["red cube", "blue bowl"]


def frame(msg: dict | bytes) -> bytes:
    body = msg if isinstance(msg, bytes) else json.dumps(msg).encode()
    return len(body).to_bytes(4, "big") + body


def call(name: str, *args, **kwargs) -> dict:
    return {
        "call": name,
        "args": [encode(a) for a in args],
        "kwargs": {k: encode(v) for k, v in kwargs.items()},
    }


@pytest.fixture(scope="module")
def robot():
    from sim.runner import reset_task
    from sim.world import World
    from skills.robot import Robot

    world = World()
    reset_task(world, "pick", 3)
    yield Robot(world)
    world.close()


def serve(robot, data: bytes) -> tuple[dict | BaseException, list[dict]]:
    """Feed `data` as the skill process's bytes; the outcome and every answer sent.

    Both directions go through files (a pipe would fill up with thousands of frames).
    """
    with tempfile.TemporaryFile() as inbox, tempfile.TemporaryFile() as outbox:
        inbox.write(data)
        inbox.flush()
        inbox.seek(0)
        try:
            outcome: dict | BaseException = serve_calls(
                robot, Channel(inbox.fileno(), outbox.fileno()), time.monotonic() + 60, 1000
            )
        except (ProtocolError, EOFError, TimeoutError) as exc:
            outcome = exc
        outbox.seek(0)
        answers, reader = [], Channel(outbox.fileno(), -1)
        while True:
            try:
                answers.append(reader.recv(1 << 20))
            except EOFError:
                break
    return outcome, answers


# -- values ---------------------------------------------------------------------------------
def test_values_cross_as_the_same_python_values():
    cube = Obj("red cube", 0)
    value = [None, True, 3, 0.5, "x", (1.0, 2.0), {"k": cube, 2: [cube]}, cube]
    back = decode(json.loads(json.dumps(encode(value))))
    assert back == value
    assert isinstance(back[5], tuple) and isinstance(back[7], Obj)
    assert back[7].description == "red cube"
    array = decode(encode(np.array([0.4, 0.1, 0.2])))
    assert isinstance(array, np.ndarray) and array.tolist() == [0.4, 0.1, 0.2]
    assert decode(encode(np.float32(2.5))) == 2.5


def test_a_value_that_cannot_cross_arrives_as_a_placeholder_of_its_type():
    placeholder = decode(encode(lambda: 0))
    assert type(placeholder).__name__ == "function"
    assert type(decode(encode(np.zeros((2, 2))))).__name__ == "ndarray"


def test_the_skill_side_refuses_to_send_oversized_arguments():
    with pytest.raises(WireError):
        encode("x" * 20_000)
    with pytest.raises(WireError):
        encode(list(range(5000)))
    with pytest.raises(WireError):
        encode(10**30)
    deep: list = []
    for _ in range(20):
        deep = [deep]
    with pytest.raises(WireError):
        encode(deep)
    assert issubclass(WireError, SkillError)  # a skill catches it like any robot error


@pytest.mark.parametrize(
    "value",
    [
        {"o": [2, "red cube"]},  # not in the scene
        {"o": [-1, "red cube"]},
        {"o": [True, "red cube"]},
        {"o": 0},
        {"q": 1},
        {"t": [1], "a": [1]},
        {"a": ["x"]},
        {"a": [1.0] * 65},
        {"d": [[[1], 2]]},  # unhashable key
        {"d": [[1]]},
        {"x": "no such name!"},
        "s" * 10_001,
        2**70,
    ],
)
def test_the_trusted_side_refuses_malformed_values(value):
    with pytest.raises(ProtocolError):
        decode(value, SCENE)


def test_a_handle_takes_its_description_from_the_scene_not_the_message():
    assert decode({"o": [1, "forged"]}, SCENE) == Obj("blue bowl", 1)
    assert decode({"o": [1, "forged"]}, SCENE).description == "blue bowl"


# -- messages -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "msg",
    [
        {"call": "_do", "args": [], "kwargs": {}},
        {"call": "__init__", "args": [], "kwargs": {}},
        {"call": "_calls", "args": [], "kwargs": {}},
        {"call": "teleport", "args": [], "kwargs": {}},
        {"call": "pick", "args": {}, "kwargs": {}},
        {"call": "pick", "args": [], "kwargs": {"bad key": 1}},
        {"call": "pick", "args": []},
        {"call": "pick", "args": [], "kwargs": {}, "success": True},
    ],
)
def test_calls_outside_the_public_robot_api_are_refused(msg):
    with pytest.raises(ProtocolError):
        check_call(msg, METHODS, SCENE)


def test_the_public_robot_api_is_what_the_proxy_offers():
    assert {"find", "objects", "pose", "pick", "place_on", "plan", "move_to"} <= METHODS
    assert not [m for m in METHODS if m.startswith("_")]
    assert all(callable(getattr(RobotProxy, m)) for m in METHODS)


@pytest.mark.parametrize(
    "done",
    [
        {"status": "ok", "reason": None, "output": "", "layers": [], "success": True},
        {"status": "ok", "reason": None, "output": "", "layers": [], "objects": []},
        {"status": "timeout", "reason": None, "output": "", "layers": []},
        {"status": "ok", "reason": 3, "output": "", "layers": []},
        {"status": "ok", "reason": None, "output": "", "layers": ["x" * 65]},
    ],
)
def test_an_end_message_with_anything_but_its_four_fields_is_refused(done):
    with pytest.raises(ProtocolError):
        check_done({"done": done}, 100)


def test_an_end_message_is_capped_to_the_output_limit():
    done = check_done({"done": {**DONE["done"], "output": "y" * 5000}}, 100)
    assert len(done["output"]) < 200 and done["output"].endswith("[output truncated]")


# -- the trusted loop on a real robot ---------------------------------------------------------
def test_calls_run_on_the_real_robot_and_errors_cross_as_themselves(robot):
    data = (
        frame(call("find", "red cube"))
        + frame(call("find", "purple unicorn"))
        + frame(call("find"))
        + frame(call("pose", (0.1, 0.2)))
        + frame(DONE)
    )
    outcome, answers = serve(robot, data)
    assert outcome == {"status": "ok", "reason": None, "output": "hi\n", "layers": ["rlimits"]}
    cube = decode(answers[0]["ok"])
    assert cube == Obj("red cube", 0) and cube.description == "red cube"
    assert answers[1]["err"][0] == "SkillError" and "purple unicorn" in answers[1]["err"][1][0]
    assert answers[2]["err"][0] == "TypeError" and "description" in answers[2]["err"][1][0]
    assert answers[3]["err"] == ["SkillError", ["expected an object from robot.find(), got tuple"]]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ((2**31).to_bytes(4, "big") + b"{}", "bytes"),  # oversized frame
        (b'{"status": "ok", "success": true}\n', "bytes"),  # the old reply line, raw
        (frame(b"not json"), "not JSON"),
        (frame(b"[1, 2]"), "not a JSON object"),
        (frame({"call": "_world", "args": [], "kwargs": {}}), "does not offer"),
        (frame(call("find", "red cube")) + frame({"done": {"success": True}}), "end message"),
        (
            frame({"call": "pick", "args": [{"o": [99, "red cube"]}], "kwargs": {}}),
            "not in the scene",
        ),
    ],
)
def test_hostile_bytes_end_the_run_with_a_protocol_error(robot, data, why):
    outcome, _ = serve(robot, data)
    assert isinstance(outcome, ProtocolError) and why in str(outcome)


def test_a_closed_channel_is_the_end_not_a_verdict(robot):
    outcome, answers = serve(robot, frame(call("objects"))[:-3])
    assert isinstance(outcome, EOFError) and answers == []


def test_the_number_of_calls_is_limited(robot):
    data = frame(call("holding")) * (MAX_CALLS + 2) + frame(DONE)
    outcome, answers = serve(robot, data)
    assert isinstance(outcome, dict)
    assert [a.get("ok", "x") for a in answers[:MAX_CALLS]] == [None] * MAX_CALLS
    assert all(a["err"][0] == "SkillError" for a in answers[MAX_CALLS:])
    assert "too many robot calls" in answers[-1]["err"][1][0]
