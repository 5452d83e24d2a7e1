"""The policy's view is taken with the arm out of it.

After a placement the arm waits above the table, in the top camera's view; the policy
learned only from views with the arm at home. `provider.look` sends an arm that holds
nothing home first, so the view of a scene is the same whether or not the arm has just
worked in it.
"""

from __future__ import annotations

import numpy as np
import pytest

from agent.policy.geometry import ImageSpec, observe

SPEC = ImageSpec()


@pytest.fixture
def scene():
    from sim.world import World

    w = World(image_size=(SPEC.render, SPEC.render))
    w.add("cube", "red", (0.5, 0.1), 0.3)
    w.add("bowl", "blue", (0.45, -0.15))
    w.settle()
    yield w
    w.close()


def _placed(world) -> None:
    """The red cube picked and put down again by the oracle: the arm is left above it."""
    from skills.poses import OraclePoseProvider
    from skills.robot import Robot

    robot = Robot(world, OraclePoseProvider(), seed=0)
    robot.place_at(robot.find("red cube"), (0.55, 0.12))


def test_look_takes_the_view_with_the_arm_home(scene):
    from agent.policy.provider import look

    _placed(scene)
    arm = scene.panda
    assert not arm.at_home() and arm.held is None
    in_view = observe(scene, SPEC)[0].astype(int)
    cube = next(o for o in scene.objects if o.description == "red cube")
    before = scene.pose(cube)[0]
    rgb = look(scene, SPEC)[0].astype(int)
    assert arm.at_home()
    assert np.linalg.norm(scene.pose(cube)[0] - before) < 0.002  # the motion touched nothing
    # the reference: the same scene, the arm put home by a reset (what demonstrations see)
    arm.reset()
    scene.step(1)
    home = observe(scene, SPEC)[0].astype(int)
    assert np.abs(rgb - home).mean() < 0.5 < np.abs(in_view - home).mean()


def test_an_arm_that_holds_something_is_not_moved(scene):
    from agent.policy.provider import look
    from skills.poses import OraclePoseProvider
    from skills.robot import Robot

    robot = Robot(scene, OraclePoseProvider(), seed=0)
    robot.pick(robot.find("red cube"))
    q = scene.panda.joints()
    look(scene, SPEC)
    assert np.allclose(scene.panda.joints(), q, atol=1e-3)
