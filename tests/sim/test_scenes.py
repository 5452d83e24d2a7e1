"""Scenes from words: reading object lists, seeded layouts that keep their start relations,
goals false at the start, and refusals that say what cannot be."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sim.errors import SimError
from sim.goals import Goal, evaluate, parse, read_world
from sim.goals.predicates.regions import X0, X1, Y0, Y1
from sim.objects import SHAPES
from sim.scenes import Layout, ObjectSpec, build_scene, parse_objects, place

EXAMPLE = (
    "red cube, blue bowl, green cube on yellow plate, purple cube left of red cube, cube, "
    "orange cylinder in the middle"
)
RELATIONS = (
    "red cube on blue cube, green cube in front of red cube, yellow small cube next to green "
    "cube, pink cylinder far from yellow small cube, blue tray on the left side, cyan cube in "
    "blue tray, purple cube behind orange bowl"
)


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def relation_atoms(specs: list[ObjectSpec], layout: Layout) -> list[str]:
    descs = layout.descriptions
    out = []
    for i, s in enumerate(specs):
        if s.relation:
            args = [descs[i]] + ([descs[s.ref]] if s.ref is not None else [])
            out.append(f"{s.relation}({', '.join(args)})")
    return out


# -- reading --------------------------------------------------------------------------------
def test_parse_the_example():
    specs = parse_objects(EXAMPLE)
    assert [(s.color, s.shape, s.relation, s.ref) for s in specs] == [
        ("red", "cube", None, None),
        ("blue", "bowl", None, None),
        ("green", "cube", "on", 3),
        ("yellow", "plate", None, None),  # named by the entry before it, added after it
        ("purple", "cube", "left_of", 0),
        (None, "cube", None, None),  # its color is chosen when the scene is built
        ("orange", "cylinder", "middle", None),
    ]
    assert specs[2].text == "green cube on yellow plate"


@pytest.mark.parametrize(
    ("text", "color", "shape", "relation"),
    [
        ("small blue cube", "blue", "small cube", None),
        ("blue small cube", "blue", "small cube", None),
        ("a red block", "red", "cube", None),
        ("red cube in front of blue bowl", "red", "cube", "in_front_of"),
        ("red cube to the left of blue bowl", "red", "cube", "left_of"),
        ("red cube right of blue bowl", "red", "cube", "right_of"),
        ("red cube behind blue bowl", "red", "cube", "behind"),
        ("red cube near blue bowl", "red", "cube", "next_to"),
        ("red cube next to blue bowl", "red", "cube", "next_to"),
        ("red cube far from blue bowl", "red", "cube", "far_from"),
        ("red cube in blue bowl", "red", "cube", "in"),
        ("red cube on the left side of the table", "red", "cube", "left_side"),
        ("red cube on the right side", "red", "cube", "right_side"),
        ("red cube in the front", "red", "cube", "front"),
        ("red cube at the back", "red", "cube", "back"),
        ("Red  Cube in the MIDDLE", "red", "cube", "middle"),
    ],
)
def test_parse_entries(text, color, shape, relation):
    first = parse_objects(text)[0]
    assert (first.color, first.shape, first.relation) == (color, shape, relation)


def test_parse_a_json_list_and_shared_references():
    specs = parse_objects('["red cube on blue plate", "green cube on blue plate"]')
    assert [s.description for s in specs] == ["red cube", "blue plate", "green cube"]
    assert specs[0].ref == specs[2].ref == 1
    specs = parse_objects("cube on plate and cylinder on plate")  # one plate, colors free
    assert [(s.shape, s.ref) for s in specs] == [("cube", 1), ("plate", None), ("cylinder", 1)]
    specs = parse_objects("red cube on blue plate, green cube next to plate")
    assert [s.description for s in specs] == ["red cube", "blue plate", "green cube"]
    assert specs[2].ref == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("red banana", "unknown shape 'banana'"),
        ("magenta cube", "unknown color 'magenta'"),
        ("red cube on red cube", "'red cube on red cube': an object cannot relate to itself"),
        ("red cube, red cube", "two objects are both the red cube"),
        ("red cube on plate, blue plate, green plate", "which plate?"),
        ("red", "names no shape"),
        (" , ", "the object list is empty"),
    ],
)
def test_parse_refusals(text, message):
    with pytest.raises(SimError, match=message):
        parse_objects(text)


# -- building -------------------------------------------------------------------------------
def test_same_seed_same_layout(world):
    a = build_scene(world, EXAMPLE, rng(5), distractors=2)
    b = build_scene(world, EXAMPLE, rng(6), distractors=2)
    c = build_scene(world, EXAMPLE, rng(5), distractors=2)
    assert a == c and a != b
    assert [o.description for o in world.objects] == a.descriptions


def test_start_relations_hold_after_settling_and_the_layout_is_clear(world):
    specs = parse_objects(RELATIONS)
    for seed in range(4):
        layout = build_scene(world, specs, rng(seed), distractors=2)
        state = read_world(world)
        descs = layout.descriptions
        assert descs == state.descriptions and len(set(descs)) == len(descs) == len(specs) + 2
        listed = {s.description for s in specs}
        assert not listed & set(descs[len(specs) :])  # distractors: other descriptions
        start = parse(" and ".join(relation_atoms(specs, layout)))
        verdict = evaluate(Goal(start, start), state)  # a fixed tray in a region: no refusal
        assert verdict.value, [a.line() for a in verdict.atoms if not a.value]
        on = {descs[i]: descs[s.ref] for i, s in enumerate(specs) if s.relation in ("on", "in")}
        for d, shape, _, (x, y, _z, _) in layout.objects:
            b = state.get(d)
            assert b.tilt < math.radians(5), d
            r = 0.0 if d in on else SHAPES[shape].radius
            assert X0 + r <= x <= X1 - r and Y0 + r <= y <= Y1 - r, d
            for e, other, _, p in layout.objects:  # footprints apart, with finger room
                if e == d or on.get(d) == e or on.get(e) == d or on.get(d, 1) == on.get(e, 2):
                    continue
                if on.get(on.get(d)) == e or on.get(on.get(e)) == d:
                    continue
                gap = 0.035 if SHAPES[shape].graspable or SHAPES[other].graspable else 0.02
                need = SHAPES[shape].radius + SHAPES[other].radius + gap
                assert math.hypot(x - p[0], y - p[1]) >= need - 1e-9, (d, e)
        for pt in world.client.getContactPoints():
            if world.table not in (pt[1], pt[2]):
                assert pt[8] > -0.005, "objects interpenetrate"


def test_the_goal_is_false_at_the_start(world):
    goal = "left_of(red cube, blue cube)"  # true in about half of the random scenes
    for seed in range(6):
        build_scene(world, "red cube, blue cube, green bowl", rng(seed), goal=goal)
        assert not evaluate(goal, read_world(world)).value


def test_a_colour_left_free_takes_the_one_the_goal_names(world):
    layout = build_scene(world, "cube, blue bowl", rng(0), goal="in(red cube, blue bowl)")
    assert layout.descriptions == ["red cube", "blue bowl"]


@pytest.mark.parametrize(
    ("objects", "goal", "message"),
    [
        ("red cube on red cube", None, "'red cube on red cube': an object cannot relate to itself"),
        (", ".join(["cube"] * 40), None, "too many objects for the table: 40 objects"),
        ("red cube, green pyramid", None, "unknown shape 'pyramid'"),
        (
            "red cube, blue bowl",
            "upright(red cube)",
            "the goal already holds in every scene sampled: upright\\(red cube\\)",
        ),
        ("red cube in blue bowl, blue bowl", "in(red cube, blue bowl)", "the goal already holds"),
        (", ".join(["cube"] * 9), None, "no free color left for another cube"),
        ("blue plate on red cube", None, "'blue plate on red cube': the blue plate is fixed"),
        ("red cube left of blue cube, blue cube left of red cube", None, "contradict each other"),
        (
            "red cube in blue bowl, green cube in blue bowl, yellow cube in blue bowl",
            None,
            "the start relation 'yellow cube in blue bowl'",
        ),  # three cubes do not fit in one bowl
        ("red cube, blue bowl", "in(green cube, blue bowl)", "no 'green cube' in the scene"),
    ],
)
def test_refusals_say_what_cannot_be(world, objects, goal, message):
    with pytest.raises(SimError, match=message):
        build_scene(world, objects, rng(0), goal=goal, tries=20)


def test_layout_json_round_trip_and_place_rebuilds_it(world):
    layout = build_scene(world, EXAMPLE, rng(3), distractors=1)
    built = [(b.description, b.pose) for b in read_world(world).bodies]
    data = layout.to_json()
    row = data["objects"][0]
    assert row["pose"][3] == pytest.approx(math.degrees(layout.objects[0][3][3]))  # degrees
    back = Layout.from_json(json.dumps(data))
    assert back.descriptions == layout.descriptions
    for (_, s, c, p), (_, s2, c2, p2) in zip(layout.objects, back.objects, strict=True):
        assert (s, c) == (s2, c2) and p == pytest.approx(p2, abs=1e-12)
    build_scene(world, "red cube, blue bowl", rng(0))  # something else in between
    place(world, layout)
    assert [(b.description, b.pose) for b in read_world(world).bodies] == built
    with pytest.raises(SimError, match="bad layout entry"):
        Layout.from_json({"objects": [{"shape": "cube", "color": "red"}]})
