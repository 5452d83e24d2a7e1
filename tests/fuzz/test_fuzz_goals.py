"""Fuzzing the goal reader (text -> goal) and the goal language (text and JSON forms).

Properties: the reader returns a goal or refuses with one `AgentError` line, and a goal it
reads is a formula of the goal language (its text parses back to the same formula); the
parser returns a formula or one `GoalError` line, and a formula it returns survives the
round trips text -> formula -> text and formula -> JSON -> formula; checking a goal
against a scene and evaluating it raise nothing but `GoalError`/`SimError`.
"""

from __future__ import annotations

import json
import math

from hypothesis import example, given
from hypothesis import strategies as st

from agent.errors import AgentError
from agent.understand import bind, read_goal
from sim.errors import SimError
from sim.goals import Body, State, check, evaluate, explain, parse, to_json
from tests.fuzz.strategies import (
    FORMULA_TEXT,
    INSTRUCTIONS,
    JSON_FORMULA,
    JSON_TEXT,
    examples,
    one_line,
)

STATE = State(
    (
        Body("red cube", "red", "cube", (0.52, -0.10, 0.0, math.radians(30))),
        Body("blue bowl", "blue", "bowl", (0.45, 0.15, 0.0, 0.0)),
        Body("green cube", "green", "cube", (0.60, 0.05, 0.0, 0.0)),
        Body("yellow plate", "yellow", "plate", (0.40, -0.15, 0.0, 0.0)),
    )
)
DEEP_NOT = "not " * 3000 + "on(red cube, blue bowl)"  # was a RecursionError traceback
DEEP_JSON = '{"not": ' * 3000 + '{"pred": "on", "args": ["red cube", "blue bowl"]}' + "}" * 3000


@examples(60)
@given(INSTRUCTIONS)
@example("put the red cube in the blue bowl and " * 300)
@example("not " * 3000)
@example("\x1b[31mput\u202e the red cube on the plate")
def test_the_reader_reads_a_goal_or_refuses_in_one_line(text):
    try:
        reading = read_goal(text)
    except AgentError as exc:
        assert one_line(str(exc))
        return
    assert parse(str(reading.formula)) == reading.formula
    try:
        goal = bind(reading, [b.description for b in STATE.bodies])
    except (AgentError, SimError) as exc:
        assert one_line(str(exc))
        return
    assert goal is not None


def _judged(formula) -> None:
    """Check and evaluate on the scene: a verdict or one GoalError/SimError line; a goal
    the scene accepts reads the same in its text and JSON forms."""
    try:
        goal = check(formula, STATE)
    except SimError as exc:  # GoalError is a SimError
        assert one_line(str(exc))
        return
    assert parse(str(formula)) == formula
    assert parse(json.dumps(to_json(formula))) == formula
    verdict = evaluate(goal, STATE)
    assert isinstance(verdict.value, bool)
    assert all(one_line(line) for line in explain(verdict))


@examples(80)
@given(FORMULA_TEXT)
@example(DEEP_NOT)
@example("(" * 3000 + "on(red cube, blue bowl)" + ")" * 3000)
@example("rotated_by(red cube, 1e308)")
@example("far_from(red cube, blue bowl, -inf)")
def test_the_text_form_parses_or_refuses_in_one_line(text):
    try:
        formula = parse(text)
    except SimError as exc:
        assert one_line(str(exc))
        return
    assert parse(str(formula)) == formula
    _judged(formula)


@examples(80)
@given(st.one_of(JSON_TEXT, JSON_FORMULA))
@example(DEEP_JSON)
@example("[" * 100_000)
@example('{"pred": "on", "args": ["red cube", 1e999]}')
@example({"pred": "rotated_by", "args": ["red cube", 10**400]})
def test_the_json_form_parses_or_refuses_in_one_line(data):
    try:
        formula = parse(data)
    except SimError as exc:
        assert one_line(str(exc))
        return
    _judged(formula)
