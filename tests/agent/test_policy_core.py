"""Core of the learned pose policy: metrics, geometry, checkpoints, corrections, feedback.

Everything runs offline and small: a hashing embedder instead of MiniLM, a PoseNet a few
channels wide, synthetic images where no scene is needed, and a couple of simulator
scenes for the feedback loop.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import math
import shutil

import numpy as np
import pytest

from agent.errors import AgentError
from agent.policy import metrics
from agent.policy.geometry import (
    ROT_BINS,
    ROT_PERIOD,
    ImageSpec,
    bin_centers,
    cell_to_pixel,
    grasp_and_place_yaw,
    height_map,
    near_zero,
    pixel_label,
    pixel_to_point,
    point_to_pixel,
    surface_height,
    yaw_error,
    yaw_mod,
)
from agent.policy.settings import Optim
from tests.agent.policy_helpers import (
    SPEC,
    TINY_DIM,
    flip_a_bit,
    one_line,
    tiny_encoder,
    tiny_model,
)

pytestmark = pytest.mark.usefixtures("one_thread")


# -- metrics ---------------------------------------------------------------------------------
# R[i, j]: score on task j after training through experience i. Task 0 peaks after
# experience 1 (0.85), so forgetting (drop from the best) differs from -BWT (drop from
# the diagonal).
R = [
    [0.80, 0.10, 0.00],
    [0.85, 0.90, 0.20],
    [0.50, 0.70, 0.95],
]
B = [0.05, 0.10, 0.15]


def test_metrics_on_a_hand_made_matrix():
    assert metrics.acc(R) == pytest.approx((0.50 + 0.70 + 0.95) / 3)
    assert metrics.bwt(R) == pytest.approx(((0.50 - 0.80) + (0.70 - 0.90)) / 2)  # -0.25
    assert metrics.fwt(R, B) == pytest.approx(((0.10 - 0.10) + (0.20 - 0.15)) / 2)  # 0.025
    assert metrics.forgetting(R) == pytest.approx(((0.85 - 0.50) + (0.90 - 0.70)) / 2)  # 0.275
    auc = ((0.80 + 0.85 + 0.50) / 3 + (0.90 + 0.70) / 2 + 0.95) / 3
    assert metrics.auc(R) == pytest.approx(auc)  # 0.8222
    s = metrics.summarize(R, B)
    assert s == pytest.approx(
        {"acc": 2.15 / 3, "bwt": -0.25, "fwt": 0.025, "forgetting": 0.275, "auc": auc}
    )


def test_metrics_of_a_single_task_and_of_no_forgetting():
    one = [[0.6]]
    assert metrics.acc(one) == metrics.auc(one) == pytest.approx(0.6)
    assert metrics.bwt(one) == metrics.fwt(one, [0.1]) == metrics.forgetting(one) == 0.0
    perfect = np.ones((3, 3))
    assert metrics.bwt(perfect) == metrics.forgetting(perfect) == 0.0
    assert metrics.acc(perfect) == metrics.auc(perfect) == 1.0


def test_forgetting_of_an_error_matrix_reads_lower_as_better():
    # Position error in cm: task 0 is best after experience 1 (0.7 cm), ends at 2.0 cm.
    err = [
        [1.0, 5.0, 6.0],
        [0.7, 0.8, 5.5],
        [2.0, 1.2, 0.9],
    ]
    # The error grew by 2.0 - 0.7 and 1.2 - 0.8 from the best it ever was.
    assert metrics.forgetting(err, higher_is_better=False) == pytest.approx((1.3 + 0.4) / 2)
    assert metrics.summarize(err, [6, 6, 6], higher_is_better=False)["forgetting"] == (
        pytest.approx(0.85)
    )
    # The other formulas are the same whichever way is better (positive BWT: errors grew).
    assert metrics.bwt(err) == pytest.approx(((2.0 - 1.0) + (1.2 - 0.8)) / 2)
    assert metrics.fwt(err, [6, 6, 6]) == pytest.approx(((5.0 - 6) + (5.5 - 6)) / 2)


@pytest.mark.parametrize("bad", [[], [[1, 2]], [[1, 2], [3, 4], [5, 6]], [1, 2, 3]])
def test_metrics_refuse_a_matrix_that_is_not_square(bad):
    with pytest.raises(AgentError) as exc:
        metrics.acc(bad)
    assert "square" in one_line(exc)


def test_fwt_needs_one_baseline_per_task():
    with pytest.raises(AgentError) as exc:
        metrics.fwt(R, [0.1, 0.2])
    assert "3 entries" in one_line(exc)


# -- geometry --------------------------------------------------------------------------------
POINTS = [(0.52, 0.0, 0.0), (0.45, 0.12, 0.02), (0.62, -0.15, 0.05), (0.40, -0.05, 0.11)]


@pytest.mark.parametrize("point", POINTS)
def test_world_point_to_pixel_and_back(point):
    lab = point_to_pixel(SPEC, point)
    assert lab.inside
    back = pixel_to_point(SPEC, lab.row, lab.col, point[2])
    np.testing.assert_allclose(back, point, atol=1e-9)
    # The grid cell and sub-cell offset give the same pixel again.
    assert 0 <= lab.offset[0] < 1 and 0 <= lab.offset[1] < 1
    assert cell_to_pixel(SPEC, lab.cell, lab.offset) == pytest.approx((lab.row, lab.col))
    rows, cols = SPEC.grid
    assert 0 <= lab.cell < rows * cols


def test_the_top_camera_shows_plus_x_up_and_plus_y_left():
    centre = point_to_pixel(SPEC, (0.5, 0.0, 0.0))
    ahead = point_to_pixel(SPEC, (0.6, 0.0, 0.0))
    left = point_to_pixel(SPEC, (0.5, 0.1, 0.0))
    assert ahead.row < centre.row and ahead.col == pytest.approx(centre.col)
    assert left.col < centre.col and left.row == pytest.approx(centre.row)


def test_a_point_outside_the_crop_is_flagged_and_clipped():
    lab = point_to_pixel(SPEC, (0.52, 0.6, 0.0))  # far to the side
    h, w = SPEC.shape
    assert not lab.inside
    assert 0 <= lab.row < h and 0 <= lab.col < w


def test_pixel_label_cells_and_offsets():
    s = SPEC.stride
    _, cols = SPEC.grid
    lab = pixel_label(SPEC, row=2 * s + 1.0, col=5 * s + 3.0)
    assert lab.cell == 2 * cols + 5
    assert lab.offset == pytest.approx((3.0 / s, 1.0 / s))


@pytest.mark.parametrize("z", [0.0, 0.05])
def test_height_map_of_a_flat_surface_is_its_height(z):
    # The top camera looks straight down: depth along its axis is constant on a plane.
    eye_z = SPEC.cam().eye[2]
    depth = np.full(SPEC.shape, eye_z - z, np.float32)
    heights = height_map(SPEC, depth)
    assert heights.shape == SPEC.shape
    np.testing.assert_allclose(heights, z, atol=1e-5)


def test_surface_height_is_a_robust_median():
    heights = np.zeros((6, 6), np.float32)
    heights[2, 2] = 0.3  # one spike in the 3x3 window
    assert surface_height(heights, 2.5, 2.5) == 0.0
    heights[1:4, 1:4] = 0.04
    assert surface_height(heights, 2.2, 2.7) == pytest.approx(0.04)
    assert surface_height(heights, -5, 99) == 0.0  # clipped to the image


def test_rotation_bins_and_symmetry():
    centers = bin_centers()
    assert len(centers) == ROT_BINS
    np.testing.assert_allclose(np.diff(centers), ROT_PERIOD / ROT_BINS)
    assert centers[0] == 0 and centers[-1] < ROT_PERIOD
    assert yaw_mod(-0.1) == pytest.approx(ROT_PERIOD - 0.1)
    assert yaw_mod(ROT_PERIOD + 0.2) == pytest.approx(0.2)
    assert near_zero(ROT_PERIOD - 0.1) == pytest.approx(-0.1)
    assert near_zero(0.3) == pytest.approx(0.3)
    d = math.radians
    assert yaw_error(0.0, d(89)) == pytest.approx(d(1))  # a cube turned 89 = turned -1
    assert yaw_error(0.3, 0.3 + ROT_PERIOD) == pytest.approx(0.0)
    assert yaw_error(0.0, d(40)) == pytest.approx(d(40))
    assert yaw_error(0.0, d(90), symmetry=2 * math.pi) == pytest.approx(d(90))
    assert yaw_error(0.0, 1.0, symmetry=0.0) == 0.0  # round: any yaw


def test_grasp_and_place_yaw_keeps_the_wrist_near_zero():
    d = math.radians
    g, p = grasp_and_place_yaw(d(80), 0.0)
    assert (math.degrees(g), math.degrees(p)) == pytest.approx((-10, -10))
    # Grasp 10 deg and turn 80 deg would end at 90 deg; grasping at -80 ends at 0.
    g, p = grasp_and_place_yaw(d(10), d(80))
    assert (math.degrees(g), math.degrees(p)) == pytest.approx((-80, 0))
    for grasp, turn in [(0.3, -0.5), (1.2, 0.7), (0.0, d(45))]:
        g, p = grasp_and_place_yaw(grasp, turn)
        assert p - g == pytest.approx(turn)
        assert yaw_error(g, grasp) == pytest.approx(0.0, abs=1e-9)


def test_yaw_from_logits_reads_between_bins_and_across_the_wrap():
    from agent.policy.policy import yaw_from_logits

    step = 90 / ROT_BINS
    logits = np.full(ROT_BINS, -10.0)
    logits[7] = 5.0
    assert math.degrees(yaw_from_logits(logits)) == pytest.approx(7 * step, abs=0.01)
    logits[8] = 5.0  # two equal bins: half way
    assert math.degrees(yaw_from_logits(logits)) == pytest.approx(7.5 * step, abs=0.01)
    wrap = np.full(ROT_BINS, -10.0)
    wrap[[0, ROT_BINS - 1]] = 5.0  # 0 and 85 degrees: 87.5, not 42.5
    assert math.degrees(yaw_from_logits(wrap)) == pytest.approx(90 - step / 2, abs=0.01)


def test_rotation_targets_are_circular():
    import torch

    from agent.policy.losses import rot_target

    t = rot_target(torch.tensor([math.radians(89.0), math.radians(20.0)]), ROT_BINS)
    np.testing.assert_allclose(t.sum(1).numpy(), 1.0, rtol=1e-6)
    assert int(t[0].argmax()) == 0  # 89 degrees is 1 degree from 90 = 0
    assert int(t[1].argmax()) == 4
    assert t[0, -1] > t[0, 1] > t[0, 2]  # 85 degrees is nearer to 89 than 5 degrees is


def test_image_spec_round_trips_through_a_dict():
    spec = ImageSpec("top", 128, (10, 90, 4, 124), 4)
    assert ImageSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert spec.shape == (80, 120) and spec.grid == (20, 30)


# -- checkpoints -----------------------------------------------------------------------------
def _images(n: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 255, (n, *SPEC.shape, 3), dtype=np.uint8)
    depth = (0.95 - rng.uniform(0.0, 0.08, (n, *SPEC.shape))).astype(np.float32)
    return rgb, depth


INSTR = ["pick up the red cube", "place the blue cube on the green pad", "push the cube left"]


def _predict(model, encoder):
    from agent.policy.policy import Policy

    rgb, depth = _images()
    pol = Policy(model, SPEC, encoder, threads=1)
    return pol.outputs(rgb, depth, INSTR), pol.predict_many(rgb, depth, INSTR)


@pytest.fixture()
def saved(tmp_path):
    """A home with two saved versions of different tiny models."""
    from agent.policy.checkpoint import save_checkpoint

    enc = tiny_encoder()
    m1, m2 = tiny_model(1), tiny_model(2)
    i1 = save_checkpoint(tmp_path, m1, SPEC, enc.name, {"kind": "base", "families": ["pick"]})
    i2 = save_checkpoint(tmp_path, m2, SPEC, enc.name, {"kind": "base", "parent": 1})
    return tmp_path, enc, (m1, m2), (i1, i2)


def test_checkpoint_round_trip_gives_identical_predictions(saved):
    from agent.policy.checkpoint import list_checkpoints, load_checkpoint, versions
    from agent.policy.train import load_policy

    home, enc, (m1, m2), (i1, i2) = saved
    assert (i1.version, i2.version) == (1, 2) and versions(home) == [1, 2]
    assert [m["version"] for m in list_checkpoints(home)] == [1, 2]
    assert i1.manifest["families"] == ["pick"] and i2.manifest["parent"] == 1
    assert i1.sha256 == hashlib.sha256(i1.path.read_bytes()).hexdigest()
    for version, model in (("latest", m2), (1, m1), ("v0001", m1), (None, m2)):
        loaded, spec, payload = load_checkpoint(home, version)
        assert spec == SPEC and payload["encoder"] == enc.name
        want_out, want = _predict(model, enc)
        got_out, got = _predict(loaded, enc)
        for a, b in zip(want_out, got_out, strict=True):
            np.testing.assert_array_equal(a, b)
        assert [p.pick for p in got] == [p.pick for p in want]
        assert [p.place for p in got] == [p.place for p in want]
    pol = load_policy(home, 1, embedder=enc.embedder, threads=1)
    assert pol.info["version"] == 1 and pol.spec == SPEC


def test_versions_skip_a_crashed_save(saved):
    from agent.policy.checkpoint import checkpoint_dir, resolve, save_checkpoint, versions

    home, enc, (m1, _), _ = saved
    (checkpoint_dir(home) / "v0003.pt").write_bytes(b"half written")  # no manifest: invisible
    assert versions(home) == [1, 2] and resolve(home).version == 2
    info = save_checkpoint(home, m1, SPEC, enc.name)
    assert info.version == 4 and versions(home) == [1, 2, 4]


def _fix_hash(info) -> None:
    """Re-record the .pt's hash in its manifest (a tampered file that passes the hash)."""
    mpath = info.path.with_suffix(".json")
    manifest = json.loads(mpath.read_text())
    manifest["sha256"] = hashlib.sha256(info.path.read_bytes()).hexdigest()
    mpath.write_text(json.dumps(manifest))


