"""The goal language: check() refusals, contradictions, grounding, evaluate() and explain().

Every expected value comes from the documented tolerances (`sim.goals.predicates.*`
docstrings), on hand-made States: no simulator needed. Shared helpers live here and are
imported by the other `test_goals_*.py` files.
"""

from __future__ import annotations

import math
import re

import pytest

from sim.goals import (
    And,
    Atom,
    AtomResult,
    Body,
    GoalError,
    Not,
    Or,
    State,
    check,
    evaluate,
    explain,
    ground,
    load,
    parse,
)
from sim.goals.consistency import contradiction

X0 = 0.5  # a comfortable spot in the middle of the workspace


def body(
    desc: str,
    x: float = X0,
    y: float = 0.0,
    z: float = 0.0,
    yaw: float = 0.0,
    *,
    tilt: float = 0.0,
    start: tuple | None = None,
    held: bool = False,
) -> Body:
    """A Body from '<color> <shape>'; yaw, tilt and start's yaw in degrees."""
    color, _, shape = desc.partition(" ")
    st = None
    if start is not None:
        sx, sy, *rest = start
        sz = rest[0] if rest else 0.0
        syaw = rest[1] if len(rest) > 1 else 0.0
        st = (sx, sy, sz, math.radians(syaw))
    return Body(desc, color, shape, (x, y, z, math.radians(yaw)), math.radians(tilt), st, held)


def scene(*bodies: Body) -> State:
    return State(tuple(bodies))


def one(goal: str, *bodies: Body) -> AtomResult:
    """The single atom of `goal`, judged on a scene of `bodies`."""
    v = evaluate(goal, scene(*bodies))
    assert len(v.atoms) == 1, v.atoms
    assert v.value == v.atoms[0].value
    return v.atoms[0]


def holds(goal: str, *bodies: Body) -> bool:
    return evaluate(goal, scene(*bodies)).value


def assert_margin(r: AtomResult, value: bool, margin: float, unit: str = "m", tol=2e-4):
    """Truth as expected, the margin's sign agrees with it, and its size is about `margin`."""
    assert r.value is value, r
    assert (r.margin >= 0) is value, r
    assert r.margin == pytest.approx(margin, abs=tol), r
    assert r.unit == unit, r


