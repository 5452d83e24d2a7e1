"""The goal language's two forms: text (Lark grammar) and JSON, and their round trips."""

from __future__ import annotations

import json

import pytest

from sim.goals import And, Atom, GoalError, Not, Or, Quant, atoms, parse, to_json
from sim.goals.formula import from_json

L = Atom("left_of", ("red cube", "blue cube"))
R = Atom("right_of", ("red cube", "blue cube"))
ON = Atom("on", ("red cube", "blue plate"))


def round_trips(f) -> None:
    assert parse(str(f)) == f, str(f)
    assert from_json(to_json(f)) == f
    assert from_json(json.dumps(to_json(f))) == f
    assert parse(json.dumps(to_json(f))) == f


@pytest.mark.parametrize(
    ("text", "formula"),
    [
        ("left_of(red cube, blue cube)", L),
        ("  Left_Of( The Red  Cube ,blue   cube )  ", L),
        ("on(red cube, a blue plate)", ON),
        ("held(red cube)", Atom("held", ("red cube",))),
        ("left_of(red cube, blue cube) and on(red cube, blue plate)", And((L, ON))),
        ("left_of(red cube, blue cube) or on(red cube, blue plate)", Or((L, ON))),
        ("not left_of(red cube, blue cube)", Not(L)),
        # and binds tighter than or, not tighter than both
        (
            "left_of(red cube, blue cube) or right_of(red cube, blue cube) and on(red cube, blue plate)",
            Or((L, And((R, ON)))),
        ),
        (
            "left_of(red cube, blue cube) and right_of(red cube, blue cube) or on(red cube, blue plate)",
            Or((And((L, R)), ON)),
        ),
        ("not left_of(red cube, blue cube) and on(red cube, blue plate)", And((Not(L), ON))),
        ("not left_of(red cube, blue cube) or on(red cube, blue plate)", Or((Not(L), ON))),
        ("not (left_of(red cube, blue cube) or on(red cube, blue plate))", Not(Or((L, ON)))),
        (
            "left_of(red cube, blue cube) and (right_of(red cube, blue cube) or on(red cube, blue plate))",
            And((L, Or((R, ON)))),
        ),
        ("not not left_of(red cube, blue cube)", Not(Not(L))),
        ("((left_of(red cube, blue cube)))", L),
        (
            "all(x in cubes except red cube: in(x, brown tray))",
            Quant("all", "x", "cubes except red cube", Atom("in", ("x", "brown tray"))),
        ),
        (
            "any(obj in The Red  Objects: not on_table(obj))",
            Quant("any", "obj", "red objects", Not(Atom("on_table", ("obj",)))),
        ),
        (
            "not in(red cube, green bowl) or rotated_by(blue cube, 45)",
            Or(
                (
                    Not(Atom("in", ("red cube", "green bowl"))),
                    Atom("rotated_by", ("blue cube", 45.0)),
                )
            ),
        ),
    ],
)
def test_text_form(text, formula):
    assert parse(text) == formula
    round_trips(formula)