def _flip(info) -> None:
    flip_a_bit(info.path, 0xFF)


def _truncate(info) -> None:
    info.path.write_bytes(info.path.read_bytes()[:-100])


def _edit_hash(info) -> None:
    mpath = info.path.with_suffix(".json")
    manifest = json.loads(mpath.read_text())
    manifest["sha256"] = "0" * 64
    mpath.write_text(json.dumps(manifest))


def _edit_payload(info) -> None:
    import torch

    payload = torch.load(info.path, weights_only=True)
    payload["encoder"] = "someone-else-x3"
    torch.save(payload, info.path)


def _garbage_manifest(info) -> None:
    info.path.with_suffix(".json").write_text("{not json")


def _no_weights(info) -> None:
    info.path.unlink()


def _truncate_and_rehash(info) -> None:
    _truncate(info)
    _fix_hash(info)


def _mismatched_config_rehashed(info) -> None:
    import torch

    payload = torch.load(info.path, weights_only=True)
    payload["model_config"]["channels"] = [8, 8, 16]
    torch.save(payload, info.path)
    _fix_hash(info)


def _wrong_format_rehashed(info) -> None:
    import torch

    payload = torch.load(info.path, weights_only=True)
    payload["format"] = 99
    torch.save(payload, info.path)
    _fix_hash(info)


