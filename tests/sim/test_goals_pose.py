"""How objects are turned and arranged: rotated_by, aligned, where_was, in_row, pyramid.

rotated_by: yaw within 12 deg of start + deg (counter-clockwise), modulo 90 deg for a
cube; placed. aligned: on the table, center within 1.5 cm, yaw within 12 deg. where_was:
on the table within 2 cm of where b started. in_row: on the table, each next >= 4 cm to
the right (+y), x within 2 cm of the mean. pyramid: bases' x within 1.5 cm, l left of r,
4-6 cm apart; top upright within 2 cm of their midpoint, bottom at 4 cm +- 1.2.
"""

from __future__ import annotations

import pytest

from tests.sim.test_goals import X0, assert_margin, body, holds, one

START = (X0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("deg", "yaw", "start_yaw", "value", "margin"),
    [
        (45, 56, 0, True, 1),
        (45, 58, 0, False, -1),
        (45, 34, 0, True, 1),
        (45, 32, 0, False, -1),
        (45, 45 + 90 + 5, 0, True, 7),  # a cube looks the same every 90 deg
        (45, -45, 0, True, 12),
        (-30, -30, 0, True, 12),  # clockwise
        (-30, 30, 0, False, -18),
        (30, 25, 80, True, 7),  # 80 + 30 = 110, i.e. 20 modulo 90
        (30, 125, 80, False, -3),
        (30, -155, 170, True, 7),  # past 180
        (20, 20, 0, True, 12),
    ],
)
def test_rotated_by(deg, yaw, start_yaw, value, margin):
    red = body("red cube", yaw=yaw, start=(X0, 0.0, 0.0, start_yaw))
    assert_margin(one(f"rotated_by(red cube, {deg})", red), value, margin, "deg", 1e-6)


def test_rotated_by_small_cube_and_without_start():
    assert holds(
        "rotated_by(red small cube, 30)", body("red small cube", yaw=40, start=(X0, 0.0, 0.0, 10))
    )
    # no start pose recorded: the start is now, so it has not turned at all
    assert not holds("rotated_by(red cube, 30)", body("red cube", yaw=30))


def test_rotated_by_needs_the_object_put_down():
    for kw in ({"held": True}, {"z": 0.1}, {"tilt": 20}):
        assert not holds("rotated_by(red cube, 30)", body("red cube", yaw=30, start=START, **kw))
    # put down on another cube is put down
    assert holds(
        "rotated_by(red cube, 30)", body("red cube", z=0.04, yaw=30, start=START), body("blue cube")
    )


def test_aligned():
    o = body("pink outline", yaw=30)
    goal = "aligned(red cube, pink outline)"
    assert_margin(one(goal, body("red cube", X0 + 0.014, 0.0, yaw=30), o), True, 0.001)
    assert_margin(one(goal, body("red cube", X0, 0.016, yaw=30), o), False, -0.001)
    assert_margin(one(goal, body("red cube", yaw=41), o), True, 1.0, "deg", 1e-6)
    assert_margin(one(goal, body("red cube", yaw=43), o), False, -1.0, "deg", 1e-6)
    assert_margin(one(goal, body("red cube", yaw=19), o), True, 1.0, "deg", 1e-6)
    assert holds(goal, body("red cube", yaw=30 + 90 + 5), o)
    assert holds(goal, body("red cube", yaw=30 - 180), o)
    assert not holds(goal, body("red cube", z=0.011, yaw=30), o)
    assert not holds(goal, body("red cube", yaw=30, tilt=16), o)
    assert not holds(goal, body("red cube", yaw=30, held=True), o)
    # a round object has no yaw to match
    assert holds("aligned(red cylinder, pink outline)", body("red cylinder", yaw=17), o)


def test_where_was():
    blue = body("blue cube", X0, 0.2, start=(X0, 0.1))
    for dy, value in ((0.019, True), (0.021, False)):
        r = one("where_was(red cube, blue cube)", body("red cube", X0, 0.1 + dy), blue)
        assert_margin(r, value, 0.02 - dy)
    red = body("red cube", X0 - 0.019, 0.0, start=START)
    assert_margin(one("where_was(red cube, red cube)", red), True, 0.001)
    assert not holds("where_was(red cube, red cube)", body("red cube", z=0.011, start=START))
    assert not holds("where_was(red cube, red cube)", body("red cube", held=True, start=START))
    assert "its own start" in one("where_was(red cube, red cube)", red).detail


def test_in_row():
    goal = "in_row(red cube, green cube, blue cube)"

    def row(gap=0.041, dx=0.0, **kw):
        return (
            body("red cube", X0, -gap),
            body("green cube", X0, 0.0),
            body("blue cube", X0 + dx, gap, **kw),
        )

    assert_margin(one(goal, *row()), True, 0.001)
    assert_margin(one(goal, *row(0.039)), False, -0.001)
    assert_margin(one(goal, *row(0.06, 0.0285)), True, 0.001)  # mean x moves 0.95 cm
    assert_margin(one(goal, *row(0.06, 0.0315)), False, -0.001)
    assert not holds("in_row(blue cube, green cube, red cube)", *row())  # right to left
    assert not holds(goal, *row(held=True))
    assert not holds(goal, *row(z=0.04))
    assert holds("in_row(red cube, blue cube)", *row())
    four = (*row(), body("yellow cube", X0, 0.1))
    assert holds("in_row(red cube, green cube, blue cube, yellow cube)", *four)
    assert not holds("in_row(red cube, green cube, yellow cube, blue cube)", *four)


def test_pyramid():
    goal = "pyramid(red cube, blue cube, green cube)"

    def pyr(ry=0.025, rx=0.0, top=(0.0, 0.04), **kw):
        return (
            body("red cube", X0, -0.025),
            body("blue cube", X0 + rx, ry),
            body("green cube", X0, top[0], top[1], **kw),
        )

    assert_margin(one(goal, *pyr()), True, 0.01)
    assert_margin(one(goal, *pyr(rx=0.014)), True, 0.001)
    assert_margin(one(goal, *pyr(rx=0.016)), False, -0.001)
    assert_margin(one(goal, *pyr(ry=-0.025 + 0.041, top=(-0.0045, 0.04))), True, 0.001)
    assert_margin(one(goal, *pyr(ry=-0.025 + 0.039, top=(-0.0055, 0.04))), False, -0.001)
    assert_margin(one(goal, *pyr(ry=-0.025 + 0.059, top=(0.0045, 0.04))), True, 0.001)
    assert_margin(one(goal, *pyr(ry=-0.025 + 0.061, top=(0.0055, 0.04))), False, -0.001)
    assert_margin(one(goal, *pyr(top=(0.019, 0.04))), True, 0.001)
    assert_margin(one(goal, *pyr(top=(0.021, 0.04))), False, -0.001)
    assert_margin(one(goal, *pyr(top=(0.0, 0.051))), True, 0.001)
    assert_margin(one(goal, *pyr(top=(0.0, 0.053))), False, -0.001)
    assert not holds("pyramid(blue cube, red cube, green cube)", *pyr())  # left and right swapped
    assert not holds(goal, *pyr(tilt=16))
    assert not holds(goal, *pyr(held=True))
