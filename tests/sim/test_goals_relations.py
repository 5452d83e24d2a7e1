"""Relations between objects and parts of the table, at the documented boundaries.

Frame: left = -y, right = +y, in front = +x (toward the front camera), behind = -x.
left_of & co: >= 3 cm beyond b's center along the direction, within 45 deg of it.
next_to: footprints' gap <= 5 cm. far_from: centers >= d (0.15 m by default).
between: <= 3 cm off the segment, >= 3 cm from either end. Regions: thirds of the
workspace x 0.34..0.70, y -0.28..0.28. All of them: both placed, neither on the other.
"""

from __future__ import annotations

import pytest

from tests.sim.test_goals import X0, assert_margin, body, holds, one

B = body("blue cube")  # at (X0, 0)
# name -> the unit vector that points the way the relation says, in (x, y)
WAYS = {"left_of": (0, -1), "right_of": (0, 1), "in_front_of": (1, 0), "behind": (-1, 0)}


def toward(name: str, along: float, side: float = 0.0, desc: str = "red cube", **kw):
    """A body `along` meters the way `name` points from B, `side` meters across."""
    ux, uy = WAYS[name]
    return body(desc, X0 + ux * along + uy * side, ux * side + uy * along, **kw)


@pytest.mark.parametrize("name", list(WAYS))
def test_direction_distance(name):
    for along, value in ((0.031, True), (0.029, False), (0.2, True), (-0.05, False)):
        r = one(f"{name}(red cube, blue cube)", toward(name, along), B)
        assert_margin(r, value, min(along - 0.03, 0.2 - 0.03))


@pytest.mark.parametrize("name", list(WAYS))
def test_direction_cone(name):
    # 5 cm the right way, 4.9 cm to the side: inside 45 deg; 5.1 cm: outside
    for side, value in ((0.049, True), (-0.049, True), (0.051, False), (-0.051, False)):
        r = one(f"{name}(red cube, blue cube)", toward(name, 0.05, side), B)
        assert_margin(r, value, 0.05 - abs(side))


def test_frame():
    red = body("red cube", X0, -0.1)
    assert holds("left_of(red cube, blue cube)", red, B)
    assert holds("right_of(blue cube, red cube)", red, B)
    assert not holds("right_of(red cube, blue cube)", red, B)
    front = body("red cube", X0 + 0.1, 0.0)
    assert holds("in_front_of(red cube, blue cube)", front, B)
    assert holds("behind(blue cube, red cube)", front, B)
    assert not holds("behind(red cube, blue cube)", front, B)


def test_direction_detail_says_where():
    r = one("right_of(red cube, blue cube)", body("red cube", X0 + 0.05, -0.012), B)
    assert r.detail == "red cube is 1.2 cm left of blue cube, needs >= 3.0 cm right"
    r = one("in_front_of(red cube, blue cube)", body("red cube", X0 - 0.05, 0.0), B)
    assert r.detail == "red cube is 5.0 cm behind blue cube, needs >= 3.0 cm in front"


# -- next_to, far_from, between ------------------------------------------------------------
def test_next_to_gap():
    # two 4 cm cubes: centers 4 cm + gap apart
    for gap, value in ((0.049, True), (0.051, False), (0.0, True)):
        r = one("next_to(red cube, blue cube)", body("red cube", X0, 0.04 + gap), B)
        assert_margin(r, value, 0.05 - gap)
    # diagonal: the gap is along the line between the centers
    d = 2 * 0.02 * 2**0.5 + 0.049  # a cube's half-width along 45 deg is 2.83 cm
    r = one("next_to(red cube, blue cube)", body("red cube", X0 + d / 2**0.5, d / 2**0.5), B)
    assert_margin(r, True, 0.001)
    d += 0.002
    r = one("next_to(red cube, blue cube)", body("red cube", X0 + d / 2**0.5, d / 2**0.5), B)
    assert_margin(r, False, -0.001)