def _manifest_points_at_v1(info) -> None:
    m = json.loads(info.path.with_suffix(".json").read_text())
    v1 = info.path.with_name("v0001.pt")
    m["file"], m["sha256"] = v1.name, hashlib.sha256(v1.read_bytes()).hexdigest()
    info.path.with_suffix(".json").write_text(json.dumps(m))


def _v1_weights_under_v2_rehashed(info) -> None:
    shutil.copyfile(info.path.with_name("v0001.pt"), info.path)
    _fix_hash(info)


@pytest.mark.parametrize(
    "damage, words",
    [
        (_manifest_points_at_v1, "names the file 'v0001.pt'"),
        (_v1_weights_under_v2_rehashed, "holds the weights of v0001"),
        (_flip, "corrupt"),
        (_truncate, "corrupt"),
        (_edit_hash, "corrupt"),
        (_edit_payload, "corrupt"),
        (_garbage_manifest, "unreadable manifest"),
        (_no_weights, "missing its weights"),
        (_truncate_and_rehash, "cannot be loaded"),
        (_mismatched_config_rehashed, "size mismatch"),
        (_wrong_format_rehashed, "format 99"),
    ],
)
def test_a_damaged_checkpoint_is_refused_with_one_line(saved, damage, words):
    from agent.policy.checkpoint import load_checkpoint
    from agent.policy.train import load_policy

    home, enc, (m1, _), (_, i2) = saved
    damage(i2)
    for version in (None, 2):  # the latest is the damaged one: no silent fallback to v1
        with pytest.raises(AgentError) as exc:
            load_checkpoint(home, version)
        msg = one_line(exc)
        assert "v0002" in msg and words in msg
    with pytest.raises(AgentError):
        load_policy(home, embedder=enc.embedder)
    # The undamaged version still loads, and is the right one.
    loaded, _, _ = load_checkpoint(home, 1)
    np.testing.assert_array_equal(_predict(loaded, enc)[0][0], _predict(m1, enc)[0][0])


