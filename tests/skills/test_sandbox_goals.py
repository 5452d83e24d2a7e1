"""The sandbox judges runs by goals, on the end state the run's trusted process reads from
its own simulator, in the worker's server (neither runs skill code): scenes given by their
layout, a request's goal over a family's own, and what a skill cannot fake."""

from __future__ import annotations

import numpy as np
import pytest

from skills.errors import SkillError
from skills.sandbox import SandboxPool

MOVE_LEFT = """
def move_left(robot):
    cube = robot.find("red cube")
    x, y, z, yaw = robot.pose(robot.find("blue cube"))
    robot.place_at(cube, (x, y - 0.12))
"""

CLAIM = """
def claim(robot):
    print("success: true")
    return True
"""


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=1) as p:
        yield p


@pytest.fixture(scope="module")
def layout():
    from sim.scenes import build_scene, parse_objects
    from sim.world import World

    world = World()
    try:
        # The blue cube stands right of the table's middle: there is room left of it.
        objs = parse_objects("red cube, blue cube on the right side")
        return build_scene(
            world, objs, np.random.default_rng(4), goal="left_of(red cube, blue cube)"
        )
    finally:
        world.close()


def test_a_scene_from_its_layout_is_judged_by_the_goal(pool, layout):
    res = pool.run(
        MOVE_LEFT,
        "move_left",
        None,
        0,
        {},
        60,
        scene=layout.to_json(),
        goal="left_of(red cube, blue cube)",
    )
    assert res.status == "ok" and res.success, res.reason
    assert res.goal == "left_of(red cube, blue cube)"
    assert [a["atom"] for a in res.atoms] == ["left_of(red cube, blue cube)"]
    assert res.atoms[0]["value"] and res.atoms[0]["margin"] > 0
    rows = {o["description"]: o for o in res.objects}
    assert rows["red cube"]["end"][1] < rows["blue cube"]["end"][1] - 0.03
    assert rows["red cube"]["start"] != rows["red cube"]["end"]


def test_saying_success_is_not_success(pool, layout):
    res = pool.run(
        CLAIM, "claim", None, 0, {}, 30, scene=layout.to_json(), goal="left_of(red cube, blue cube)"
    )
    assert res.status == "ok" and "success: true" in res.output
    assert res.success is False and res.atoms[0]["value"] is False


def test_a_requests_goal_judges_a_family_scene(pool):
    from sim.runner import reset_task
    from sim.world import World

    world = World()
    try:
        task = reset_task(world, "stack", 3)
        top, base = task.params["top"], task.params["base"]
    finally:
        world.close()
    own = pool.run(CLAIM, "claim", "stack", 3, {}, 30)
    assert own.success is False and own.goal == f"on({top}, {base})"
    other = pool.run(CLAIM, "claim", "stack", 3, {}, 30, goal=f"not on({top}, {base})")
    assert other.success is True and other.goal == f"not on({top}, {base})"


def test_a_layout_without_a_goal_is_refused(pool, layout):
    with pytest.raises(SkillError, match="needs a goal"):
        pool.run(CLAIM, "claim", None, 0, {}, 30, scene=layout.to_json())
