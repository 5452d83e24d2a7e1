"""The world: cameras that map points to pixels and back, independent clients, grasping."""

from __future__ import annotations

import numpy as np
import pytest

from sim import primitives
from sim.runner import reset_task
from sim.world import World


@pytest.mark.parametrize("camera", ["front", "top"])
def test_pixel_and_depth_map_back_to_the_point(world, camera):
    task = reset_task(world, "stack", 2)
    cam = world.cameras[camera]
    rgb, depth = world.render(camera)
    assert rgb.shape == (cam.height, cam.width, 3) and depth.dtype == np.float32
    for obj in (task.top, task.base):
        top_center = world.pose(obj)[0] + (0, 0, obj.shape.height)
        u, v, d = cam.project(top_center)
        assert 0 <= u < cam.width and 0 <= v < cam.height
        measured = depth[int(v), int(u)]
        assert abs(measured - d) < 0.01  # the rendered depth sees the block's top there
        assert np.allclose(cam.pixel_to_table(u, v, top_center[2]), top_center, atol=1e-6)


def test_intrinsics_and_extrinsics_agree_with_projection(world):
    cam = world.cameras["top"]
    k, ext = cam.intrinsics, cam.extrinsics
    p = np.array([0.55, 0.1, 0.02])
    c = np.linalg.inv(ext) @ np.append(p, 1.0)
    uv = k @ (c[:3] / c[2])
    assert np.allclose(uv[:2], cam.project(p)[:2])


def test_front_camera_left_to_right_is_increasing_y(world):
    cam = world.cameras["front"]
    left, right = cam.project((0.5, -0.2, 0.0)), cam.project((0.5, 0.2, 0.0))
    assert left[0] < cam.width / 2 < right[0]


def test_two_worlds_are_independent():
    a, b = World(), World()
    try:
        ca = a.add("cube", "red", (0.5, 0.0))
        assert b.objects == [] and a.client._client != b.client._client
        a.step(50)
        assert abs(a.pose(ca)[0][2]) < 1e-3  # resting on a's table; b never saw it
    finally:
        a.close()
        b.close()


def test_grasp_is_detected_from_contacts_and_nothing_teleports(world):
    task = reset_task(world, "pick", 4)
    obj = task.obj
    steps = world.steps
    assert primitives.pick(world, task.pick_pose(obj))
    assert world.panda.held == obj.body and world.pose(obj)[0][2] > 0.1
    assert world.steps - steps > 100  # the lift took physics steps
    world.panda.open_gripper()
    world.settle()
    assert world.panda.held is None and world.pose(obj)[0][2] < 0.01  # it fell back down
    # Closing on nothing holds nothing.
    world.panda.move_to((0.5, 0.25, 0.1), 0.0)
    assert world.panda.close_gripper() is None
