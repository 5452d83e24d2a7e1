"""Self-supervised policy data from runs: steps, rows with confirmed poses, self-train.

One real run of the agent (a goal on a scene from words, oracle poses) is recorded in a
data home; its record gives the rows. A failed copy of it (the same record marked failed)
gives none. Fine-tuning uses a tiny checkpoint and the hashing embedder.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agent.errors import AgentError
from tests.agent.policy_helpers import fails, recorded_run, run, save_tiny_checkpoint

EMBED_DIM = 16  # the fast_embeddings fixture's hashing embedder, as tiny_model expects
GOAL = "put the red cube left of the blue bowl"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, str]:
    """A home with one successful recorded run of a goal (scene from words) and its id."""
    home = tmp_path_factory.mktemp("selfhome")
    return home, recorded_run(home, GOAL, "red cube, blue bowl, green cube")


@pytest.fixture
def home(recorded, tmp_path) -> tuple[Path, str]:
    h = tmp_path / "home"
    shutil.copytree(recorded[0], h)
    return h, recorded[1]


def record(home: Path, run_id: str):
    from agent.run.records import RunStore

    store = RunStore(home)
    try:
        return store.get(run_id)
    finally:
        store.close()


def save(home: Path, rec) -> None:
    from agent.run.records import RunStore

    store = RunStore(home)
    try:
        store.save(rec)
    finally:
        store.close()


def traj(poses_a: list, poses_b: list) -> dict:
    samples = [
        {"frame": i, "t": i / 5, "gripper": [0.4, 0.0, 0.3], "poses": [a, b], "truth": []}
        for i, (a, b) in enumerate(zip(poses_a, poses_b, strict=True))
    ]
    return {"objects": ["red cube", "blue cube"], "atoms": [], "samples": samples}


def test_segments_are_one_object_moving_not_a_nudge():
    from agent.policy.run_steps import segments

    still = [0.5, 0.1, 0.0, 0.0]
    a = [still, still, [0.5, 0.1, 0.05, 0.0], [0.5, 0.1, 0.05, 0.0]]  # lifted, a pause
    a += [[0.5, 0.0, 0.05, 0.0], [0.5, -0.1, 0.0, 0.0], [0.5, -0.1, 0.0, 0.0]]
    b = [[0.6, 0.2, 0.0, 0.0]] * 6 + [[0.603, 0.2, 0.0, 0.0]]  # nudged 3 mm at the end
    assert segments(traj(a, b)) == [("red cube", 2, 5)]  # the pause is the same step
    turned = [still, still, [0.5, 0.1, 0.0, 20.0], [0.5, 0.1, 0.0, 20.0]]
    assert segments(traj(turned, [[0.6, 0.2, 0.0, 0.0]] * 4)) == [("red cube", 2, 2)]


def test_a_successful_run_gives_its_step_with_the_poses_the_simulator_confirmed(home):
    from agent.policy.geometry import ImageSpec
    from agent.policy.run_steps import run_steps
    from agent.policy.self_data import rows_from_runs

    h, run_id = home
    rec = record(h, run_id)
    (step,) = run_steps(rec)
    assert step.phrase == GOAL and step.relation == "left_of" and step.obj == "red cube"
    start = next(o for o in rec.objects if o["description"] == "red cube")
    assert math.dist(step.before["red cube"][:2], start["start"][:2]) < 0.005
    assert math.dist(step.after[:2], start["end"][:2]) < 0.005

    rows = rows_from_runs(h, spec=ImageSpec())
    assert len(rows) == 1 and rows.runs == [run_id] and list(rows.run_id) == [run_id]
    s = rows.samples
    assert s.instruction[0] == GOAL and s.family[0] == "left_of" and s.primitive[0] == "pick_place"
    # the grasp where the cube stood, the placement where it came to rest (no expert)
    assert np.allclose(s.pick[0, :2], start["start"][:2], atol=0.005)
    assert np.allclose(s.place[0, :2], start["end"][:2], atol=0.005)
    assert s.rgb.shape == (1, *ImageSpec().shape, 3) and s.rgb.std() > 5
    # the view is the scene before the step: the cube at its start, not at its end
    from agent.policy.geometry import observe
    from agent.policy.run_steps import rebuild
    from sim.world import World

    w = World(image_size=(160, 160))
    try:
        assert rebuild(w, step.before) == ""
        before = observe(w, ImageSpec())[0]
        assert rebuild(w, {**step.before, "red cube": step.after}) == ""
        after = observe(w, ImageSpec())[0]
    finally:
        w.close()
    assert (
        np.abs(s.rgb[0].astype(int) - before).mean() < np.abs(s.rgb[0].astype(int) - after).mean()
    )


def test_a_pick_run_gives_a_grasp_row_without_a_placement(run):
    from agent.policy.self_data import rows_from_runs

    home, run_id = run  # the agent's pick run (conftest): the goal holds the object at the end
    rows = rows_from_runs(home, [run_id])
    assert len(rows) == 1 and rows.skipped == []
    s = rows.samples
    assert s.instruction[0] == "pick up the orange cylinder" and s.primitive[0] == "pick"
    assert s.family[0] == "pick" and np.isnan(s.place[0]).all()
    start = next(
        o["start"] for o in record(home, run_id).objects if o["description"] == "orange cylinder"
    )
    assert np.allclose(s.pick[0, :2], start[:2], atol=0.005)


def test_failed_runs_and_runs_without_a_trajectory_give_no_row(home):
    from agent.policy.self_data import rows_from_runs

    h, run_id = home
    rec = record(h, run_id)
    save(h, replace(rec, run_id="failedcopy01", success=False))
    save(h, replace(rec, run_id="notraject001", trajectory={}))
    rows = rows_from_runs(h, ["failedcopy01", "notraject001"])
    assert len(rows) == 0 and rows.samples is None
    why = {s["run_id"]: s["why"] for s in rows.skipped}
    assert why == {"failedcopy01": "its goal did not hold", "notraject001": "it has no trajectory"}
    with pytest.raises(AgentError, match="no run with id 'nope'"):
        rows_from_runs(h, ["nope"])


def test_finetune_from_runs_saves_a_checkpoint_that_names_its_runs(home, fast_embeddings):
    from agent.policy.checkpoint import list_checkpoints
    from agent.policy.self_data import finetune_from_runs
    from agent.policy.settings import Optim

    h, run_id = home
    save_tiny_checkpoint(h, {"families": ["place"]})
    res = finetune_from_runs(h, None, "replay", steps=2, optim=Optim(batch_size=2, threads=1))
    assert res["version"] == 2 and res["parent"] == 1 and res["runs"] == [run_id]
    assert res["rows"] == 1 and res["relations"] == ["left_of"]
    manifest = list_checkpoints(h)[-1]
    assert manifest["kind"] == "self-supervised" and manifest["runs"] == [run_id]
    assert manifest["strategy"] == "replay" and "left_of" in manifest["families"]
    with pytest.raises(AgentError, match="no successful run that no self-supervised"):
        finetune_from_runs(h, None, steps=2)  # every run has been learned from


def test_policy_self_train_command(home, fast_embeddings):
    h, run_id = home
    save_tiny_checkpoint(h)
    out = run(h, "policy", "self-train", "--runs", run_id, "--steps", "2", "--strategy", "naive")
    assert out["version"] == 2 and out["runs"] == [run_id] and out["strategy"] == "naive"
    assert Path(out["checkpoint"]).is_file()
    assert "no run with id 'zzz'" in fails(h, "policy", "self-train", "--runs", "zzz")
    assert "unknown strategy 'nope'" in fails(h, "policy", "self-train", "--strategy", "nope")
    assert "no successful run that no self-supervised" in fails(h, "policy", "self-train")
    assert len(list((h / "policy" / "checkpoints").glob("*.pt"))) == 2  # nothing more written
