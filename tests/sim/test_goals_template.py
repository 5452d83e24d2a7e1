"""Goal templates: goals of one shape lift to one text, and fill back to the goal."""

from __future__ import annotations

import pytest

from sim.goals import parse
from sim.goals.template import lift, recolor


@pytest.mark.parametrize(
    "a,b",
    [
        ("left_of(red cube, blue bowl)", "left_of(green small cube, yellow plate)"),
        ("rotated_by(red cube, 45)", "rotated_by(blue cylinder, 90)"),
        (
            "all(x in cubes except green cube: in(x, blue bowl))",
            "all(x in cubes except red cube: in(x, pink bowl))",
        ),
        (
            "on(a cube, b plate) and not next_to(c cube, b plate)",
            "on(x cube, y plate) and not next_to(z cube, y plate)",
        ),
    ],
)
def test_goals_of_one_shape_share_a_template(a, b):
    assert lift(a).text == lift(b).text
    assert lift(a).name == lift(b).name


@pytest.mark.parametrize(
    "goal",
    [
        "left_of(red cube, blue bowl)",
        "rotated_by(red cube, 45) and on(blue cube, red plate)",
        "all(x in red things: on_table(x))",
        "all(x in cubes except red cube: left_of(x, red cube))",
        "not in(red cube, blue bowl) or between(green cube, red cube, blue cube)",
        "far_from(red cube, blue bowl, 0.25)",
    ],
)
def test_a_template_fills_back_to_its_goal(goal):
    t = lift(goal)
    assert parse(t.fill()) == parse(goal)
    assert "red" not in t.text and "cube," not in t.text  # objects and colors are slots


def test_slots_are_named_in_order_and_one_object_is_one_slot():
    t = lift("between(green cube, red cube, blue cube) and left_of(red cube, blue bowl)")
    assert t.text == "between(?a, ?b, ?c) and left_of(?b, ?d)"
    assert t.values == {"a": "green cube", "b": "red cube", "c": "blue cube", "d": "blue bowl"}
    assert t.name == "put_between_and_left_of"
    assert (
        lift("all(x in cubes except red cube: left_of(x, red cube))").text
        == "all(x in cubes except ?a: left_of(x, ?a))"
    )
    assert lift("all(x in red things: on_table(x))").values == {"color": "red"}
    assert lift("rotated_by(red cube, 45)").values == {"a": "red cube", "n": 45.0}


def test_different_shapes_differ_and_names_stay_short():
    assert lift("left_of(red cube, blue bowl)").text != lift("right_of(red cube, blue bowl)").text
    assert lift("left_of(red cube, blue bowl)").text != lift("left_of(red cube, red cube)").text
    long = " and ".join(
        f"left_of({c} cube, {d} bowl)"
        for c, d in [("red", "blue"), ("green", "pink"), ("cyan", "yellow"), ("orange", "purple")]
    )
    name = lift(long + " and in_front_of(red cube, pink bowl)").name
    assert len(name) <= 64 and name.startswith("put_left_of_and_")


def test_recolor_renames_all_colors_at_once():
    assert (
        recolor("red cube on blue plate", {"red": "blue", "blue": "red"})
        == "blue cube on red plate"
    )
    assert recolor("reddish things", {"red": "blue"}) == "reddish things"
