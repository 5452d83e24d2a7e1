"""A push is learnt by the object it moves: its first key point lies on the object, and
the start of the push is recovered from it exactly."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from agent.policy.geometry import ImageSpec, point_to_pixel, push_key, push_start

SPEC = ImageSpec()


@pytest.mark.parametrize("seed", range(8))
def test_the_key_of_an_oracle_push_lies_on_the_pushed_object_and_gives_back_the_start(seed):
    from sim.runner import reset_task
    from sim.world import World

    w = World(image_size=(SPEC.render, SPEC.render))
    try:
        task = reset_task(w, "push", seed)
        a = task.oracle()
        center = np.asarray(w.pose(task.obj)[0][:2])
        key = push_key(SPEC, a.pose0, a.pose1)
        # on the object: within its footprint (a cube's half side, a cylinder's radius)
        assert math.dist(key[:2], center) <= task.obj.shape.footprint[0] + 1e-6
        assert key[2] == pytest.approx(a.pose0[2]) and key[3] == pytest.approx(a.pose0[3])
        back = push_start(SPEC, key, a.pose1)
        np.testing.assert_allclose(back, a.pose0, atol=1e-9)
    finally:
        w.close()


def test_checkpoints_without_a_push_reach_keep_the_start_as_the_key():
    old = ImageSpec.from_dict(
        {"camera": "top", "render": 160, "crop": [32, 128, 8, 152], "stride": 4}
    )
    assert old.push_reach == 0.0
    start, end = (0.5, 0.1, 0.018, 0.0), (0.6, -0.1, 0.018, 0.0)
    assert push_key(old, start, end) == start and push_start(old, start, end) == start
    assert ImageSpec.from_dict(SPEC.to_dict()) == SPEC


@pytest.mark.parametrize(
    "families, reach",
    [(["place", "push"], 0.0), (["place"], SPEC.push_reach), (None, SPEC.push_reach)],
)
def test_an_older_checkpoint_keeps_its_push_parametrisation_only_if_it_learnt_pushes(
    tmp_path, families, reach
):
    import json

    import torch

    from agent.policy.checkpoint import load_checkpoint, save_checkpoint
    from tests.agent.policy_helpers import tiny_model

    info = save_checkpoint(
        tmp_path, tiny_model(), SPEC, "hash16-x3", {"families": families} if families else {}
    )
    payload = torch.load(info.path, weights_only=True)
    del payload["spec"]["push_reach"]  # as saved before push_reach existed
    torch.save(payload, info.path)
    manifest = json.loads(info.path.with_suffix(".json").read_text())
    manifest["sha256"] = hashlib.sha256(info.path.read_bytes()).hexdigest()
    info.path.with_suffix(".json").write_text(json.dumps(manifest))
    _, spec, _ = load_checkpoint(tmp_path)
    assert spec.push_reach == reach


def test_labels_and_decoding_use_the_key_for_pushes_only():
    """`prepare` labels a push's first key on the object; `decode` with the primitive turns
    a predicted key back into the start (and leaves other primitives alone)."""
    from agent.policy.data import Samples
    from agent.policy.policy import decode
    from agent.policy.prepare import prepare
    from tests.agent.policy_helpers import tiny_encoder

    h, w = SPEC.shape
    rgb = np.zeros((h, w, 3), np.uint8)
    cam = SPEC.cam()
    depth = np.full((h, w), cam.eye[2], np.float32)  # a flat table at z = 0
    start, end = (0.5, 0.05, 0.018, 0.0), (0.5, -0.15, 0.018, 0.0)
    rows = Samples.concat(
        [
            Samples.single(
                rgb, depth, "push the red cube into the blue zone", f, 0, prim, start, end, 1.0
            )
            for f, prim in (("push", "push"), ("place", "pick_place"))
        ]
    )
    data = prepare(rows, SPEC, tiny_encoder())
    key = push_key(SPEC, start, end)
    assert (
        int(data.pick_cell[0])
        == point_to_pixel(SPEC, key[:3]).cell
        != point_to_pixel(SPEC, start[:3]).cell
    )
    assert int(data.pick_cell[1]) == point_to_pixel(SPEC, start[:3]).cell
    # decoding: one-hot maps at the labelled cells give the key back, then the start
    rows_, cols = SPEC.grid
    maps = []
    for cell, off in (
        (int(data.pick_cell[0]), data.pick_off[0]),
        (int(data.place_cell[0]), data.place_off[0]),
    ):
        m = np.zeros((4, rows_, cols), np.float32)  # heat, offset x, offset y, height
        m[0].flat[cell] = 50.0
        lo = np.log(
            np.clip(off.numpy(), 1e-4, 1 - 1e-4) / (1 - np.clip(off.numpy(), 1e-4, 1 - 1e-4))
        )
        m[1].flat[cell], m[2].flat[cell] = lo
        m[3].flat[cell] = 0.18  # decimeters above the table
        maps.append(m)
    yaw = np.zeros(18, np.float32)
    out = [maps[0], maps[1], yaw, yaw]
    as_push = decode(SPEC, out, depth, primitive="push")
    plain = decode(SPEC, out, depth)
    assert math.dist(plain.pick[:2], key[:2]) < 0.004  # the network's key: on the object
    assert math.dist(as_push.pick[:2], start[:2]) < 0.004  # the push starts behind it
    assert as_push.place == plain.place
