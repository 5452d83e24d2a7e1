"""Prompt files and builders: the API reference follows the Robot class, prompts carry what the LLM needs."""

from __future__ import annotations

import inspect
import re

import pytest

from agent.errors import AgentError
from agent.prompts import (
    Example,
    Prompt,
    adapt_prompt,
    api_reference,
    load_prompt,
    plan_prompt,
    retry_prompt,
    robot_methods,
    synthesis_prompt,
)
from skills.robot import Robot

PUBLIC = [n for n, m in vars(Robot).items() if inspect.isfunction(m) and not n.startswith("_")]
PICK_UP = (
    'def pick_up(robot, obj):\n    """Pick up one object."""\n    robot.pick(robot.find(obj))\n'
)


def test_api_reference_lists_every_public_method_with_its_parameters():
    ref = api_reference()
    assert len(PUBLIC) >= 11
    for name in PUBLIC:
        params = list(inspect.signature(getattr(Robot, name)).parameters)[1:]
        m = re.search(rf"^robot\.{name}\((.*)\)", ref, re.MULTILINE)
        assert m, f"robot.{name} missing from the API reference"
        assert [p.split(":")[0].split("=")[0].strip() for p in m.group(1).split(",") if p] == params
        first_doc_line = inspect.getdoc(getattr(Robot, name)).splitlines()[0]
        assert first_doc_line in ref
    assert [m.name for m in robot_methods()] == PUBLIC


def test_api_reference_renders_types_defaults_and_hides_internals():
    ref = api_reference()
    assert "robot.find(description: str) -> Obj" in ref
    assert "robot.place_at(obj: Obj, position, yaw: float | None = None) -> None" in ref
    assert "robot.free_spot(clearance: float = 0.03) -> tuple[float, float]" in ref
    assert "robot._" not in ref and "_sim" not in ref and "self" not in ref
    assert "counter-clockwise" in ref  # the frame conventions from the module docstring


def test_system_prompt_states_the_rules_and_includes_the_api():
    p = synthesis_prompt("pick up the red cube", ["red cube", "blue bowl"])
    assert isinstance(p, Prompt) and p.messages[0] == ("system", p.system)
    for rule in (
        "def <name>(robot",
        "`math` and `numpy`",
        "only through `robot`",
        "starting with `_`",
    ):
        assert rule in p.system
    assert api_reference() in p.system
    assert "$" not in p.system + p.user  # every placeholder filled


def test_synthesis_prompt_has_task_scene_call_and_examples():
    p = synthesis_prompt(
        "put the red cube in the blue bowl",
        ["red cube", "blue bowl"],
        [("pick_up", PICK_UP, "Pick up one object.")],
        name="put_in_bowl",
        params={"obj": "red cube", "bowl": "blue bowl"},
    )
    assert "Task: put the red cube in the blue bowl" in p.user
    assert "Objects in the scene: red cube, blue bowl" in p.user
    assert "put_in_bowl(robot, obj='red cube', bowl='blue bowl')" in p.user
    assert PICK_UP.strip() in p.user and "pick_up: Pick up one object." in p.user


def test_synthesis_prompt_takes_a_custom_api_text():
    p = synthesis_prompt("pick up the red cube", [], api="robot.wave()")
    assert "robot.wave()" in p.system and "robot.place_on(" not in p.system


def test_adapt_prompt_lists_retrieved_skills_in_order():
    skills = [Example("place_on", "def place_on(robot, obj, target):\n    pass\n", "Place on a target."),
              Example("pick_up", PICK_UP, "Pick up one object.")]  # fmt: skip
    p = adapt_prompt("place the red cube on the green pad", ["red cube", "green pad"], skills)
    assert p.user.index("1. place_on") < p.user.index("2. pick_up")
    assert PICK_UP.strip() in p.user
    with pytest.raises(AgentError):
        adapt_prompt("x", [], [])


def test_retry_prompt_contains_previous_code_error_and_observation():
    code = (
        "import math\n\n\ndef stack(robot, top, base):\n    upper = robot.find(top)\n\n\n"
        "    robot.place_on(upper, robot.find('blue block'))\n"
    )
    error = (
        "SkillError: nothing in the scene matches 'blue block' (the scene has: red cube, blue cube)"
    )
    seen = "red cube at (0.52, 0.10, 0.00); blue cube at (0.45, -0.12, 0.00)"
    p = retry_prompt(code, error, seen, task_instruction="stack the red cube on the blue cube",
                     scene_objects=["red cube", "blue cube"], name="stack")  # fmt: skip
    assert code.strip() in p.user  # verbatim, blank lines included
    assert error in p.user and seen in p.user
    assert "stack the red cube on the blue cube" in p.user
    assert "robot.find(" in p.system
    assert p.user.index(code.strip()) < p.user.index(error)


def test_retry_prompt_without_observation_or_message():
    p = retry_prompt("def f(robot):\n    pass\n", "")
    assert "success check failed" in p.user and "observed" not in p.user


def test_plan_prompt_asks_for_a_json_list():
    p = plan_prompt(
        "build a tower",
        ["red cube", "blue cube", "green cube"],
        ["stack: stack one block on another"],
    )
    assert "JSON list of strings" in p.user
    assert "Instruction: build a tower" in p.user and "red cube, blue cube, green cube" in p.user
    assert "- stack: stack one block on another" in p.user
    assert "place_on(obj: Obj, target: Obj)" in p.system


def test_prompt_files_load_by_name():
    for name in ("system", "synthesize", "adapt", "retry", "plan", "plan_system"):
        assert load_prompt(name).strip()
    with pytest.raises(AgentError, match="no prompt named"):
        load_prompt("nope")
    with pytest.raises(AgentError):
        load_prompt("../errors")
