"""What rests on or in what (`sim.goals.predicates.support`), at the documented boundaries.

on(a, block): center within 2 cm, bottom at the block's top within 1.2 cm, upright, not
held. on(a, tray | plate | pad): center inside the usable area (tray and plate 6.5 cm
from the center, pad its 11 cm square), bottom on the surface within 1.5 cm. in(a, bowl):
center within 5.2 cm, bottom below the rim. in(a, zone): center inside the zone less 1 cm,
upright, bottom below 1 cm. on_table: upright, bottom below 1 cm, not held, over no tray,
plate, pad or bowl. held: in the gripper, bottom >= 5 cm. upright: tilt < 15 deg.
"""

from __future__ import annotations

import pytest

from sim.objects import SHAPES
from tests.sim.test_goals import X0, assert_margin, body, holds, one

CUBE_TOP = SHAPES["cube"].surface  # 4 cm


# -- on a block ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("base", "top"), [("blue cube", 0.04), ("blue small cube", 0.025), ("blue cylinder", 0.05)]
)
def test_on_block_center(base, top):
    b = body(base)
    for dx, value in ((0.019, True), (0.021, False)):
        a = body("red cube", X0 + dx, 0.0, top)
        assert_margin(one(f"on(red cube, {base})", a, b), value, 0.02 - dx)
    # any horizontal direction: 1.9 cm along the diagonal
    a = body("red cube", X0 + 0.0134, 0.0134, top)
    assert_margin(one(f"on(red cube, {base})", a, b), True, 0.02 - 0.01895)


def test_on_block_height():
    b = body("blue cube")
    for dz, value in ((0.011, True), (-0.011, True), (0.013, False), (-0.013, False)):
        a = body("red cube", z=CUBE_TOP + dz)
        assert_margin(one("on(red cube, blue cube)", a, b), value, 0.012 - abs(dz))


def test_on_block_upright_and_not_held():
    b = body("blue cube")
    assert_margin(
        one("on(red cube, blue cube)", body("red cube", z=CUBE_TOP, tilt=14), b),
        True,
        1.0,
        "deg",
        1e-6,
    )
    assert_margin(
        one("on(red cube, blue cube)", body("red cube", z=CUBE_TOP, tilt=16), b),
        False,
        -1.0,
        "deg",
        1e-6,
    )
    r = one("on(red cube, blue cube)", body("red cube", z=CUBE_TOP, held=True), b)
    assert not r.value and r.margin < 0 and "gripper" in r.detail


def test_on_block_on_a_raised_block():
    # the blue cube itself on a green cube: the red cube's bottom at 8 cm
    lo, mid = body("green cube"), body("blue cube", z=CUBE_TOP)
    assert holds("on(red cube, blue cube)", body("red cube", z=2 * CUBE_TOP + 0.005), mid, lo)
    assert not holds("on(red cube, blue cube)", body("red cube", z=CUBE_TOP), mid, lo)


# -- on a tray, plate or pad ----------------------------------------------------------------
def test_on_plate_inner_radius():
    p = body("green plate")  # surface 1.2 cm, usable radius 6.5 cm
    for x, y, value, margin in (
        (0.064, 0.0, True, 0.001),
        (0.066, 0.0, False, -0.001),
        (0.0, -0.064, True, 0.001),
        (0.045, 0.045, True, 0.065 - 0.06364),  # round: the diagonal counts as far
        (0.047, 0.047, False, 0.065 - 0.06647),
    ):
        a = body("red cube", X0 + x, y, 0.012)
        assert_margin(one("on(red cube, green plate)", a, p), value, margin)


