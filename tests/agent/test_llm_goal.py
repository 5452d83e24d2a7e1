"""The LLM side of goals, through the real OpenAI client and a scripted server on 127.0.0.1:
the goal writer (formula checked, one correction, refusals in one line) and the
synthesizer's candidates for a goal template (named after it, retried with feedback)."""

from __future__ import annotations

import math

import pytest

from agent.errors import AgentError, LLMUnavailable
from agent.llm.backends import make_llm
from agent.llm.extract import extract_formula
from agent.llm.goal_prompts import goal_feedback
from agent.llm.goal_writer import write_goal
from agent.synth.synthesizer import Attempt, LLMSynthesizer
from sim.goals import Body, State, check, evaluate
from skills.sandbox import SandboxResult

STATE = State(
    (
        Body("red cube", "red", "cube", (0.52, -0.10, 0.0, math.radians(30))),
        Body("blue bowl", "blue", "bowl", (0.45, 0.15, 0.0, 0.0)),
        Body("green cube", "green", "cube", (0.60, 0.05, 0.0, 0.0)),
    )
)
RED_ROW = "| red cube | 0.520 | -0.100 | 0.000 | 30.0 | 0.040 x 0.040 x 0.040 | movable |"
BOWL_ROW = "| blue bowl | 0.450 | 0.150 | 0.000 | - | 0.150 x 0.150 x 0.050 | fixed, round |"


@pytest.fixture
def llm(llm_server):
    llm_server.strict = True  # a request nothing was queued for fails the test
    return make_llm("openai:test-model", base_url=llm_server.base_url, timeout=10, max_retries=0)


# -- the goal writer ------------------------------------------------------------------------


def test_a_good_formula_is_accepted_and_the_prompt_carries_the_scene(llm, llm_server):
    llm_server.queue("The goal:\n```goal\nright_of(the red cube, blue bowl)\n```")
    assert (
        write_goal(llm, "put the red cube right of the bowl", STATE)
        == "right_of(red cube, blue bowl)"
    )
    (req,) = llm_server.requests
    assert req["path"] == "/v1/chat/completions" and req["body"]["model"] == "test-model"
    system, user = (m["content"] for m in llm_server.messages(0))
    assert "right_of(a, b): a stands right of b" in system and "left = -y" in system
    assert "Instruction: put the red cube right of the bowl" in user
    assert RED_ROW in user and BOWL_ROW in user and "| green cube |" in user


def test_a_malformed_formula_is_sent_back_once_with_the_error(llm, llm_server):
    llm_server.queue("right_of(red cube blue bowl", "right_of(red cube, blue bowl)")
    assert write_goal(llm, "red cube right of the bowl", STATE) == "right_of(red cube, blue bowl)"
    first, second = llm_server.user_texts()
    assert "refused" not in first
    assert "Your previous answer: right_of(red cube blue bowl" in second
    assert "It was refused: cannot read the goal" in second


def test_an_unknown_object_is_refused_with_what_the_scene_has(llm, llm_server):
    llm_server.queue("in(red cube, green bowl)", "in(red cube, blue bowl)")
    assert write_goal(llm, "put the red cube in the bowl", STATE) == "in(red cube, blue bowl)"
    assert (
        "no 'green bowl' in the scene (it has: red cube, blue bowl, green cube)"
        in llm_server.user_texts()[1]
    )


@pytest.mark.parametrize(
    "formula,why",
    [
        ("left_of(red cube, green cube) and left_of(green cube, red cube)", "contradicts itself"),
        ("on(red cube, red cube)", "names the red cube twice"),
        ("in(blue bowl, red cube)", "the blue bowl is fixed to the table"),
        ("left_of(red cube, blue bowl", "cannot read the goal"),
        ("hover(red cube)", "unknown predicate 'hover'"),
    ],
)
def test_twice_refused_is_one_line_naming_the_formula_and_why(llm, llm_server, formula, why):
    llm_server.queue(formula, formula)
    with pytest.raises(AgentError) as info:
        write_goal(llm, "do something odd with the red cube", STATE)
    message = str(info.value)
    assert "\n" not in message and len(llm_server.requests) == 2
    assert message.startswith(
        f"the model's goal {formula!r} for 'do something odd with the red cube' is not usable: "
    )
    assert why in message