def test_next_to_turned_and_round():
    turned = body("blue cube", yaw=45)  # 2.83 cm to its corner along y
    for gap, value in ((0.049, True), (0.051, False)):
        r = one(
            "next_to(red cube, blue cube)", body("red cube", X0, 0.02 + 0.02 * 2**0.5 + gap), turned
        )
        assert_margin(r, value, 0.05 - gap)
        # a bowl is round: 7.5 cm to its edge every way
        r = one(
            "next_to(red cube, blue bowl)", body("red cube"), body("blue bowl", X0, 0.095 + gap)
        )
        assert_margin(r, value, 0.05 - gap)


def test_far_from():
    for dy, value in ((0.151, True), (0.149, False)):
        assert_margin(
            one("far_from(red cube, blue cube)", body("red cube", X0, -dy), B), value, dy - 0.15
        )
    for dy, value in ((0.301, True), (0.299, False)):
        r = one(
            "far_from(red cube, blue cube, 0.3)",
            body("red cube", X0 - 0.1, -dy),
            body("blue cube", X0 - 0.1, 0.0),
        )
        assert_margin(r, value, dy - 0.3)
    r = one("far_from(red cube, blue cube, 0.05)", body("red cube", X0, 0.06), B)
    assert_margin(r, True, 0.01)


def test_between():
    ends = (body("green cube", X0, -0.1), body("blue cube", X0, 0.1))
    goal = "between(red cube, green cube, blue cube)"
    for off, value in ((0.029, True), (-0.029, True), (0.031, False)):
        assert_margin(one(goal, body("red cube", X0 + off, 0.0), *ends), value, 0.03 - abs(off))
    for y, value in (
        (-0.1 + 0.031, True),
        (-0.1 + 0.029, False),
        (0.1 - 0.031, True),
        (0.1 - 0.029, False),
        (0.15, False),
    ):
        r = one(goal, body("red cube", X0, y), *ends)
        assert r.value is value
        if value:
            assert r.margin == pytest.approx(0.001, abs=1e-6)
    assert holds("between(red cube, blue cube, green cube)", body("red cube", X0, 0.0), *ends)


# -- regions ---------------------------------------------------------------------------------
T = 0.56 / 3 - 0.28  # -0.0933: the left third ends here


@pytest.mark.parametrize(
    ("name", "x", "y", "value", "margin"),
    [
        ("left_side", 0.5, T - 0.002, True, 0.002),
        ("left_side", 0.5, T + 0.002, False, -0.002),
        ("left_side", 0.5, 0.2, False, T - 0.2),
        ("right_side", 0.5, -T + 0.002, True, 0.002),
        ("right_side", 0.5, -T - 0.002, False, -0.002),
        ("front", 0.582, 0.0, True, 0.002),
        ("front", 0.578, 0.0, False, -0.002),
        ("back", 0.458, 0.0, True, 0.002),
        ("back", 0.462, 0.0, False, -0.002),
        ("middle", 0.52, -T - 0.003, True, 0.003),
        ("middle", 0.52, T - 0.003, False, -0.003),
        ("middle", 0.578, 0.0, True, 0.002),
        ("middle", 0.582, 0.0, False, -0.002),
        ("middle", 0.462, 0.0, True, 0.002),
        ("middle", 0.458, 0.0, False, -0.002),
        # corners: left and front at once
        ("left_side", 0.65, -0.2, True, 0.05),
        ("front", 0.65, -0.2, True, 0.05),
        # outside the workspace: in no region
        ("left_side", 0.5, -0.285, False, -0.005),
        ("front", 0.705, 0.0, False, -0.005),
        ("back", 0.335, 0.0, False, -0.005),
    ],
)
def test_regions(name, x, y, value, margin):
    assert_margin(one(f"{name}(red cube)", body("red cube", x, y)), value, margin, tol=1e-6)


def test_region_detail_is_plain():
    r = one("left_side(red cube)", body("red cube", 0.5, -0.25))  # 3 cm from the workspace's edge
    assert r.value and "-" not in r.detail


