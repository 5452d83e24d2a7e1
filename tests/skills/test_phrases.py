"""Step phrases: one entry per predicate of the goal language, the robot API's plan moves
carry them, and every call that carries a move out asks the pose provider for its phrase
(the oracle returns the planner's pose unchanged)."""

from __future__ import annotations

import pytest

from sim.goals.formula import Atom
from skills.phrases import RELATIONS, PhraseError, step_phrase


def lit(pred, *args):
    return (True, Atom(pred, args))


def test_every_predicate_of_the_goal_language_has_a_phrase_and_no_other():
    from sim.goals import load

    assert set(RELATIONS) == set(load())


def test_an_unknown_predicate_is_an_error_not_a_guess():
    with pytest.raises(PhraseError, match="no step phrase for predicate 'hovering'"):
        step_phrase("place_at", "red cube", [lit("hovering", "red cube", "blue bowl")])


@pytest.mark.parametrize(
    ("kind", "obj", "atoms", "target", "want"),
    [
        ("pick", "red cube", [], None, "pick up the red cube"),
        (
            "place_on",
            "red cube",
            [lit("on", "red cube", "blue plate")],
            "blue plate",
            "place the red cube on the blue plate",
        ),
        (
            "place_on",
            "red cube",
            [lit("on", "red cube", "blue cube")],
            "blue cube",
            "stack the red cube on the blue cube",
        ),
        (
            "put_in",
            "red cube",
            [lit("in", "red cube", "blue bowl")],
            "blue bowl",
            "put the red cube in the blue bowl",
        ),
        (
            "place_at",
            "red cube",
            [lit("left_of", "red cube", "green bowl")],
            None,
            "put the red cube left of the green bowl",
        ),
        (
            "place_at",
            "red cube",
            [lit("next_to", "red cube", "yellow cylinder")],
            None,
            "put the red cube next to the yellow cylinder",
        ),
        (
            "place_at",
            "green bowl",
            [lit("left_of", "red cube", "green bowl")],
            None,
            "put the green bowl right of the red cube",
        ),
        (
            "rotate",
            "red cube",
            [lit("rotated_by", "red cube", 45.0)],
            None,
            "rotate the red cube 45 degrees",
        ),
        (
            "place_at",
            "red cube",
            [lit("far_from", "red cube", "blue bowl", 0.2)],
            None,
            "put the red cube at least 20 cm from the blue bowl",
        ),
        (
            "place_at",
            "red cube",
            [lit("left_side", "red cube"), lit("behind", "red cube", "blue cube")],
            None,
            "put the red cube on the left side of the table and behind the blue cube",
        ),
        (
            "place_at",
            "red cube",
            [(False, Atom("in", ("red cube", "blue bowl")))],
            None,
            "move the red cube so that it is not in the blue bowl",
        ),
        ("place_at", "red cube", [], None, "move the red cube out of the way"),
        ("push", "red cube", [], "blue zone", "push the red cube into the blue zone"),
    ],
)
def test_phrases_of_moves(kind, obj, atoms, target, want):
    assert step_phrase(kind, obj, atoms, target) == want


class Recording:
    """The oracle provider, noting every step phrase it is asked."""

    name = "oracle"

    def __init__(self):
        from skills.poses import OraclePoseProvider

        self.inner = OraclePoseProvider()
        self.asked = []

    def pick_pose(self, world, obj, turn=0.0, dest=None):
        return self.inner.pick_pose(world, obj, turn, dest)

    def place_pose(self, world, held, target):
        self.asked.append(("place_pose", held.description))
        return self.inner.place_pose(world, held, target)

    def step_pose(self, world, obj, phrase, planned, key="place"):
        self.asked.append((phrase, key))
        return self.inner.step_pose(world, obj, phrase, planned, key)


def _scene(world, objects, goal, seed):
    import numpy as np

    from sim.scenes import build_scene

    build_scene(world, objects, np.random.default_rng(seed), 0, goal=goal)


@pytest.mark.parametrize(
    ("objects", "goal", "want"),
    [
        (
            "red cube, blue bowl",
            "left_of(red cube, blue bowl)",
            "put the red cube left of the blue bowl",
        ),
        (
            "red cube, blue plate",
            "on(red cube, blue plate)",
            "place the red cube on the blue plate",
        ),
        ("red cube", "rotated_by(red cube, 45)", "rotate the red cube 45 degrees"),
    ],
)
def test_plan_moves_carry_their_phrase_and_the_provider_is_asked_it(world, objects, goal, want):
    from sim.goals import evaluate, read_world
    from skills.robot import Robot

    _scene(world, objects, goal, 3)
    prov = Recording()
    robot = Robot(world, prov, seed=3)
    moves = robot.plan(goal)
    assert [m["phrase"] for m in moves] == [want]
    m = moves[0]
    obj = robot.find(m["object"])
    if m["kind"] == "place_on":
        robot.place_on(obj, robot.find(m["target"]))
    elif m["kind"] == "rotate":
        robot.rotate(obj, m["degrees"])
    else:
        robot.place_at(obj, (m["x"], m["y"]), m["yaw"])
    assert (want, "place") in prov.asked
    assert ("place_pose", "red cube") not in prov.asked  # the step's phrase, not a bare place
    world.settle(max_steps=120)
    assert evaluate(goal, read_world(world, robot._start)).value  # the oracle's pose: unchanged


def test_a_place_at_that_is_no_planned_move_asks_nothing(world):
    from skills.robot import Robot

    _scene(world, "red cube, blue bowl", "left_of(red cube, blue bowl)", 3)
    prov = Recording()
    robot = Robot(world, prov, seed=3)
    robot.plan("left_of(red cube, blue bowl)")
    robot.place_at(robot.find("red cube"), (0.45, 0.2))  # somewhere else: skill code's own
    assert prov.asked == []
    robot.place_at(robot.find("red cube"), (0.5, 0.1), phrase="put the red cube there")
    assert prov.asked == [("put the red cube there", "place")]


def test_a_push_asks_the_provider_where_the_object_is_and_where_it_goes(world):
    from sim.runner import reset_task
    from skills.robot import Robot

    task = reset_task(world, "push", 1)
    prov = Recording()
    robot = Robot(world, prov, seed=1)
    robot.push(robot.find(task.obj.description), robot.find(task.zone.description))
    want = f"push the {task.obj.description} into the {task.zone.description}"
    assert prov.asked[0] == (want, "place") and (want, "pick") in prov.asked
    world.settle(max_steps=120)
    assert task.is_success()