@pytest.mark.parametrize(
    ("text", "formula"),
    [
        # colours and words that contain the keywords or / and / not / in
        ("on(orange cube, red plate)", Atom("on", ("orange cube", "red plate"))),
        (
            "on(orange cube, red plate) or on(orange cube, pink plate)",
            Or(
                (
                    Atom("on", ("orange cube", "red plate")),
                    Atom("on", ("orange cube", "pink plate")),
                )
            ),
        ),
        ("next_to(notched cube, sandy inbox)", Atom("next_to", ("notched cube", "sandy inbox"))),
        ("next_to(knot cube, band cube)", Atom("next_to", ("knot cube", "band cube"))),
        (
            "all(x in cubes except the red cube and the orange cube: on_table(x))",
            Quant(
                "all",
                "x",
                "cubes except the red cube and the orange cube",
                Atom("on_table", ("x",)),
            ),
        ),
        (
            "any(x in orange or red cubes: held(x))",
            Quant("any", "x", "orange or red cubes", Atom("held", ("x",))),
        ),
        (
            "all(x in cubes: all(y in bowls: not in(x, y)))",
            Quant("all", "x", "cubes", Quant("all", "y", "bowls", Not(Atom("in", ("x", "y"))))),
        ),
        (
            "all(x in cubes: on_table(x)) and any(y in bowls: not in(red cube, y))",
            And(
                (
                    Quant("all", "x", "cubes", Atom("on_table", ("x",))),
                    Quant("any", "y", "bowls", Not(Atom("in", ("red cube", "y")))),
                )
            ),
        ),
    ],
)
def test_keywords_inside_words(text, formula):
    assert parse(text) == formula
    round_trips(formula)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("45", 45.0),
        ("-90", -90.0),
        ("+30", 30.0),
        ("0.15", 0.15),
        (".2", 0.2),
        ("12.", 12.0),
        ("1e-3", 0.001),
        ("0.123456789", 0.123456789),
    ],
)
def test_numbers(text, number):
    f = parse(f"far_from(red cube, blue cube, {text} )")
    assert f == Atom("far_from", ("red cube", "blue cube", number))
    assert isinstance(f.args[2], float)
    round_trips(f)


@pytest.mark.parametrize("number", [45.0, -90.0, 0.15, 1e-5, 1234567.891, 0.1 + 0.2, 2.5e20])
def test_numbers_print_exactly(number):
    round_trips(Atom("rotated_by", ("red cube", number)))


def test_a_word_with_digits_is_words():
    assert parse("on(red cube 2, blue plate)").args == ("red cube 2", "blue plate")
    assert parse("rotated_by(red cube, 45 degrees)").args == ("red cube", "45 degrees")


@pytest.mark.parametrize(
    "formula",
    [
        And((L, And((R, ON)))),  # nested as built, not as read
        And((And((L, R)), ON)),
        Or((L, Or((R, ON)))),
        Or((Or((L, R)), ON)),
        Not(And((L, R))),
        Not(Or((L, R))),
        Not(Not(L)),
        And((Or((L, R)), Not(ON))),
        Or((And((L, R)), And((Not(R), ON)))),
        Not(Quant("any", "x", "cubes", Atom("held", ("x",)))),
        And(
            (
                Quant(
                    "all", "x", "cubes", Or((Atom("held", ("x",)), Not(Atom("on_table", ("x",)))))
                ),
                L,
            )
        ),
        Atom("in_row", ("red cube", "blue cube", "green cube", "yellow cube")),
        Atom("far_from", ("red cube", "blue cube", 0.2)),
    ],
)
def test_round_trips(formula):
    round_trips(formula)


def test_text_of_precedence():
    assert str(And((Or((L, R)), ON))) == (
        "(left_of(red cube, blue cube) or right_of(red cube, blue cube)) and on(red cube, blue plate)"
    )
    assert (
        str(Not(And((L, ON)))) == "not (left_of(red cube, blue cube) and on(red cube, blue plate))"
    )
    assert str(Or((And((L, R)), ON))) == (
        "left_of(red cube, blue cube) and right_of(red cube, blue cube) or on(red cube, blue plate)"
    )
    assert str(Atom("rotated_by", ("red cube", 45.0))) == "rotated_by(red cube, 45)"


def test_json_form():
    data = {
        "and": [
            {"pred": "on", "args": ["Red Cube", "the blue plate"]},
            {"not": {"pred": "Left_Of", "args": ["green cube", "blue plate"]}},
            {
                "all": {
                    "var": "x",
                    "in": "cubes except red cube",
                    "where": {"pred": "held", "args": ["x"]},
                }
            },
            {"pred": "rotated_by", "args": ["blue cube", 45]},
        ]
    }
    f = parse(data)
    assert f == And(
        (
            ON,
            Not(Atom("left_of", ("green cube", "blue plate"))),
            Quant("all", "x", "cubes except red cube", Atom("held", ("x",))),
            Atom("rotated_by", ("blue cube", 45.0)),
        )
    )
    assert parse(json.dumps(data)) == f
    assert from_json({"or": [{"pred": "held", "args": ["red cube"]}]}) == Atom(
        "held", ("red cube",)
    )
    assert to_json(f)["and"][3] == {"pred": "rotated_by", "args": ["blue cube", 45.0]}
    assert parse(f) is f


