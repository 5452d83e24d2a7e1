"""Fuzzing the instruction parser (`agent.plan.parse`) and what is read from LLM replies.

Replies are prose, fenced and unfenced code, broken code, code nested too deeply for
Python's parser, `<think>` preambles, JSON of the wrong shape, and replies of hundreds of
kilobytes. Properties: each reader returns what it promises or raises one `AgentError`
line; extracted code parses and defines its entry taking `robot`; the goal writer returns
a goal the scene accepts or one `AgentError` line, after at most two model calls.
"""

from __future__ import annotations

import ast
import json

from hypothesis import example, given
from hypothesis import strategies as st

from agent.errors import AgentError
from agent.llm.extract import extract_code, extract_formula, extract_goal_steps, extract_plan
from agent.llm.goal_writer import write_goal
from agent.plan.parse import parse as parse_instruction
from sim.goals import check
from tests.fuzz.strategies import (
    FORMULA_TEXT,
    INSTRUCTIONS,
    JSON_TEXT,
    JSON_VALUES,
    JUNK,
    SENTENCES,
    examples,
    one_line,
)
from tests.fuzz.test_fuzz_goals import STATE

SCENES = st.lists(
    st.sampled_from(["red cube", "blue bowl", "green cube", "purple tray", "red small cube"]),
    unique=True,
    max_size=4,
)


@examples(60)
@given(INSTRUCTIONS, SCENES)
@example("put the red cube on the red cube", ["red cube"])
@example("coaster \n0", [])  # was a message of two lines
@example("stack " + "the red cube on " * 500, ["red cube", "green cube"])
def test_the_instruction_parser_reads_or_refuses_in_one_line(text, scene):
    try:
        intent = parse_instruction(text, scene)
    except AgentError as exc:
        assert one_line(str(exc))
        return
    assert set(intent.roles.values()) <= set(scene)


CODE_LINES = st.sampled_from(
    [
        "def skill(robot, obj):",
        "def helper(x):",
        "def skill(robot):",
        "async def skill(robot):",
        "    robot.pick(robot.find(obj))",
        "    return helper(1)",
        "    x = (",
        "  return",
        "import numpy as np",
        "from math import *",
        "@decorator",
        "skill(robot, 'red cube')",
        "class A:",
        "    pass",
        "\tpass",
        "",
    ]
)
CODE = st.one_of(st.lists(CODE_LINES, max_size=10).map("\n".join), JUNK)
FENCE = st.sampled_from(["```", "```python", "```py", "~~~", "```json", "```goal", "``` text"])
REPLY = st.one_of(
    st.lists(
        st.one_of(
            SENTENCES,
            st.builds(lambda f, c: f"{f}\n{c}\n```", FENCE, CODE),
            st.builds(lambda f, c: f"{f}\n{c}", FENCE, CODE),  # never closed
            CODE,
            FORMULA_TEXT,
            JSON_TEXT,
            JSON_VALUES.map(json.dumps),
            st.just("<think>"),
            st.just("</think>"),
        ),
        max_size=6,
    ).map("\n".join),
    JUNK,
)
DEEP_CODE = "```python\ndef skill(robot):\n    return " + "-" * 100_000 + "1\n```"  # MemoryError
DEEP_SUM = "def skill(robot):\n    return " + "1+" * 3000 + "1\n"  # RecursionError
HUGE = "Here is the skill.\n" + "blah " * 100_000 + "\n```python\ndef s(robot):\n    pass\n```"


@examples(80)
@given(REPLY, st.sampled_from([None, "skill", "helper", "s"]))
@example(DEEP_CODE, None)
@example(DEEP_SUM, None)
@example(HUGE, "s")
@example("```python\ndef skill(robot):\n    x = 1\x00\n```", None)
def test_code_comes_out_of_a_reply_or_one_line_says_why(reply, entry):
    try:
        got = extract_code(reply, entry)
    except AgentError as exc:
        assert one_line(str(exc))
        return
    tree = ast.parse(got.code)
    fn = next(n for n in tree.body if getattr(n, "name", None) == got.entry)
    assert fn.args.args and fn.args.args[0].arg == "robot"


@examples(60)
@given(REPLY)
@example("[" * 2_000)
@example('{"steps": ' * 1500 + "[]" + "}" * 1500)
@example('[{"step": "a", "goal": 5}]')
def test_plans_and_formulas_come_out_of_a_reply_or_one_line_says_why(reply):
    for read, check_ in (
        (extract_plan, lambda steps: steps and all(isinstance(s, str) for s in steps)),
        (extract_goal_steps, lambda steps: steps and all(isinstance(g, str) for _, g in steps)),
        (extract_formula, lambda f: isinstance(f, str)),
    ):
        try:
            got = read(reply)
        except AgentError as exc:
            assert one_line(str(exc))
            continue
        assert check_(got)


class Scripted:
    """A chat model that answers with the replies it was given (the goal writer's LLM)."""

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.calls = list(replies), 0

    def complete(self, prompt: str) -> str:
        self.calls += 1
        return self.replies.pop(0) if self.replies else ""


@examples(40)
@given(st.lists(st.one_of(REPLY, FORMULA_TEXT), min_size=2, max_size=2), INSTRUCTIONS)
@example(["left_of(red cube, blue bowl", "not " * 3000 + "on(red cube, blue bowl)"], "x")
@example(['{"pred": "rotated_by", "args": ["red cube", 1e999]}', HUGE], "turn it")
def test_the_goal_writer_returns_a_checked_goal_or_one_line(replies, instruction):
    llm = Scripted(replies)
    try:
        text = write_goal(llm, instruction, STATE)
    except AgentError as exc:
        assert one_line(str(exc))
        assert llm.calls == 2
        return
    assert check(text, STATE).text == text
