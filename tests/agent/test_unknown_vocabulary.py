"""A kind of object added in one place (`sim.objects.SHAPES`) is named everywhere: the goal
reader and the names skill code resolves."""

from __future__ import annotations

import pytest

from agent.understand import read_goal
from skills.naming import SHAPE_PHRASES, parse

# The words of the catalogue's kinds before they moved into `sim.objects.SHAPES`, in order.
CATALOGUE_WORDS = [
    ("small cube", "small cube"),
    ("small block", "small cube"),
    ("little cube", "small cube"),
    ("little block", "small cube"),
    ("tiny cube", "small cube"),
    ("tiny block", "small cube"),
    ("mini cube", "small cube"),
    ("small box", "small cube"),
    ("marked area", "zone"),
    ("target area", "zone"),
    ("target zone", "zone"),
    ("cube", "cube"),
    ("block", "cube"),
    ("box", "cube"),
    ("cuboid", "cube"),
    ("brick", "cube"),
    ("cylinder", "cylinder"),
    ("can", "cylinder"),
    ("tube", "cylinder"),
    ("peg", "cylinder"),
    ("bowl", "bowl"),
    ("basin", "bowl"),
    ("cup", "bowl"),
    ("tray", "tray"),
    ("bin", "tray"),
    ("crate", "tray"),
    ("plate", "plate"),
    ("dish", "plate"),
    ("disk", "plate"),
    ("disc", "plate"),
    ("saucer", "plate"),
    ("pad", "pad"),
    ("mat", "pad"),
    ("coaster", "pad"),
    ("zone", "zone"),
    ("area", "zone"),
    ("region", "zone"),
    ("spot", "zone"),
    ("outline", "outline"),
    ("frame", "outline"),
    ("silhouette", "outline"),
    ("contour", "outline"),
]


def test_the_catalogues_words_are_unchanged():
    kinds = {s for _, s in CATALOGUE_WORDS}
    assert [r for r in SHAPE_PHRASES if r[1] in kinds] == CATALOGUE_WORDS


@pytest.mark.parametrize(
    "text,formula",
    [
        ("put the yellow duck in the blue bowl", "in(yellow duck, blue bowl)"),
        ("place the red mug on the yellow plate", "on(red mug, yellow plate)"),
        ("put the green rod to the left of the red cube", "left_of(green bar, red cube)"),
        ("put the blue sphere behind the green long bar", "behind(blue ball, green bar)"),
        ("move the orange wedge into the blue tray", "in(orange wedge, blue tray)"),
        ("put the red L-bracket on the yellow plate", "on(red bracket, yellow plate)"),
        (
            "put the purple hexagonal prism next to the cyan duck",
            "next_to(purple prism, cyan duck)",
        ),
        ("put all the balls in the blue bowl", "all(x in balls: in(x, blue bowl))"),
    ],
)
def test_the_goal_reader_knows_them(text, formula):
    assert str(read_goal(text).formula) == formula


def test_names_skill_code_resolves():
    assert parse("the yellow rubber ducks") == ("yellow", "duck")
    assert parse("a red triangular prism") == ("red", "wedge")
    assert parse("green prisms") == ("green", "prism")