def refused(goal, state: State, *words: str) -> str:
    """check() refuses `goal` with a one-line GoalError that contains `words`."""
    with pytest.raises(GoalError) as exc:
        check(goal, state)
    msg = str(exc.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg
    return msg


RED, BLUE, GREEN, YELLOW = (
    body(f"{c} cube", X0, y)
    for c, y in (("red", -0.1), ("blue", 0.0), ("green", 0.1), ("yellow", 0.2))
)
FOUR = scene(
    RED,
    BLUE,
    GREEN,
    YELLOW,
    body("blue bowl", 0.62, -0.15),
    body("red cylinder", 0.4, 0.1),
    body("pink outline", 0.4, -0.2),
)


# -- check(): goals that can never be judged fairly are refused ------------------------------
def test_check_returns_formula_and_ground_form():
    g = check("all(x in cubes except red cube: left_of(red cube, x))", FOUR)
    assert g.text == "all(x in cubes except red cube: left_of(red cube, x))"
    assert g.ground == And(
        tuple(Atom("left_of", ("red cube", f"{c} cube")) for c in ("blue", "green", "yellow"))
    )
    assert g.to_json()["all"]["in"] == "cubes except red cube"


def test_unknown_predicate():
    refused("leftof(red cube, blue cube)", FOUR, "unknown predicate 'leftof'", "left_of")


@pytest.mark.parametrize(
    ("goal", "words"),
    [
        ("left_of(red cube)", ("takes 2 arguments",)),
        ("left_of(red cube, blue cube, green cube)", ("takes 2 arguments",)),
        ("held(red cube, blue cube)", ("takes 1 arguments",)),
        ("between(red cube, blue cube)", ("takes 3",)),
        ("far_from(red cube)", ("takes 2 or 3 arguments",)),
        ("far_from(red cube, blue cube, 0.2, 0.3)", ("takes 2 or 3 arguments",)),
        ("in_row(red cube)", ("2+",)),
        ("stacked(red cube)", ("2+",)),
        ("rotated_by(red cube, blue cube)", ("must be a number", "blue cube")),
        ("rotated_by(red cube)", ("takes 2",)),
        ("left_of(red cube, 3)", ("must be an object", "3")),
        ("far_from(red cube, blue cube, green cube)", ("must be a number",)),
    ],
)
def test_wrong_arity_or_kind(goal, words):
    refused(goal, FOUR, *words)


def test_unknown_object_lists_the_scene():
    msg = refused("on(purple cube, blue bowl)", FOUR, "'purple cube'", "red cube", "blue bowl")
    assert "pink outline" in msg


@pytest.mark.parametrize(
    "goal",
    [
        "on(red cube, red cube)",
        "left_of(red cube, red cube)",
        "next_to(blue cube, blue cube)",
        "between(red cube, blue cube, red cube)",
        "stacked(red cube, blue cube, red cube)",
        "in_row(red cube, blue cube, blue cube)",
        "aligned(red cube, red cube)",
    ],
)
def test_the_same_object_twice(goal):
    refused(goal, FOUR, "twice")


def test_where_was_may_name_one_object_twice():
    g = check("where_was(red cube, red cube)", FOUR)
    assert g.ground == Atom("where_was", ("red cube", "red cube"))


@pytest.mark.parametrize(
    "goal",
    [
        "on(blue bowl, red cube)",
        "in(blue bowl, red cube)",
        "held(blue bowl)",
        "stacked(red cube, blue bowl)",
        "rotated_by(pink outline, 30)",
        "aligned(blue bowl, pink outline)",
        "where_was(blue bowl, red cube)",
        "pyramid(red cube, blue bowl, green cube)",
        "left_side(blue bowl)",
        "middle(blue bowl)",
    ],
)
def test_moving_a_fixed_object(goal):
    refused(goal, FOUR, "fixed")


def test_rotated_by_a_round_object():
    refused("rotated_by(red cylinder, 45)", FOUR, "cylinder", "every yaw")


@pytest.mark.parametrize("deg", [0, 90, -90, 180, 270, 360, 11.5, 78.5, 100, -100])
def test_rotated_by_a_whole_turn_of_a_cube(deg):
    # a cube looks the same every 90 deg: within 12 deg of that it never changes
    refused(f"rotated_by(red cube, {deg})", FOUR, "looks as it started", "90")


@pytest.mark.parametrize("deg", [13, 45, -45, 77, 103, 135])
def test_rotated_by_a_real_turn_of_a_cube(deg):
    assert check(f"rotated_by(red cube, {deg})", FOUR).ground == Atom(
        "rotated_by", ("red cube", float(deg))
    )


@pytest.mark.parametrize(
    "goal",
    [
        "in(red cube, blue cube)",
        "in(red cube, red cylinder)",
        "in(red cube, pink outline)",
        "on(red cube, pink outline)",
    ],
)
def test_no_container(goal):
    refused(goal, FOUR, goal.split("(")[0])


def test_variable_clashes_with_object_or_outer_variable():
    refused("all(x in cubes: all(x in bowls: in(x, x)))", FOUR, "'x'", "in use")


def test_variable_outside_its_quantifier():
    refused("all(x in cubes: on_table(x)) and on_table(x)", FOUR, "'x'")


def test_quantified_atom_with_itself_is_refused():
    # every cube next to the red cube includes the red cube: say "cubes except red cube"
    refused("all(x in cubes: next_to(x, red cube))", FOUR, "twice")
    g = check("all(x in cubes except red cube: next_to(x, red cube))", FOUR)
    assert g.ground == And(
        tuple(Atom("next_to", (f"{c} cube", "red cube")) for c in ("blue", "green", "yellow"))
    )


# -- contradictions ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "goal",
    [
        "left_of(red cube, blue cube) and left_of(blue cube, red cube)",
        "left_of(red cube, blue cube) and left_of(blue cube, green cube) and left_of(green cube, red cube)",
        "left_of(red cube, blue cube) and right_of(red cube, blue cube)",
        "in_front_of(red cube, blue cube) and behind(red cube, blue cube)",
        "in_front_of(red cube, blue cube) and in_front_of(blue cube, green cube) and behind(red cube, green cube)",
        "in_row(red cube, blue cube, green cube) and left_of(green cube, red cube)",
        "in_row(red cube, blue cube) and right_of(red cube, blue cube)",
        "left_of(red cube, blue cube) and not left_of(red cube, blue cube)",
        "(on(red cube, blue cube) or on(red cube, green cube)) and not (on(red cube, blue cube) or on(red cube, green cube))",
        "on(red cube, blue cube) and on(red cube, green cube)",
        "on(red cube, blue cube) and on_table(red cube)",
        "in(red cube, blue bowl) and on(red cube, green cube)",
        "on(red cube, blue cube) and on(blue cube, red cube)",
        "on(red cube, blue cube) and on(blue cube, green cube) and on(green cube, red cube)",
        "stacked(red cube, blue cube) and on_table(blue cube)",
        "held(red cube) and on(red cube, blue cube)",
        "held(red cube) and on_table(red cube)",
        "held(red cube) and left_of(red cube, blue cube)",
        "held(red cube) and next_to(blue cube, red cube)",
        "held(red cube) and left_side(red cube)",
        "held(red cube) and held(blue cube)",
        "left_side(red cube) and right_side(red cube)",
        "front(red cube) and back(red cube)",
        "middle(red cube) and left_side(red cube)",
        "on(red cube, blue cube) and next_to(red cube, blue cube)",
        "in(red cube, blue bowl) and left_of(red cube, blue bowl)",
        "on(red cube, blue cube) and between(blue cube, red cube, green cube)",
        "where_was(red cube, blue cube) and where_was(green cube, blue cube)",
        "aligned(red cube, pink outline) and aligned(blue cube, pink outline)",
        "on(red cube, green tray) and far_from(red cube, green tray, 0.05)",
        "all(x in cubes: left_of(x, red cylinder)) and right_of(red cube, red cylinder)",
    ],
)
def test_contradictions_are_refused(goal):
    state = scene(*FOUR.bodies, body("green tray", 0.4, 0.2))
    refused(goal, state, "contradicts itself")