def test_missing_or_unknown_checkpoints_give_clear_errors(saved, tmp_path_factory):
    from agent.policy.checkpoint import load_checkpoint
    from agent.policy.train import load_policy

    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(AgentError) as exc:
        load_checkpoint(empty)
    assert "no policy checkpoint" in one_line(exc) and "policy train" in str(exc.value)
    home, enc, _, _ = saved
    with pytest.raises(AgentError) as exc:
        load_checkpoint(home, 9)
    assert one_line(exc) == "no checkpoint v0009 (have: v0001, v0002)"
    with pytest.raises(AgentError) as exc:
        load_checkpoint(home, "best")
    assert "bad checkpoint version 'best'" in one_line(exc)
    from skills.embed import HashEmbedder

    with pytest.raises(AgentError) as exc:
        load_policy(home, embedder=HashEmbedder(TINY_DIM + 1))
    assert "trained with embeddings" in one_line(exc)


# -- corrections -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "u, v, words",
    [
        (144, 10, "outside the 144x96 image"),
        (-0.5, 10, "outside"),
        (10, 96, "outside"),
        (float("nan"), 10, "finite"),
        (10, float("inf"), "finite"),
        ("left", 10, "must be a number"),
    ],
)
def test_validate_pixel_refuses_bad_pixels(u, v, words):
    from agent.policy.corrections import validate_pixel

    with pytest.raises(AgentError) as exc:
        validate_pixel(u, v, 144, 96)
    assert words in one_line(exc)


