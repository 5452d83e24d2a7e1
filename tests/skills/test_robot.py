"""The robot API skill code acts through: finding objects, clear errors, real motions."""

from __future__ import annotations

import math

import pytest

from sim.runner import reset_task
from skills.errors import SkillError
from skills.naming import parse
from skills.robot import Obj, Robot


@pytest.mark.parametrize(
    "text,expected",
    [
        ("red cube", ("red", "cube")),
        ("the Red Block", ("red", "cube")),
        ("a small blue block", ("blue", "small cube")),
        ("the green dish", ("green", "plate")),
        ("yellow marked area", ("yellow", "zone")),
        ("violet cylinder", ("purple", "cylinder")),
        ("the bowl", (None, "bowl")),
    ],
)
def test_descriptions_people_write(text, expected):
    assert parse(text) == expected


def test_find_resolves_one_object_or_says_why(world):
    task = reset_task(
        world, "stack", 3
    )  # cyan small cube, red cube, green small cube, purple cylinder
    robot = Robot(world)
    assert robot.find("the red block").description == "red cube"
    top = robot.find(task.params["top"])  # the task's own words name its object
    assert top.description == task.params["top"] and top.description != "red cube"
    with pytest.raises(SkillError, match="nothing in the scene matches"):
        robot.find("orange cube")
    with pytest.raises(SkillError, match="ambiguous"):
        robot.find("small cube")
    with pytest.raises(SkillError, match="needs a description"):
        robot.find("")


def test_handles_are_opaque_and_arguments_checked(world):
    reset_task(world, "stack", 3)
    robot = Robot(world)
    handle = robot.find("red cube")
    assert [n for n in dir(handle) if not n.startswith("_")] == ["description"]
    assert not hasattr(robot, "__dict__")  # slots only: nothing but the methods
    with pytest.raises(SkillError, match="expected an object"):
        robot.pick("red cube")
    with pytest.raises(SkillError, match="finite"):
        robot.rotate(handle, math.nan)
    with pytest.raises(SkillError, match="off the reachable table"):
        robot.place_at(handle, (2.0, 0.0))
    with pytest.raises(SkillError, match="out of range"):
        robot.move_to((0.5, 0.0, -1.0))
    reset_task(world, "put-in-bowl", 1)
    robot = Robot(world)
    bowl = next(o for o in robot.objects() if o.description.endswith("bowl"))
    with pytest.raises(SkillError, match="cannot be picked"):
        robot.pick(bowl)


def test_rotate_and_place_at_act_through_physics(world):
    reset_task(world, "rotate", 5)
    robot = Robot(world)
    cube = next(o for o in robot.objects() if o.description.endswith(" cube"))
    x, y, _, yaw = robot.pose(cube)
    steps = world.steps
    robot.rotate(cube, 30)
    x2, y2, z2, yaw2 = robot.pose(cube)
    assert world.steps - steps > 200
    assert math.hypot(x2 - x, y2 - y) < 0.02 and z2 < 0.01
    assert min(abs((yaw2 - yaw - 30 + 45) % 90 - 45), 90) < 12
    spot = robot.free_spot()
    robot.place_at(cube, spot)
    assert math.hypot(robot.pose(cube)[0] - spot[0], robot.pose(cube)[1] - spot[1]) < 0.02
    assert robot.holding() is None
    assert isinstance(cube, Obj)