@pytest.mark.parametrize(
    "goal",
    [
        "left_of(red cube, blue cube) and left_of(green cube, blue cube)",
        "(left_of(red cube, blue cube) and left_of(blue cube, red cube)) or on(red cube, blue cube)",
        "left_side(red cube) or right_side(red cube)",
        "held(red cube) or held(blue cube)",
        "on(red cube, blue cube) and on(blue cube, green cube)",
        "left_of(red cube, blue cube) and not right_of(red cube, blue cube)",
        "not (left_of(red cube, blue cube) and left_of(blue cube, red cube))",
        "left_side(red cube) and front(red cube)",
        "in_row(red cube, blue cube, green cube) and left_of(red cube, green cube)",
        "held(red cube) and left_of(blue cube, green cube)",
        "where_was(red cube, blue cube) and where_was(blue cube, red cube)",
        # a painted zone is part of the table: resting in it is resting on the table
        "in(red cube, green zone) and on_table(red cube)",
        "in(red cube, green zone) and in_row(red cube, blue cube)",
        "on(red cube, green tray) and far_from(blue cube, green tray, 0.05)",
    ],
)
def test_consistent_goals_are_not_refused(goal):
    state = scene(*FOUR.bodies, body("green zone", 0.6, 0.2), body("green tray", 0.4, 0.2))
    assert check(goal, state).ground == parse(goal)  # accepted as written, nothing dropped


def test_contradiction_is_not_claimed_from_a_truncated_normal_form():
    # 9 two-way choices: 512 disjuncts; only the last (all right_of) is free of a circle.
    pairs = [("red cube", "blue cube")] * 9
    parts = [Or((Atom("left_of", p), Atom("right_of", p))) for p in pairs]
    f = And((Atom("left_of", ("blue cube", "red cube")), *parts))
    assert contradiction(f) is None


def test_contradiction_reason_names_the_atoms():
    msg = refused("left_of(red cube, blue cube) and left_of(blue cube, red cube)", FOUR)
    assert "left_of(red cube, blue cube)" in msg and "left_of(blue cube, red cube)" in msg


# -- grounding and evaluation --------------------------------------------------------------
def test_ground_expands_quantifiers_over_the_scene():
    f = parse("any(x in cubes except red cube and blue cube: left_of(red cube, x))")
    assert ground(f, FOUR) == Or(
        (Atom("left_of", ("red cube", "green cube")), Atom("left_of", ("red cube", "yellow cube")))
    )
    f = parse("all(x in cubes except red, blue and green ones: on_table(x))")
    assert ground(f, FOUR) == Atom("on_table", ("yellow cube",))  # one member: no And
    f = parse("far_from(red cube, blue cube)")
    assert ground(f, FOUR) == Atom("far_from", ("red cube", "blue cube", 0.15))  # default


def test_all_and_any_semantics():
    # red, blue, green, yellow cubes from left to right, 10 cm apart
    assert evaluate("all(x in cubes except red cube: left_of(red cube, x))", FOUR).value
    assert not evaluate("all(x in cubes except blue cube: left_of(blue cube, x))", FOUR).value
    assert evaluate("any(x in cubes except blue cube: left_of(blue cube, x))", FOUR).value
    assert not evaluate("any(x in cubes except yellow cube: left_of(yellow cube, x))", FOUR).value
    assert evaluate("not any(x in cubes except yellow cube: left_of(yellow cube, x))", FOUR).value
    v = evaluate("all(x in cubes except blue cube: left_of(blue cube, x))", FOUR)
    assert [a.value for a in v.atoms] == [False, True, True]  # every atom reported


def test_and_or_not_evaluate_every_atom():
    v = evaluate("left_of(blue cube, red cube) or left_of(red cube, blue cube)", FOUR)
    assert v.value and [a.value for a in v.atoms] == [False, True]
    v = evaluate("left_of(red cube, blue cube) and not left_of(red cube, green cube)", FOUR)
    assert not v.value and len(v.atoms) == 2
    assert v.atoms[1].atom == "left_of(red cube, green cube)" and v.atoms[1].value