def test_validate_pixel_angle_and_offsets_accept_good_values():
    from agent.policy.corrections import validate_angle, validate_offsets, validate_pixel

    assert validate_pixel("143.5", 0, 144, 96) == (143.5, 0.0)
    assert validate_angle(-180) == -180.0 and validate_angle("45") == 45.0
    assert validate_offsets(0.01, -0.3, 0.2, 180) == (0.01, -0.3, 0.2, 180.0)


@pytest.mark.parametrize(
    "deg, words",
    [
        (180.5, "out of range"),
        (-720, "out of range"),
        (float("nan"), "finite"),
        (None, "must be a number"),
    ],
)
def test_validate_angle_refuses_bad_angles(deg, words):
    from agent.policy.corrections import validate_angle

    with pytest.raises(AgentError) as exc:
        validate_angle(deg)
    assert words in one_line(exc)


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"dx": 0.31}, "dx = 0.31 is out of range"),
        ({"dy": -1}, "dy = -1 is out of range"),
        ({"dz": 0.5}, "dz"),
        ({"dyaw": 200}, "dyaw = 200 is out of range (at most 180 degrees"),
        ({"dx": float("inf")}, "finite"),
        ({"dz": float("nan")}, "finite"),
        ({"dyaw": "a lot"}, "must be a number"),
    ],
)
def test_validate_offsets_refuses_bad_offsets(kw, words):
    from agent.policy.corrections import validate_offsets

    with pytest.raises(AgentError) as exc:
        validate_offsets(**kw)
    assert words in one_line(exc)


CUBE = math.pi / 2
PICK = (0.5, 0.1, 0.02, 0.3)
PLACE = (0.55, -0.1, 0.03, 0.3)


def _fields(**over):
    rgb, depth = _images(1)
    f = dict(
        family="place",
        seed=4,
        instruction="place the red cube on the green pad",
        primitive="pick_place",
        rgb=rgb[0],
        depth=depth[0],
        predicted_pick=(0.9, 0.1, 0.02, 0.3),
        predicted_place=(0.5, 0.0, 0.03, 0.0),
        corrected_pick=PICK,
        corrected_place=PLACE,
        expert="oracle",
        diagnosis="position",
        symmetry=CUBE,
        checkpoint=3,
        round=1,
    )
    f.update(over)
    return f


@pytest.mark.parametrize(
    "over, words",
    [
        ({"instruction": "  "}, "needs the instruction"),
        ({"primitive": "throw"}, "unknown primitive 'throw'"),
        ({"diagnosis": "bad"}, "diagnosis must be one of"),
        ({"expert": ""}, "expert must be"),
        ({"rgb": np.zeros((96, 144), np.uint8)}, "RGB image"),
        ({"depth": np.full((96, 144), np.nan, np.float32)}, "finite depth"),
        ({"depth": np.zeros((10, 10), np.float32)}, "RGB image"),
        ({"corrected_place": None}, "needs both place poses"),
        ({"corrected_pick": (0.5, 0.1, float("nan"), 0.0)}, "4 finite numbers"),
        ({"corrected_pick": (0.5, 0.1, 0.02)}, "4 finite numbers"),
        ({"corrected_pick": (1.5, 0.1, 0.02, 0.0)}, "x = 1.500 m is outside the workspace"),
        ({"corrected_place": (0.5, 0.1, 0.02, 4.0)}, "yaw 4.000 rad is outside"),
        ({"symmetry": float("inf")}, "symmetry must be a finite number"),
    ],
)
def test_make_correction_refuses_bad_fields(over, words):
    from agent.policy.corrections import make_correction

    with pytest.raises(AgentError) as exc:
        make_correction(**_fields(**over))
    assert words in one_line(exc)


def test_make_correction_clips_predictions_and_keeps_pick_only_actions():
    from agent.policy.corrections import POSE_HIGH, make_correction

    c = make_correction(**_fields())
    assert c.predicted_pick[0] == POSE_HIGH[0]  # predicted 0.9 m: clipped, not refused
    assert c.corrected_pick == PICK and c.corrected_place == PLACE
    p = make_correction(**_fields(primitive="pick", predicted_place=None, corrected_place=None))
    assert p.corrected_place is None and p.predicted_place is None