def test_on_tray_inner_square_turns_with_the_tray():
    t = body("green tray")  # surface 0.8 cm, usable square 2 x 6.5 cm
    for x, y, value, margin in (
        (0.064, 0.064, True, 0.001),
        (0.066, 0.0, False, -0.001),
        (0.0, 0.066, False, -0.001),
    ):
        assert_margin(
            one("on(red cube, green tray)", body("red cube", X0 + x, y, 0.008), t), value, margin
        )
    turned = body("green tray", yaw=45)
    # 9 cm along x is 6.36 cm along each of the turned tray's axes: inside
    assert_margin(
        one("on(red cube, green tray)", body("red cube", X0 + 0.09, 0.0, 0.008), turned),
        True,
        0.065 - 0.06364,
    )
    # a corner of the unturned square is outside the turned one
    assert not holds("on(red cube, green tray)", body("red cube", X0 + 0.06, 0.06, 0.008), turned)


def test_on_pad_square():
    p = body("green pad")  # surface 0.6 cm, 11 cm square
    for x, value in ((0.054, True), (0.056, False)):
        assert_margin(
            one("on(red cube, green pad)", body("red cube", X0, x, 0.006), p), value, 0.055 - x
        )


@pytest.mark.parametrize(
    ("target", "surface"), [("green plate", 0.012), ("green tray", 0.008), ("green pad", 0.006)]
)
def test_on_target_height(target, surface):
    t = body(target)
    for dz, value in ((0.014, True), (0.016, False)):
        r = one(f"on(red cube, {target})", body("red cube", z=surface + dz), t)
        assert_margin(r, value, 0.015 - dz)
    assert holds(f"on(red cube, {target})", body("red cube", z=surface - 0.005), t)


def test_on_target_not_held():
    r = one("on(red cube, green plate)", body("red cube", z=0.012, held=True), body("green plate"))
    assert not r.value and "gripper" in r.detail


def test_in_tray_is_on_tray():
    t = body("green tray")
    for dx in (0.064, 0.066):
        a = body("red cube", X0 + dx, 0.0, 0.008)
        r_in, r_on = one("in(red cube, green tray)", a, t), one("on(red cube, green tray)", a, t)
        assert (r_in.value, r_in.margin, r_in.detail) == (r_on.value, r_on.margin, r_on.detail)


# -- in a bowl or zone ----------------------------------------------------------------------
def test_in_bowl_inner_radius_and_rim():
    w = body("blue bowl")  # 5.2 cm usable radius, rim at 5 cm
    for x, y, value in (
        (0.051, 0.0, True),
        (0.053, 0.0, False),
        (0.036, -0.036, True),
        (0.0375, -0.0375, False),
    ):
        r = one("in(red cube, blue bowl)", body("red cube", X0 + x, y, 0.008), w)
        assert_margin(r, value, 0.052 - (x * x + y * y) ** 0.5)
    # a cube standing on another cube in the bowl is in it, below the rim
    lo = body("green small cube", z=0.008)
    assert holds("in(red cube, blue bowl)", body("red cube", z=0.008 + 0.025), lo, w)
    # above the rim: not in it (on a cylinder that sticks out of the bowl)
    tall = body("green cylinder", z=0.008)
    r = one("in(red cube, blue bowl)", body("red cube", z=0.058), tall, w)
    assert_margin(r, False, 0.05 - 0.058)
    assert "above blue bowl's rim" in r.detail


def test_on_bowl_is_in_bowl_and_not_held_or_in_the_air():
    w = body("blue bowl")
    assert holds("on(red cube, blue bowl)", body("red cube", X0 + 0.05, 0, 0.008), w)
    assert not holds("on(red cube, blue bowl)", body("red cube", X0 + 0.054, 0, 0.008), w)
    assert not holds("in(red cube, blue bowl)", body("red cube", z=0.008, held=True), w)
    assert not holds("in(red cube, blue bowl)", body("red cube", z=0.035), w)  # falling


def test_in_zone():
    zone = body("orange zone")  # 13 cm square, 1 cm margin: 5.5 cm from the center
    for x, y, value in ((0.054, 0.054, True), (0.056, 0.0, False), (0.0, -0.056, False)):
        r = one("in(red cube, orange zone)", body("red cube", X0 + x, y), zone)
        assert_margin(r, value, 0.055 - max(abs(x), abs(y)))
    assert holds("on(red cube, orange zone)", body("red cube", z=0.009), zone)
    assert not holds("in(red cube, orange zone)", body("red cube", z=0.011), zone)
    assert not holds("in(red cube, orange zone)", body("red cube", tilt=16), zone)
    assert not holds("in(red cube, orange zone)", body("red cube", held=True), zone)
    assert holds(
        "in(red cube, orange zone)", body("red cube", X0 + 0.07, 0.0), body("orange zone", yaw=45)
    )