def test_text_and_json_mean_the_same():
    text = "all(x in cubes except red cube: in(x, brown tray)) or not rotated_by(blue cube, 45)"
    f = parse(text)
    assert from_json(to_json(f)) == f
    assert parse(str(from_json(json.dumps(to_json(f))))) == f


def test_atoms_lists_every_atom_in_order():
    f = parse(
        "on(red cube, blue plate) or not (left_of(red cube, blue cube) and all(x in cubes: held(x)))"
    )
    assert [str(a) for a in atoms(f)] == [
        "on(red cube, blue plate)",
        "left_of(red cube, blue cube)",
        "held(x)",
    ]


def _one_line_error(goal) -> str:
    with pytest.raises(GoalError) as exc:
        parse(goal)
    msg = str(exc.value)
    assert msg and "\n" not in msg and "Traceback" not in msg
    return msg


@pytest.mark.parametrize(
    ("goal", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("on(red cube, blue plate", "at its end"),
        ("on(red cube, blue plate) and", "at its end"),
        ("on red cube", "column"),
        ("on(red cube, blue plate)) ", "column"),
        ("on()", "column"),
        ("on(red cube,, blue plate)", "column"),
        ("on(red cube, )", "cannot read"),
        ("and on(red cube, blue plate)", "column"),
        ("on(red cube, blue plate) on(red cube, blue plate)", "column"),
        ("all(x in : held(x))", "cannot read"),
        ("all(x cubes: held(x))", "column"),
        ("all(x in cubes held(x))", "column"),
    ],
)
def test_malformed_text(goal, words):
    msg = _one_line_error(goal)
    assert words in msg
    assert "expected e.g." in msg or "empty" in msg


@pytest.mark.parametrize(
    ("goal", "words"),
    [
        ("{not json", "not valid JSON"),
        ({}, "one of pred/and/or/not/all/any"),
        ({"and": [], "or": []}, "one of"),
        ({"and": []}, "non-empty list"),
        ({"or": {"pred": "held"}}, "non-empty list"),
        ({"xor": [{"pred": "held", "args": ["red cube"]}]}, "unknown goal node 'xor'"),
        ({"pred": 3, "args": []}, "bad atom"),
        ({"pred": "held", "args": "red cube"}, "bad atom"),
        ({"pred": "held", "args": [True]}, "bad argument"),
        ({"pred": "held", "args": [None]}, "bad argument"),
        ({"pred": "held", "args": [["red cube"]]}, "bad argument"),
        ({"pred": "held", "args": [""]}, "empty"),
        ({"pred": "held", "args": ["red cube, blue cube"]}, "bad argument"),
        ({"pred": "rotated_by", "args": ["red cube", float("nan")]}, "bad argument"),
        ({"pred": "", "args": ["red cube"]}, "bad atom"),
        ({"all": {"var": "x", "in": "cubes"}}, "var, in and where"),
        (
            {"all": {"var": "red cube", "in": "cubes", "where": {"pred": "held", "args": ["x"]}}},
            "variable",
        ),
        ({"all": {"var": "x", "in": "", "where": {"pred": "held", "args": ["x"]}}}, "set"),
        ({"not": "held(red cube)"}, "one of"),
        ([{"pred": "held", "args": ["red cube"]}], "text or JSON"),
        (3, "text or JSON"),
        (None, "text or JSON"),
    ],
)
def test_malformed_json(goal, words):
    assert words in _one_line_error(goal)