def test_correction_store_round_trip(tmp_path):
    from agent.policy.corrections import CorrectionStore, make_correction, store_path

    path = store_path(tmp_path)
    store = CorrectionStore(path)
    made = [
        make_correction(**_fields()),
        make_correction(
            **_fields(
                family="pick",
                seed=8,
                instruction="pick up the blue cube",
                primitive="pick",
                predicted_place=None,
                corrected_place=None,
                diagnosis="orientation",
                expert="human:ann",
                rgb=_images(1, 1)[0][0],
            )
        ),
        make_correction(**_fields(seed=10, round=2, checkpoint=None)),
    ]
    ids = [store.add(c) for c in made]
    assert ids == sorted(ids) and len(set(ids)) == 3
    again = CorrectionStore(path)  # a second process sees the same rows
    assert again.count() == 3 and again.count("place") == 2 and again.count("stack") == 0

    listed = again.list()
    assert [r["id"] for r in listed] == ids[::-1]  # newest first
    assert "image" not in listed[0] and listed[0]["round"] == 2 and listed[0]["checkpoint"] is None
    assert listed[1]["predicted"]["place"] is None and listed[1]["expert"] == "human:ann"
    assert listed[2]["corrected"] == {"pick": list(PICK), "place": list(PLACE)}
    assert [r["id"] for r in again.list("place", limit=1)] == [ids[2]]

    got = again.get()
    assert [c.id for c in got] == ids and all(c.created for c in got)
    for want, have in zip(made, got, strict=True):
        np.testing.assert_array_equal(have.rgb, want.rgb)
        np.testing.assert_array_equal(have.depth, want.depth)
        assert have.depth.dtype == np.float32 and have.rgb.dtype == np.uint8
        assert (have.family, have.seed, have.instruction, have.primitive) == (
            want.family,
            want.seed,
            want.instruction,
            want.primitive,
        )
        assert have.predicted_pick == pytest.approx(want.predicted_pick)
        assert have.corrected_pick == pytest.approx(want.corrected_pick)
        assert (have.corrected_place is None) == (want.corrected_place is None)
        assert (have.expert, have.diagnosis, have.symmetry) == (want.expert, want.diagnosis, CUBE)
        assert (have.checkpoint, have.round) == (want.checkpoint, want.round)
    assert [c.id for c in again.get([ids[1]])] == [ids[1]] and again.get([]) == []
    assert [c.seed for c in again.get(family="place")] == [4, 10]

    s = again.samples()
    assert len(s) == 3 and list(s.seed) == [4, 8, 10]
    np.testing.assert_allclose(s.pick[1], PICK, rtol=1e-6)  # labels: the corrected poses
    np.testing.assert_allclose(s.place[0], PLACE, rtol=1e-6)
    assert list(s.has_place) == [True, False, True]
    np.testing.assert_array_equal(s.rgb[1], made[1].rgb)
    assert len(again.samples([ids[0]])) == 1

    out = tmp_path / "export" / "c.jsonl"
    assert again.export(out, family="place") == 2
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [ids[0], ids[2]]
    assert rows[0]["corrected"]["place"] == list(PLACE) and rows[0]["diagnosis"] == "position"
    with np.load(io.BytesIO(base64.b64decode(rows[0]["image_npz_b64"]))) as z:
        np.testing.assert_array_equal(z["rgb"], made[0].rgb)
        np.testing.assert_array_equal(z["depth"], made[0].depth)


def test_correction_store_errors(tmp_path):
    from agent.policy.corrections import CorrectionStore

    store = CorrectionStore(tmp_path / "c.sqlite")
    with pytest.raises(AgentError) as exc:
        store.samples(family="place")
    assert one_line(exc) == "no corrections stored for place"
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(AgentError) as exc:
        CorrectionStore(bad)
    assert "is unusable" in one_line(exc)


def _turned(pose, deg=0.0, dx=0.0):
    return (pose[0] + dx, pose[1], pose[2], pose[3] + math.radians(deg))