def test_evaluate_accepts_text_json_and_checked_goals():
    text = "left_of(red cube, blue cube)"
    as_json = {"pred": "left_of", "args": ["Red Cube", "the blue cube"]}
    results = [evaluate(g, FOUR) for g in (text, as_json, parse(text), check(text, FOUR))]
    assert all(r == results[0] for r in results) and results[0].value


def test_atom_result_json():
    r = one("left_of(red cube, blue cube)", RED, BLUE)
    j = r.to_json()
    assert j["atom"] == "left_of(red cube, blue cube)" and j["value"] is True
    assert j["margin"] == pytest.approx(0.07, abs=1e-4) and j["unit"] == "m"


# -- explain -------------------------------------------------------------------------------
def _numbers(line: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+\.\d+", line)]


def test_explain_left_of_says_how_far_and_which_way():
    red = body("red cube", X0 + 0.05, 0.012)  # in front, 1.2 cm right of the blue cube
    (line,) = explain(evaluate("left_of(red cube, blue cube)", scene(red, BLUE)))
    assert line == (
        "left_of(red cube, blue cube): false, red cube is 1.2 cm right of blue cube, "
        "needs >= 3.0 cm left"
    )
    (line,) = explain(
        evaluate("left_of(red cube, blue cube)", scene(body("red cube", X0, -0.05), BLUE))
    )
    assert line.startswith("left_of(red cube, blue cube): true, ") and _numbers(line) == [
        5.0,
        0.0,
        3.0,
    ]
    assert "5.0 cm left of blue cube and 0.0 cm to the side" in line


def test_explain_gives_numbers_for_each_atom():
    red = body("red cube", X0 + 0.03, 0.0, 0.04)  # 3 cm off the blue cube's center
    plate = body("green plate", 0.6, 0.2)
    blue = body("blue cube", 0.6 + 0.07, 0.2, 0.012)  # 7 cm from the plate's center
    lines = explain(
        evaluate(
            "on(red cube, green cube) and on(blue cube, green plate)",
            scene(red, body("green cube"), blue, plate),
        )
    )
    assert lines[0].startswith("on(red cube, green cube): false, ")
    assert "3.0 cm" in lines[0] and "2.0 cm" in lines[0]
    assert lines[1].startswith("on(blue cube, green plate): false, ")
    assert "0.5 cm outside" in lines[1]


def test_explain_rotated_by_in_degrees():
    red = body("red cube", yaw=60, start=(X0, 0.0, 0.0, 0.0))
    r = one("rotated_by(red cube, 45)", red)
    assert_margin(r, False, -3.0, "deg", tol=1e-6)
    assert "15 deg" in r.detail and "12" in r.detail


def test_state_json_round_trip():
    s = scene(
        body("red cube", 0.5, 0.1, 0.0, 30, tilt=3, start=(0.4, -0.1, 0.0, 10)),
        body("blue small cube", 0.45, 0.0, 0.07, held=True),
        body("green bowl", 0.6, 0.0),
    )
    rows = s.to_json()
    assert rows[0]["start"] == [0.4, -0.1, 0.0, 10.0] and rows[0]["end"] == [0.5, 0.1, 0.0, 30.0]
    assert rows[0]["size"] == [0.04, 0.04, 0.04] and rows[1]["held"] is True
    back = State.from_json(rows)
    assert back.descriptions == s.descriptions
    assert [b.shape_name for b in back.bodies] == ["cube", "small cube", "bowl"]
    for a, b in zip(back.bodies, s.bodies, strict=True):
        assert a.pose == pytest.approx(b.pose) and a.start_pose == pytest.approx(b.start_pose)
        assert a.tilt == pytest.approx(b.tilt) and a.held == b.held


def test_not_of_a_checked_goal_is_reported():
    g = check("not on(red cube, blue cube)", FOUR)
    assert g.ground == Not(Atom("on", ("red cube", "blue cube")))
    assert evaluate(g, FOUR).value


TESTED = {  # every predicate has boundary tests in tests/sim/test_goals_*.py
    "on",
    "in",
    "on_table",
    "stacked",
    "held",
    "upright",
    "left_of",
    "right_of",
    "in_front_of",
    "behind",
    "next_to",
    "between",
    "far_from",
    "left_side",
    "right_side",
    "middle",
    "front",
    "back",
    "rotated_by",
    "aligned",
    "where_was",
    "in_row",
    "pyramid",
}


def test_every_predicate_is_tested_and_documented():
    preds = load()
    assert set(preds) <= TESTED, f"untested predicates: {set(preds) - TESTED}"
    for p in preds.values():
        assert p.doc and p.signature().startswith(f"{p.name}(")