def test_a_reply_without_a_formula_is_an_error_too(llm, llm_server):
    llm_server.queue(
        "I am not sure what you mean.\nCould you say more?", "Sorry, I still cannot.\nNo."
    )
    with pytest.raises(AgentError, match=r"is not usable: no goal formula in the reply$"):
        write_goal(llm, "make it nice", STATE)
    assert "It was refused: no goal formula in the reply" in llm_server.user_texts()[1]


def test_an_unreachable_model_is_the_llm_error():
    llm = make_llm("openai:m", base_url="http://127.0.0.1:9/v1", timeout=2, max_retries=0)
    # LLMUnavailable is not an AgentError: no stage of a run swallows it and waits again
    with pytest.raises(LLMUnavailable, match="unreachable"):
        write_goal(llm, "put the red cube in the bowl", STATE)


@pytest.mark.parametrize(
    "reply,formula",
    [
        ("left_of(red cube, blue bowl)", "left_of(red cube, blue bowl)"),
        ("Sure: `on(red cube, blue bowl)` is it.", "on(red cube, blue bowl)"),
        (
            "<think>maybe on(a, b)</think>\n**Goal:** in(red cube, blue bowl).",
            "in(red cube, blue bowl)",
        ),
        (
            "Let me think.\non(red cube, green cube)\nand left_of(green cube, blue bowl)\nDone.",
            "on(red cube, green cube) and left_of(green cube, blue bowl)",
        ),
        (
            '```json\n{"pred": "on", "args": ["red cube", "green cube"]}\n```',
            '{"pred": "on", "args": ["red cube", "green cube"]}',
        ),
        ("```\n# the goal\nall(x in cubes: on_table(x))\n```", "all(x in cubes: on_table(x))"),
    ],
)
def test_extract_formula_finds_the_formula(reply, formula):
    assert extract_formula(reply) == formula


# -- the synthesizer for a goal template ----------------------------------------------------


FIRST = '''Here is the skill:
```python
def move_right(robot, a, b):
    """Put a to the right of b.

    Goal: right_of(?a, ?b)
    """
    x, y, _, _ = robot.pose(robot.find(b))
    robot.place_at(robot.find(a), (x, y + 0.02))
```'''
SECOND = FIRST.replace("y + 0.02", "y + 0.12").replace("move_right", "put_right_of")


def test_propose_goal_names_the_skill_after_the_template_and_retries_with_feedback(llm, llm_server):
    llm_server.queue(FIRST, "no code at all", SECOND)
    synth = LLMSynthesizer(llm, retries=2)
    history: list[Attempt] = []
    proposals = synth.propose_goal(
        "put_right_of",
        "right_of(?a, ?b)",
        {"a": "red cube", "b": "blue bowl"},
        "right_of(red cube, blue bowl)",
        STATE,
        [],
        history,
    )
    first = next(proposals)
    assert (first.name, first.params, first.recipe) == ("put_right_of", ("a", "b"), "llm")
    assert "def put_right_of(robot, a, b):" in first.code and "move_right" not in first.code
    atoms = tuple(
        a.to_json() for a in evaluate(check("right_of(red cube, blue bowl)", STATE), STATE).atoms
    )
    feedback = goal_feedback(
        SandboxResult("ok", None, False, 1.0, goal="right_of(red cube, blue bowl)", atoms=atoms)
    )
    history.append(Attempt(first, feedback))
    second = next(proposals)
    assert second.recipe == "llm:unparsable" and second.name == "put_right_of"
    history.append(Attempt(second, "the reply held no usable code"))
    third = next(proposals)
    assert third.recipe == "llm" and "y + 0.12" in third.code
    assert next(proposals, None) is None  # retries + 1 attempts
    prompts = llm_server.user_texts()
    assert len(prompts) == 3 and "previous attempt" not in prompts[0]
    assert RED_ROW in prompts[0] and "Goal template: right_of(?a, ?b)" in prompts[0]
    retry = prompts[1]
    assert "def put_right_of(robot, a, b):" in retry and "y + 0.02" in retry  # the code it fixes
    assert (
        "- right_of(red cube, blue bowl): red cube is 25.0 cm left of blue bowl, needs >= 3.0 cm right (off by 28.0 cm)"
        in retry
    )
    assert "the reply held no usable code" in prompts[2]