@pytest.mark.parametrize(
    "family, primitive, sym, pick_err, place_err, want",
    [
        ("place", "pick_place", CUBE, (0, 0), (0, 0), "none"),
        ("place", "pick_place", CUBE, (0, 0.05), (0, 0), "position"),
        ("place", "pick_place", CUBE, (0, 0), (0, 0.03), "position"),
        ("place", "pick_place", CUBE, (35, 0), (0, 0), "orientation"),
        (
            "place",
            "pick_place",
            CUBE,
            (20, 0),
            (0, 0),
            "none",
        ),  # the proxy's 30 deg grasp tolerance
        ("place", "pick_place", CUBE, (0, 0), (-20, 0.0), "none"),  # placed turned: still placed
        ("rotate", "pick_place", CUBE, (0, 0), (-20, 0.0), "orientation"),  # rotate: 12 deg
        ("align", "pick_place", CUBE, (14, 0), (0, 0), "orientation"),
        ("place", "pick_place", CUBE, (40, 0.05), (0, 0), "position+orientation"),
        ("place", "pick_place", CUBE, (90, 0.01), (0, 0.01), "none"),  # a cube turned 90
        ("place", "pick_place", 0.0, (40, 0), (40, 0), "none"),  # a cylinder: any yaw
        ("push", "push", CUBE, (40, 0), (40, 0), "none"),  # a push picks its own yaw
        ("push", "push", CUBE, (40, 0.04), (0, 0), "position"),
        ("align", "pick_place", CUBE, (0, 0), (0, 0.018), "position"),  # align: 1.5 cm
        ("place", "pick_place", CUBE, (0, 0), (0, 0.018), "none"),  # elsewhere: 2 cm
        ("pick", "pick", CUBE, (0, 0.03), None, "position"),
        ("pick", "pick", CUBE, (35, 0), None, "orientation"),
    ],
)
def test_diagnosis_of_constructed_predictions(family, primitive, sym, pick_err, place_err, want):
    from agent.policy.corrections import diagnose

    pred_pick = _turned(PICK, *pick_err)
    place = None if place_err is None else PLACE
    pred_place = None if place_err is None else _turned(PLACE, *place_err)
    assert diagnose(pred_pick, pred_place, PICK, place, sym, primitive, family) == want


def test_a_grasp_too_high_or_too_low_is_a_position_fault():
    from agent.policy.corrections import diagnose

    for dz in (0.02, -0.02):
        high = (PICK[0], PICK[1], PICK[2] + dz, PICK[3])
        assert diagnose(high, PLACE, PICK, PLACE, CUBE, "pick_place", "place") == "position"


# -- the feedback loop -----------------------------------------------------------------------
def test_simulated_expert_noise():
    from agent.policy.feedback import SimulatedExpert

    assert SimulatedExpert().correct(PICK) == PICK and SimulatedExpert().correct(None) is None
    noisy = SimulatedExpert(pos_noise=0.01, yaw_noise=5.0, seed=3)
    assert noisy.name == "oracle+noise(1cm,5deg)"
    d = np.array([np.subtract(noisy.correct(PICK), PICK) for _ in range(400)])
    assert d[:, :3].std() == pytest.approx(0.01, rel=0.15)
    assert np.degrees(d[:, 3]).std() == pytest.approx(5.0, rel=0.15)
    assert np.abs(d[:, :2]).max() < 0.05  # 5 sigma
    for bad in ({"pos_noise": -0.01}, {"yaw_noise": float("nan")}):
        with pytest.raises(AgentError):
            SimulatedExpert(**bad)


def _feedback(world, tmp_path, expert, attempts, save=None):
    from agent.policy.corrections import CorrectionStore
    from agent.policy.feedback import FeedbackConfig, run_feedback
    from agent.policy.policy import Policy

    model = tiny_model(5)
    before = Policy(copy.deepcopy(model), SPEC, tiny_encoder(), threads=1)
    policy = Policy(model, SPEC, tiny_encoder(), threads=1, info={"version": 7})
    store = CorrectionStore(tmp_path / "corrections.sqlite")
    cfg = FeedbackConfig(
        "pick",
        rounds=1,
        attempts=attempts,
        eval_episodes=1,
        steps=2,
        optim=Optim(batch_size=2, threads=1),
    )
    report = run_feedback(policy, store, cfg, expert, save=save, world=world)
    return report, store.get(), before, policy


def _oracle(world, corrections):
    from agent.policy.data import make_demos

    return make_demos("pick", [c.seed for c in corrections], SPEC, world)