# -- on the table, stacked, held, upright -------------------------------------------------------
def test_on_table():
    plate, bowl, zone = (
        body("green plate", 0.6, 0.2),
        body("blue bowl", 0.4, 0.2),
        body("pink zone", 0.6, -0.2),
    )
    things = (plate, bowl, zone)
    assert_margin(one("on_table(red cube)", body("red cube", z=0.009), *things), True, 0.001)
    assert_margin(one("on_table(red cube)", body("red cube", z=0.011), *things), False, -0.001)
    assert_margin(
        one("on_table(red cube)", body("red cube", tilt=16), *things), False, -1.0, "deg", 1e-6
    )
    assert not holds("on_table(red cube)", body("red cube", held=True), *things)
    assert not holds(
        "on_table(red cube)", body("red cube", 0.6, 0.2, 0.012), *things
    )  # on the plate
    assert not holds(
        "on_table(red cube)", body("red cube", 0.4, 0.2, 0.008), *things
    )  # in the bowl
    assert holds("on_table(red cube)", body("red cube", 0.6, -0.2), *things)  # a zone is painted
    assert holds(
        "on_table(red cube)", body("red cube", 0.6, 0.2 - 0.08), *things
    )  # beside the plate
    assert not holds("on_table(red cube)", body("red cube", z=0.04), body("blue cube"))  # stacked


def test_stacked():
    lo, mid = body("blue cube"), body("green small cube", z=0.04)
    top = body("red cube", z=0.065)
    assert holds("stacked(blue cube, green small cube, red cube)", lo, mid, top)
    assert holds("stacked(blue cube, green small cube)", lo, mid, top)
    assert not holds("stacked(green small cube, red cube)", lo, mid, top)  # not on the table
    off = body("red cube", X0 + 0.021, 0.0, 0.065)
    r = one("stacked(blue cube, green small cube, red cube)", lo, mid, off)
    assert_margin(r, False, -0.001)
    assert not holds(
        "stacked(blue cube, green small cube, red cube)",
        body("blue cube", z=0.011),
        body("green small cube", z=0.051),
        body("red cube", z=0.076),
    )


def test_held():
    assert_margin(one("held(red cube)", body("red cube", z=0.06, held=True)), True, 0.01)
    assert_margin(one("held(red cube)", body("red cube", z=0.049, held=True)), False, -0.001)
    r = one("held(red cube)", body("red cube", z=0.2))
    assert not r.value and "does not hold" in r.detail


def test_upright():
    assert_margin(one("upright(red cube)", body("red cube", tilt=14)), True, 1.0, "deg", 1e-6)
    assert_margin(one("upright(red cube)", body("red cube", tilt=16)), False, -1.0, "deg", 1e-6)
    assert not holds("upright(red cube)", body("red cube", tilt=90))
    assert holds("upright(blue bowl)", body("blue bowl"))


def test_details_have_no_negative_distances():
    w, p = body("blue bowl"), body("green plate", 0.6, 0.2)
    for goal, bodies in (
        ("in(red cube, blue bowl)", (body("red cube", z=0.008), w)),
        ("in(red cube, blue bowl)", (body("red cube", z=0.06), body("green cylinder", z=0.008), w)),
        ("on(red cube, green plate)", (body("red cube", 0.6, 0.2, 0.012), p)),
        ("on(red cube, green plate)", (body("red cube", 0.7, 0.2, 0.012), p)),
        ("on_table(red cube)", (body("red cube"),)),
    ):
        r = one(goal, *bodies)
        assert " -" not in r.detail, r.detail
