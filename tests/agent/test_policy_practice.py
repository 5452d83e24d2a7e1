"""Practice: a failed run's step tried again in the simulator until its atoms hold.

One real run of the agent (oracle poses) is recorded; a failed copy of it has the cube's
rest pose moved to the wrong side of the bowl. Practice must find a spot where the step's
atom holds, judged by the simulator, and the row must place the cube there.
"""

from __future__ import annotations

import copy
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.agent.policy_helpers import recorded_run

GOAL = "put the red cube left of the blue bowl"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("practicehome")
    return home, recorded_run(home, GOAL, "red cube, blue bowl, green cube")


def store(home: Path):
    from agent.run.records import RunStore

    return RunStore(home)


def wrong_copy(rec, dy: float):
    """The record failed, with the red cube coming to rest `dy` m right of the bowl."""
    traj = copy.deepcopy(rec.trajectory)
    i = traj["objects"].index("red cube")
    end = next(o["end"] for o in rec.objects if o["description"] == "red cube")
    bowl = next(o["end"] for o in rec.objects if o["description"] == "blue bowl")
    wrong = [bowl[0], bowl[1] + dy, end[2], end[3]]
    landed = False
    for s in traj["samples"]:
        landed = landed or math.dist(s["poses"][i][:3], end[:3]) < 0.002
        if landed:
            s["poses"][i] = list(wrong)
    assert landed
    return replace(rec, run_id=f"wrong{int(dy * 100):02d}", trajectory=traj, success=False)


@pytest.fixture
def home(recorded, tmp_path):
    h = tmp_path / "home"
    shutil.copytree(recorded[0], h)
    s = store(h)
    try:
        rec = s.get(recorded[1])
        s.save(wrong_copy(rec, 0.10))
        s.save(replace(rec, run_id="rightfailed1", success=False))  # its step did hold
    finally:
        s.close()
    return h, rec


def test_practice_finds_a_spot_where_the_false_atom_holds(home):
    from agent.policy.practice import practise, step_holds
    from agent.policy.run_steps import run_steps
    from sim.goals import check, evaluate, read_world
    from sim.world import World

    h, rec = home
    s = store(h)
    bad = s.get("wrong10")
    s.close()
    (step,) = run_steps(bad)
    bowl = step.before["blue bowl"]
    assert step.after[1] > bowl[1]  # the cube came to rest right of the bowl
    w = World(image_size=(64, 64))
    try:
        assert not step_holds(w, bad, step)
        (good,) = run_steps(rec)
        assert step_holds(w, rec, good)
        found = practise(w, bad, step)
        assert found.after is not None and found.tried > 0, found.why
        # the spot found: left of the bowl, judged again from a fresh rebuild
        fixed = replace(step, after=found.after)
        assert step_holds(w, bad, fixed)
        state = read_world(w)
        assert evaluate(check("left_of(red cube, blue bowl)", state), state).value
    finally:
        w.close()
    assert found.after[1] < bowl[1]


def test_practised_rows_of_failed_runs(home):
    from agent.policy.geometry import ImageSpec
    from agent.policy.self_data import rows_from_runs

    h, rec = home
    plain = rows_from_runs(h, ["wrong10", "rightfailed1"], spec=ImageSpec())
    assert len(plain) == 0  # without practice a failed run gives no row
    rows = rows_from_runs(h, ["wrong10", "rightfailed1"], spec=ImageSpec(), practice=True)
    assert len(rows) == 2 and sorted(rows.runs) == ["rightfailed1", "wrong10"]
    s = rows.samples
    place = dict(zip(rows.run_id.tolist(), s.place[:, :2].tolist(), strict=True))
    bowl = next(o["end"] for o in rec.objects if o["description"] == "blue bowl")
    end = next(o["end"] for o in rec.objects if o["description"] == "red cube")
    assert place["wrong10"][1] < bowl[1] - 0.03  # practised: left of the bowl
    assert np.allclose(place["rightfailed1"], end[:2], atol=0.005)  # held: as carried out
    assert set(s.family.tolist()) == {"left_of"} and set(s.instruction.tolist()) == {GOAL}


def test_a_step_no_spot_repairs_gives_no_row(home, monkeypatch):
    from agent.policy import practice
    from agent.policy.geometry import ImageSpec
    from agent.policy.self_data import rows_from_runs

    h, _ = home
    monkeypatch.setattr(practice, "RINGS", (0.01,))  # too near the wrong spot to hold
    monkeypatch.setattr(practice, "TURNS", (15,))
    rows = rows_from_runs(h, ["wrong10"], spec=ImageSpec(), practice=True)
    assert len(rows) == 0
    (why,) = [s["why"] for s in rows.skipped if s.get("step") == 0]
    assert why.startswith("no spot near where it was put holds")


def test_self_train_practice_flag(home, fast_embeddings):
    from tests.agent.policy_helpers import fails, run, save_tiny_checkpoint

    h, _ = home
    save_tiny_checkpoint(h)
    assert "no training row from the runs given" in fails(
        h, "policy", "self-train", "--runs", "wrong10", "--steps", "2"
    )
    out = run(h, "policy", "self-train", "--runs", "wrong10", "--practice", "--steps", "2")
    assert out["version"] == 2 and out["runs"] == ["wrong10"] and out["rows"] == 1


def test_a_successful_run_whose_step_did_not_hold_gives_no_row(home):
    """The goal held at the end, but the step's own atom did not where it left the cube
    (as if a later step had made it good): not a verified step, no row."""
    from agent.policy.geometry import ImageSpec
    from agent.policy.self_data import rows_from_runs

    h, rec = home
    s = store(h)
    try:
        s.save(replace(wrong_copy(rec, 0.10), run_id="okbutwrong1", success=True))
    finally:
        s.close()
    rows = rows_from_runs(h, ["okbutwrong1", rec.run_id], spec=ImageSpec())
    assert rows.runs == [rec.run_id]
    (why,) = [x["why"] for x in rows.skipped if x["run_id"] == "okbutwrong1"]
    assert why == "its atoms did not hold where it left the object"