def test_feedback_round_stores_full_corrections_and_fine_tunes(world, tmp_path):
    from agent.policy.corrections import clip_to_workspace, diagnose
    from agent.policy.feedback import CORRECTION_SEED_BASE, SimulatedExpert

    weights = tiny_model(5).state_dict()
    saved = []
    save = lambda model, meta: saved.append((model, meta)) or 8  # noqa: E731
    report, got, before, policy = _feedback(world, tmp_path, SimulatedExpert(), 2, save)
    # An untrained policy fails every attempt: each one is corrected and stored.
    (rnd,) = report["rounds"]
    assert (rnd["attempts"], rnd["failures"], rnd["corrections"]) == (2, 2, 2)
    assert report["expert"] == "oracle" and rnd["finetune_seconds"] > 0
    assert report["max_finetune_seconds"] == rnd["finetune_seconds"]
    assert report["final_success"] == rnd["success"] and "start_success" in report
    assert report["reached_target_round"] in (None, 1)
    # The round's fine-tuned model was saved as a child of the version that predicted.
    ((model, meta),) = saved
    assert model is policy.model and rnd["checkpoint"] == 8
    assert meta == {
        "kind": "correction",
        "family": "pick",
        "round": 1,
        "corrections": 2,
        "success": rnd["success"],
        "parent": 7,
        "successes_kept": 0,
        "augment": True,
    }
    assert report["augment"] is True
    assert sum(rnd["diagnoses"].values()) == 2
    assert [c.seed for c in got] == [CORRECTION_SEED_BASE, CORRECTION_SEED_BASE + 2]
    demos = _oracle(world, got)
    for i, c in enumerate(got):
        assert (c.family, c.primitive, c.expert, c.round, c.checkpoint) == (
            "pick",
            "pick",
            "oracle",
            1,
            7,
        )
        assert c.instruction == demos.instruction[i]
        np.testing.assert_array_equal(c.rgb, demos.rgb[i])  # the image the policy saw
        np.testing.assert_allclose(c.depth, demos.depth[i])
        np.testing.assert_allclose(c.corrected_pick, demos.pick[i], atol=1e-6)  # the oracle's
        assert c.corrected_place is None and c.predicted_place is None
        pred = before.predict(c.rgb, c.depth, c.instruction)  # the untrained policy's
        assert c.predicted_pick == pytest.approx(clip_to_workspace(pred.pick))
        assert c.symmetry == pytest.approx(float(demos.symmetry[i]))
        assert c.diagnosis == diagnose(
            pred.pick, None, demos.pick[i], None, c.symmetry, "pick", "pick"
        )
        assert c.diagnosis != "none"
    # The policy was fine-tuned in place on them.
    after = policy.model.state_dict()
    assert any(not np.array_equal(after[k].numpy(), v.numpy()) for k, v in weights.items())


@pytest.mark.parametrize("keep", [True, False])
def test_successful_attempts_are_kept_as_training_rows_with_their_own_poses(
    world, tmp_path, monkeypatch, keep
):
    """The round's first attempt (a training scene: even seed; held-out ones are odd) is
    made to count as a success: with keep_successes its scene and the policy's own poses
    join the corrections in the round's training rows."""
    import dataclasses

    import agent.policy.evaluate as evaluate
    import agent.policy.prepare as prep
    from agent.policy.corrections import CorrectionStore
    from agent.policy.feedback import FeedbackConfig, SimulatedExpert, run_feedback
    from agent.policy.policy import Policy

    real_attempt, real_prepare = evaluate.attempt, prep.prepare
    made, trained = [], []

    def attempt(*args, **kw):
        a = real_attempt(*args, **kw)
        if a.seed % 2:
            return a
        made.append(dataclasses.replace(a, success=not made))
        return made[-1]

    def prepare(samples, *args, **kw):
        trained.append(samples)
        return real_prepare(samples, *args, **kw)

    monkeypatch.setattr(evaluate, "attempt", attempt)
    monkeypatch.setattr(prep, "prepare", prepare)
    policy = Policy(tiny_model(5), SPEC, tiny_encoder(), threads=1)
    cfg = FeedbackConfig(
        "pick",
        rounds=1,
        attempts=3,
        eval_episodes=1,
        steps=2,
        optim=Optim(batch_size=2, threads=1),
        keep_successes=keep,
    )
    report = run_feedback(
        policy, CorrectionStore(tmp_path / "c.sqlite"), cfg, SimulatedExpert(), world=world
    )
    (rnd,) = report["rounds"]
    assert (rnd["failures"], rnd["corrections"], rnd["successes_kept"]) == (2, 2, int(keep))
    (rows,) = trained
    assert len(rows) == 2 + int(keep)
    if keep:
        ok = made[0]
        assert int(rows.seed[-1]) == ok.seed and rows.instruction[-1] == ok.instruction
        np.testing.assert_array_equal(rows.rgb[-1], ok.rgb)
        np.testing.assert_allclose(rows.pick[-1], ok.prediction.pick, atol=1e-6)  # its own pose
        assert np.isnan(rows.place[-1]).all()  # a pick has no place
    assert report["keep_successes"] is keep


def test_a_noisy_experts_corrections_are_near_the_oracle(world, tmp_path):
    from agent.policy.feedback import SimulatedExpert

    expert = SimulatedExpert(pos_noise=0.004, yaw_noise=3.0, seed=1)
    _, got, _, _ = _feedback(world, tmp_path, expert, attempts=3)
    assert len(got) == 3 and all(c.expert == "oracle+noise(0.4cm,3deg)" for c in got)
    demos = _oracle(world, got)
    d = np.array([np.subtract(c.corrected_pick, demos.pick[i]) for i, c in enumerate(got)])
    d[:, 3] = [math.remainder(a, 2 * math.pi) for a in d[:, 3]]
    assert np.abs(d[:, :2]).max() < 5 * 0.004 and np.abs(d[:, :2]).max() > 1e-5
    assert np.degrees(np.abs(d[:, 3])).max() < 5 * 3.0 and np.abs(d[:, 3]).max() > 1e-6
