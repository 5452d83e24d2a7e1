"""Kinds of object no task family uses (a duck and a mug from PyBullet's data, a bar, a
ball, generated meshes, an L-shaped bracket): each is built as it declares, rests where it
is put, is picked and placed by the oracle path, and the goal language judges it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.goals import GoalError, check, evaluate, read_world, start_poses
from sim.objects import BLOCKS, NOVEL, SHAPES
from sim.scenes import build_scene

# Where each kind is put by the oracle path: into a bowl if it fits, else onto a plate.
TARGET = {k: "blue bowl" if SHAPES[k].radius < 0.055 else "yellow plate" for k in NOVEL}


def test_the_novel_kinds_are_there_and_no_family_block():
    assert {"duck", "mug", "bar", "ball", "prism", "wedge", "bracket"} <= set(NOVEL)
    assert not set(NOVEL) & set(BLOCKS)
    assert all(SHAPES[k].graspable for k in NOVEL)


@pytest.mark.parametrize("kind", NOVEL)
def test_a_kind_is_built_as_declared_and_rests_where_it_is_put(world, kind):
    world.clear()
    obj = world.add(kind, "red", (0.5, 0.1), 0.0)
    world.settle()
    lo, hi = world.client.getAABB(obj.body)
    shape = SHAPES[kind]
    # the footprint and height the goal predicates read hold the built object, snugly
    # (PyBullet pads a mesh's bounds by its collision margin: a few millimetres; a wedge's
    # base is its centroid, not its bounding box's centre)
    for axis, half in enumerate(shape.footprint):
        centre = (0.5, 0.1)[axis]
        assert centre - half - 0.004 < lo[axis] and hi[axis] < centre + half + 0.004, kind
        assert (hi[axis] - lo[axis]) / 2 > half - 0.008, (kind, axis)
    assert abs(hi[2] - shape.height) < 0.004 and lo[2] < 0.003
    for yaw in (0.0, 1.1, -2.0):  # stable: nothing slides, tips or rolls away
        world.clear()
        obj = world.add(kind, "green", (0.45, -0.05), yaw)
        world.settle()
        body = read_world(world).get(f"green {kind}")
        for _ in range(4):
            world.step(60)
        after = read_world(world).get(f"green {kind}")
        assert math.hypot(after.pose[0] - 0.45, after.pose[1] + 0.05) < 0.003
        assert after.tilt < math.radians(3) and abs(after.z) < 0.003
        assert abs(after.yaw - body.yaw) < math.radians(2)


@pytest.mark.parametrize("kind", NOVEL)
def test_the_oracle_path_picks_and_places_each_kind(world, kind):
    from skills.robot import Robot

    target = TARGET[kind]
    goal = f"{'in' if 'bowl' in target else 'on'}(red {kind}, {target})"
    done = 0
    for seed in (1, 2):
        build_scene(world, f"red {kind}, {target}", np.random.default_rng(seed), goal=goal)
        start = start_poses(world)
        assert not evaluate(check(goal, read_world(world, start)), read_world(world)).value
        robot = Robot(world, start=start)
        robot.place_on(robot.find(f"red {kind}"), robot.find(target))
        state = read_world(world, start)
        done += evaluate(check(goal, state), state).value
        assert robot._grasper.outcomes[-1]["held"], robot._grasper.outcomes
    assert done == 2, kind


def test_the_goal_language_judges_goals_about_them(world):
    from skills.robot import Robot

    goal = "in(yellow duck, blue bowl) and left_of(red ball, green bar)"
    build_scene(
        world, "yellow duck, blue bowl, red ball, green bar", np.random.default_rng(3), goal=goal
    )
    start = start_poses(world)
    state = read_world(world, start)
    verdict = evaluate(check(goal, state), state)
    assert not verdict.value
    robot = Robot(world, start=start)
    robot.put_in(robot.find("yellow duck"), robot.find("blue bowl"))
    for move in robot.plan("left_of(red ball, green bar)"):
        robot.place_at(robot.find(move["object"]), (move["x"], move["y"]))
    state = read_world(world, start)
    verdict = evaluate(check(goal, state), state)
    assert verdict.value, [(a.atom, a.detail) for a in verdict.atoms]
    assert state.get("yellow duck").z > 0.0 and state.get("yellow duck").shape.name == "duck"
    with pytest.raises(GoalError, match="no container"):  # a duck holds nothing
        check("in(red ball, yellow duck)", state)
    assert [b.description for b in state.bodies if b.shape.name == "ball"] == ["red ball"]


def test_scenes_from_words_hold_them_and_their_other_words_name_them(world):
    from sim.object_list import parse_objects

    specs = parse_objects("yellow rubber duck, red rod on the left side, blue sphere, green mug")
    assert [s.shape for s in specs] == ["duck", "bar", "ball", "mug"]
    layout = build_scene(world, specs, np.random.default_rng(5), distractors=2)
    shapes = [o[1] for o in layout.objects]
    assert shapes[:4] == ["duck", "bar", "ball", "mug"]
    assert not set(shapes[4:]) & set(NOVEL)  # distractors stay the catalogue's


def test_families_never_use_them(world):
    from sim.families import FAMILIES
    from sim.runner import reset_task

    for family in FAMILIES:
        for seed in (0, 1):
            reset_task(world, family, seed)
            assert not {o.kind for o in world.objects} & set(NOVEL), family
