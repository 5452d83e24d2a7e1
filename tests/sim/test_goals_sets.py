"""Sets picked out by words (`sim.goals.sets`), alone and inside quantifiers."""

from __future__ import annotations

import pytest

from sim.goals import And, Atom, GoalError, Or, evaluate, ground, parse
from sim.goals.sets import members
from tests.sim.test_goals import body, scene

S = scene(
    body("red cube", 0.45, -0.2),
    body("blue cube", 0.45, -0.1),
    body("green small cube", 0.45, 0.0),
    body("red small cube", 0.45, 0.1),
    body("yellow cylinder", 0.55, -0.2),
    body("purple cylinder", 0.55, -0.1),
    body("blue bowl", 0.62, 0.1),
    body("red bowl", 0.4, 0.2),
    body("green tray", 0.62, -0.15),
    body("orange zone", 0.65, 0.22),
)
CUBES = ["red cube", "blue cube", "green small cube", "red small cube"]
MOVERS = CUBES + ["yellow cylinder", "purple cylinder"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("cubes", CUBES),
        ("all the cubes", CUBES),
        ("every cube", CUBES),
        ("Cubes", CUBES),
        ("small cubes", ["green small cube", "red small cube"]),
        ("the little cubes", ["green small cube", "red small cube"]),
        ("large cubes", ["red cube", "blue cube"]),
        ("big cubes", ["red cube", "blue cube"]),
        ("red objects", ["red cube", "red small cube"]),
        ("red things", ["red cube", "red small cube"]),
        ("red ones", ["red cube", "red small cube"]),
        ("red and blue cubes", ["red cube", "blue cube", "red small cube"]),
        ("red or blue cubes", ["red cube", "blue cube", "red small cube"]),
        ("objects", MOVERS),
        ("all objects", MOVERS),
        ("items", MOVERS),
        ("small objects", ["green small cube", "red small cube"]),
        ("bowls", ["blue bowl", "red bowl"]),
        ("red bowls", ["red bowl"]),
        ("trays", ["green tray"]),
        ("zones", ["orange zone"]),
        ("cylinders", ["yellow cylinder", "purple cylinder"]),
        ("both cylinders", ["yellow cylinder", "purple cylinder"]),
        ("both the bowls", ["blue bowl", "red bowl"]),
        ("cubes and cylinders", MOVERS),
        ("red cubes and cylinders", ["red cube", "red small cube"]),
        ("cubes except red cube", ["blue cube", "green small cube", "red small cube"]),
        ("cubes except the red cube", ["blue cube", "green small cube", "red small cube"]),
        ("cubes except red cube and blue cube", ["green small cube", "red small cube"]),
        ("cubes except the red cube, the blue cube", ["green small cube", "red small cube"]),
        ("every cube except the green one", ["red cube", "blue cube", "red small cube"]),
        (
            "objects except the red and blue ones",
            ["green small cube", "yellow cylinder", "purple cylinder"],
        ),
        ("cubes except red ones", ["blue cube", "green small cube"]),
        ("cubes except the small ones", ["red cube", "blue cube"]),
        ("cubes except for the red cube", ["blue cube", "green small cube", "red small cube"]),
        ("cubes but not red ones", ["blue cube", "green small cube"]),
        ("cubes other than the blue cube", ["red cube", "green small cube", "red small cube"]),
        ("both cubes except the small ones", ["red cube", "blue cube"]),
    ],
)
def test_members(words, expected):
    assert members(words, S) == expected


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("both cubes", "has 4 of them, not 2"),
        ("both trays", "has 1 of them, not 2"),
        ("purple cubes", "no object in the scene"),
        ("plates", "no object in the scene"),
        ("cubes except the cubes", "no object in the scene"),
        ("fuzzy cubes", "unknown word 'fuzzy'"),
        ("cubes except the wobbly one", "unknown word 'wobbly'"),
        ("cubes except purple cube", "nothing in it is 'purple cube'"),
        ("cubes except red bowl", "not in it"),
        ("the", "names no kind of object"),
        ("all of the", "names no kind of object"),
    ],
)
def test_bad_sets(words, message):
    with pytest.raises(GoalError) as exc:
        members(words, S)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_fixed_objects_are_no_objects():
    assert "blue bowl" not in members("blue objects", S)
    assert members("blue things", S) == ["blue cube"]


def test_quantifiers_ground_over_members():
    f = parse("all(x in small cubes: in(x, blue bowl))")
    assert ground(f, S) == And(
        (Atom("in", ("green small cube", "blue bowl")), Atom("in", ("red small cube", "blue bowl")))
    )
    f = parse("any(b in bowls: in(red cube, b))")
    assert ground(f, S) == Or(
        (Atom("in", ("red cube", "blue bowl")), Atom("in", ("red cube", "red bowl")))
    )


def test_all_and_any_after_grounding():
    # the red small cube in the blue bowl, the green small cube beside it
    s = scene(
        *[b for b in S.bodies if b.description != "red small cube"],
        body("red small cube", 0.62, 0.1, 0.008),
    )
    assert not evaluate("all(x in small cubes: in(x, blue bowl))", s).value
    assert evaluate("any(x in small cubes: in(x, blue bowl))", s).value
    assert evaluate("any(b in bowls: in(red small cube, b))", s).value
    assert not evaluate("any(b in bowls: in(green small cube, b))", s).value
    assert evaluate("all(x in small cubes except red small cube: not in(x, blue bowl))", s).value
    assert evaluate("all(x in cubes except small ones: on_table(x))", s).value
