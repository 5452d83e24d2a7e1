"""Data, instruction encoding, network and decoding of the pose policy.

(The camera geometry itself is in test_policy_core.py.) A few demonstrations rendered
once per module, the hashing embedder and a PoseNet a few channels wide.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from agent.errors import AgentError
from agent.policy.data import Samples, split_seeds
from agent.policy.geometry import height_map, point_to_pixel, surface_height
from tests.agent.policy_helpers import SPEC, tiny_encoder, tiny_model

pytestmark = pytest.mark.usefixtures("one_thread")
BINS = np.arange(18) * (math.pi / 2) / 18


@pytest.fixture(scope="module")
def demos(world) -> dict[str, Samples]:
    """4 "place" demonstrations and 3 of "align" (a place with a turn)."""
    from agent.policy.data import make_demos

    return {
        "place": make_demos("place", split_seeds("train", 4), SPEC, world),
        "align": make_demos("align", split_seeds("train", 3), SPEC, world),
    }


def prepared(samples: Samples):
    from agent.policy.prepare import prepare

    return prepare(samples, SPEC, tiny_encoder(), 0)


def test_demo_labels_sit_on_the_object_seen_in_depth(demos):
    s = demos["place"]
    assert s.rgb.shape[1:] == (*SPEC.shape, 3) and s.has_place.all()
    for i in range(len(s)):
        heights = height_map(SPEC, s.depth[i])
        lab = point_to_pixel(SPEC, s.pick[i, :3])
        top = surface_height(heights, lab.row, lab.col)
        # grasp point is below the block's top and above the table
        assert 0.005 < top < 0.07 and s.pick[i, 2] <= top + 1e-3


def test_train_and_test_seeds_never_overlap():
    tr, te = split_seeds("train", 50), split_seeds("test", 50)
    assert all(s % 2 == 0 for s in tr) and all(s % 2 == 1 for s in te) and not set(tr) & set(te)
    with pytest.raises(AgentError):
        split_seeds("valid", 3)


def test_samples_save_load_and_a_corrupt_file(demos, tmp_path):
    s = demos["align"]
    s.save(tmp_path / "d.npz")
    back = Samples.load(tmp_path / "d.npz")
    assert np.array_equal(back.rgb, s.rgb) and list(back.instruction) == list(s.instruction)
    np.testing.assert_array_equal(back.pick, s.pick)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(AgentError, match="cannot read dataset"):
        Samples.load(tmp_path / "bad.npz")


def test_encoder_separates_roles_that_a_pooled_sentence_mixes_up():
    from agent.policy.embed import split_instruction

    assert split_instruction("stack the red cube on the blue cube")[1:] == (
        "stack the red cube",
        "the blue cube",
    )
    assert split_instruction("rotate the red cube by 45 degrees")[2] == "45 degrees"
    enc = tiny_encoder()
    a, b = enc(["stack the red cube on the blue cube", "stack the blue cube on the red cube"])
    whole = enc.part_dim
    cos = lambda u, v: float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))  # noqa: E731
    assert cos(a[:whole], b[:whole]) > 0.9  # the whole sentence barely differs
    assert cos(a[whole:], b[whole:]) < cos(a[:whole], b[:whole]) - 0.3  # the role parts do


def test_network_shapes_and_place_conditioned_on_the_pick(demos):
    model = tiny_model()
    batch = prepared(demos["place"]).batch([0, 1, 2])
    out = model(batch.x, batch.emb, batch.pick_cell, batch.place_cell)
    rows, cols = SPEC.grid
    assert out.pick.shape == (3, 4, rows, cols) and out.place.shape == (3, 4, rows, cols)
    assert out.pick_rot.shape == (3, 18) and out.turn.shape == (3, 18)
    other = model(batch.x, batch.emb, (batch.pick_cell + 37) % (rows * cols), batch.place_cell)
    assert not torch.allclose(other.place, out.place)
    assert torch.allclose(other.pick, out.pick)


def test_orientation_channels_read_a_squares_yaw():
    from agent.policy.model import orientation_channels

    yy, xx = np.mgrid[0:48, 0:48] - 23.5
    for deg in (0, 20, 35):
        t = math.radians(deg)
        u, v = xx * math.cos(t) + yy * math.sin(t), -xx * math.sin(t) + yy * math.cos(t)
        img = torch.tensor(((abs(u) < 10) & (abs(v) < 10)).astype(np.float32))[None, None]
        o = orientation_channels(img).sum((2, 3))[0]
        est = math.degrees(math.atan2(float(o[1]), float(o[0]))) / 4
        assert abs(est - deg) < 6


def test_decoding_perfect_maps_gives_back_the_labelled_poses(demos):
    """Labels and decoding use the same camera model: a map that puts all mass on the
    label decodes to the oracle's pose (position within 1 mm, yaw within 1 degree)."""
    from agent.policy.geometry import ROT_PERIOD
    from agent.policy.policy import decode

    s = demos["align"]
    data = prepared(s)
    rows, cols = SPEC.grid
    for i in range(len(s)):
        maps = []
        for key in ("pick", "place"):
            m = np.full((4, rows * cols), -20.0, np.float32)
            cell = int(getattr(data, f"{key}_cell")[i])
            off = getattr(data, f"{key}_off")[i].numpy()
            m[0, cell] = 20.0
            m[1:3, cell] = np.log(off / (1 - off + 1e-9) + 1e-9)
            m[3, cell] = float(getattr(data, f"{key}_h")[i])
            maps.append(m.reshape(4, rows, cols))
        rot = lambda a: 50 * np.cos(4 * (BINS - a))  # noqa: E731
        pred = decode(
            SPEC,
            [maps[0], maps[1], rot(float(data.pick_rot[i])), rot(float(data.place_rot[i]))],
            s.depth[i],
        )
        assert math.dist(pred.pick[:3], s.pick[i, :3]) < 1e-3
        assert math.dist(pred.place[:2], s.place[i, :2]) < 1e-3
        turn = (pred.place[3] - pred.pick[3]) - (s.place[i, 3] - s.pick[i, 3])
        assert abs(math.remainder(turn, ROT_PERIOD)) < math.radians(1)


def test_training_lowers_the_loss_on_a_tiny_set(demos):
    from agent.policy.loop import FitConfig, fit
    from agent.policy.settings import Optim

    res = fit(
        tiny_model(),
        prepared(demos["place"]),
        FitConfig(steps=25, optim=Optim(batch_size=4, lr=3e-3, threads=1)),
    )
    assert res.final_loss < res.first_loss * 0.7