# -- the rules: held, in the air, tilted, resting on each other -----------------------------------
SIDE_BY_SIDE = [  # goal, then where the red cube stands to make it true (the rest fixed)
    ("left_of(red cube, blue cube)", (X0, -0.1)),
    ("right_of(blue cube, red cube)", (X0, -0.1)),
    ("in_front_of(red cube, blue cube)", (X0 + 0.1, 0.0)),
    ("behind(blue cube, red cube)", (X0 + 0.1, 0.0)),
    ("next_to(red cube, blue cube)", (X0, 0.06)),
    ("next_to(blue cube, red cube)", (X0, 0.06)),
    ("far_from(red cube, blue cube)", (X0, -0.2)),
    ("between(red cube, blue cube, green cube)", (X0, 0.1)),
    ("between(blue cube, red cube, green cube)", (X0, -0.1)),
    ("left_side(red cube)", (X0, -0.2)),
    ("right_side(red cube)", (X0, 0.2)),
    ("front(red cube)", (0.65, 0.0)),
    ("back(red cube)", (0.4, 0.0)),
    ("middle(red cube)", (0.52, 0.05)),
    ("on_table(red cube)", (X0, -0.1)),
]
OTHERS = (B, body("green cube", X0, 0.2))


@pytest.mark.parametrize(("goal", "xy"), SIDE_BY_SIDE)
def test_rules_held_in_the_air_tilted(goal, xy):
    assert holds(goal, body("red cube", *xy), *OTHERS)
    r = one(goal, body("red cube", *xy, held=True), *OTHERS)
    assert not r.value and r.margin < 0 and "gripper" in r.detail
    r = one(goal, body("red cube", *xy, 0.1), *OTHERS)  # resting on nothing
    assert not r.value and r.margin < 0
    r = one(goal, body("red cube", *xy, tilt=20), *OTHERS)
    assert not r.value and "tilted" in r.detail


@pytest.mark.parametrize(("goal", "xy"), SIDE_BY_SIDE[:-1])
def test_rules_on_another_cube_is_placed(goal, xy):
    # standing on a yellow cube counts as placed (on_table aside)
    lift = (body("yellow cube", *xy), body("red cube", *xy, 0.04))
    assert holds(goal, *lift, *OTHERS)


@pytest.mark.parametrize(
    ("goal", "red", "other"),
    [
        ("next_to(red cube, blue bowl)", (X0, 0.0, 0.008), body("blue bowl")),
        ("next_to(blue bowl, red cube)", (X0, 0.0, 0.008), body("blue bowl")),
        ("left_of(red cube, blue bowl)", (X0, -0.05, 0.008), body("blue bowl")),
        ("left_of(red cube, blue plate)", (X0, -0.05, 0.012), body("blue plate")),
        ("left_of(red cube, blue tray)", (X0, -0.05, 0.008), body("blue tray")),
        ("in_front_of(red cube, blue tray)", (X0 + 0.05, 0.0, 0.008), body("blue tray")),
        ("next_to(red cube, blue pad)", (X0, 0.04, 0.006), body("blue pad")),
        ("left_of(red cube, blue zone)", (X0, -0.05, 0.0), body("blue zone")),
        ("next_to(red cube, blue small cube)", (X0, 0.0, 0.025), body("blue small cube")),
        ("next_to(blue small cube, red cube)", (X0, 0.0, 0.025), body("blue small cube")),
        ("left_of(red cube, blue cylinder)", (X0, -0.018, 0.05), body("blue cylinder")),
        ("far_from(red cube, blue tray, 0.05)", (X0, -0.06, 0.008), body("blue tray")),
    ],
)
def test_rules_no_relation_with_what_one_rests_on(goal, red, other):
    r = one(goal, body("red cube", *red), other)
    assert not r.value and " on/in " in r.detail


def test_rules_relations_beside_a_container_hold():
    bowl = body("blue bowl")
    assert holds("next_to(red cube, blue bowl)", body("red cube", X0, -0.12), bowl)
    assert holds("left_of(red cube, blue bowl)", body("red cube", X0, -0.12), bowl)
    # two cubes in one bowl relate to each other
    a, b = body("red small cube", X0, -0.03, 0.008), body("green small cube", X0, 0.03, 0.008)
    assert holds("left_of(red small cube, green small cube)", a, b, bowl)
    assert holds("next_to(red small cube, green small cube)", a, b, bowl)
