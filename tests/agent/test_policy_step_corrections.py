"""Corrections on any step of any goal, and the queue ordered by informativeness.

The recorded run of `test_policy_self_data` (a goal on a scene from words) is copied as a
failed `--perception policy` run that stopped before its step: its step is rebuilt, the
tiny checkpoint asked with the step's phrase, and the failure queued (scored), corrected by
the simulated expert, by the CLI, and by a click on the UI's Corrections page.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from skills.embed import HashEmbedder
from tests.agent.policy_helpers import TINY_DIM, fails, invoke, run, save_tiny_checkpoint
from tests.agent.test_policy_self_data import GOAL, record, recorded, save  # noqa: F401
from tests.agent.test_ui import BASE, SAME_ORIGIN

EMBED_DIM = TINY_DIM
FAILED = "failedpolicy"
OLD_HOME = Path(__file__).parent.parent / "fixtures" / "home_v1"


@pytest.fixture
def home(recorded, tmp_path, fast_embeddings):  # noqa: F811
    """A copy of the recorded home with a tiny checkpoint and a failed policy run whose
    trajectory stops before its step (the grasp failed)."""
    h = tmp_path / "home"
    shutil.copytree(recorded[0], h)
    rec = record(h, recorded[1])
    traj = dict(rec.trajectory, samples=rec.trajectory["samples"][:4])
    atoms = tuple(dict(a, value=False) for a in rec.atoms)
    failed = replace(rec, run_id=FAILED, success=False, perception="policy", atoms=atoms)
    save(h, replace(failed, trajectory=traj))
    save_tiny_checkpoint(h, {"families": ["place"]})
    return h


def stored(h: Path):
    from agent.policy.corrections import CorrectionStore, store_path

    return CorrectionStore(store_path(h)).get()


def test_informativeness_orders_unsure_close_and_new_first():
    from agent.policy.policy import KeyPoint, Prediction
    from agent.policy.step_queue import informativeness

    def pred(conf: float) -> Prediction:
        k = KeyPoint(1.0, 1.0, (0.5, 0.0, 0.02), 0.0, conf)
        return Prediction((0.5, 0.0, 0.02, 0.0), (0.5, 0.1, 0.02, 0.0), 0.0, k, k)

    sure, unsure = informativeness(pred(0.9), 0.5, 0)[0], informativeness(pred(0.1), 0.5, 0)[0]
    assert unsure > sure
    assert informativeness(pred(0.5), 0.9, 0)[0] > informativeness(pred(0.5), 0.1, 0)[0]
    assert informativeness(pred(0.5), 0.5, 0)[0] > informativeness(pred(0.5), 0.5, 9)[0]
    score, parts = informativeness(pred(0.2), 0.5, 1)
    assert parts == {"uncertainty": 0.8, "closeness": 0.5, "novelty": 0.5}
    assert score == pytest.approx(0.4 * 0.8 + 0.3 * 0.5 + 0.3 * 0.5)


def test_a_failed_runs_step_is_queued_with_its_phrase_and_score(home):
    from agent.policy.queue import open_queue
    from agent.policy.step_queue import enqueue_runs, failed_step

    rec = record(home, FAILED)
    step = failed_step(rec)
    assert step.index == 0 and step.phrase == GOAL and step.after is None
    res = enqueue_runs(home, embedder=HashEmbedder(TINY_DIM))  # failed policy runs only
    assert res["tried"] == 1 and res["queued"] == 1 and res["skipped"] == []
    (it,) = res["items"]
    assert it["run_id"] == FAILED and it["step"] == 0 and it["phrase"] == GOAL
    assert 0 <= it["score"] <= 1 and set(it["score_parts"]) == {
        "uncertainty",
        "closeness",
        "novelty",
    }
    (ps,) = open_queue(home).waiting()
    assert (ps.scene.run_id, ps.scene.step, ps.scene.instruction) == (FAILED, 0, GOAL)
    assert ps.scene.family == "left_of" and ps.score == it["score"] and ps.scene.image.is_file()
    again = run(home, "policy", "queue", "--runs", FAILED)  # same checkpoint: queued already
    assert again["queued"] == 0 and again["already_queued"] == 1 and again["waiting"] == 1
    assert "one of them" in fails(
        home, "policy", "queue", "--family", "place", "--all-runs", code=2
    )


def test_the_queue_hands_out_the_most_informative_first(home):
    from agent.policy.queue import open_queue
    from agent.policy.step_queue import enqueue_runs

    enqueue_runs(home, embedder=HashEmbedder(TINY_DIM))
    q = open_queue(home)
    (ps,) = q.waiting()
    for score, seed in ((0.05, 7), (None, 9), (0.99, 11)):
        q.add(
            replace(ps.scene, run_id=None, step=None, seed=seed),
            ps.spec,
            ps.oracle_pick,
            ps.oracle_place,
            ps.diagnosis,
            "d",
            score,
        )  # family scenes
    order = [(p.score, p.scene.seed) for p in q.waiting()]
    assert order == [(0.99, 11), (ps.score, 0), (0.05, 7), (None, 9)]


def test_the_simulated_expert_corrects_a_step_stored_with_run_step_and_phrase(home):
    from agent.policy.corrections import DIAGNOSES

    out = run(home, "policy", "correct", "--run", FAILED, "--simulated")
    assert out["stored"] and out["run_id"] == FAILED and out["step"] == 0
    assert out["phrase"] == GOAL and out["relation"] == "left_of" and out["diagnosis"] in DIAGNOSES
    (c,) = stored(home)
    assert (c.run_id, c.step, c.phrase, c.family, c.expert) == (
        FAILED,
        0,
        GOAL,
        "left_of",
        "oracle",
    )
    listed = run(home, "policy", "corrections", "list")["corrections"][0]
    assert listed["run_id"] == FAILED and listed["step"] == 0 and listed["phrase"] == GOAL
    # a person's correction of the same step from the command line
    out = run(home, "policy", "correct", "--run", FAILED, "--step", "0", "--angle", "30")
    assert out["stored"] and out["run_id"] == FAILED and out["phrase"] == GOAL
    assert [c.step for c in stored(home)] == [0, 0]
    assert "no step 5" in fails(
        home, "policy", "correct", "--run", FAILED, "--step", "5", "--angle", "3"
    )
    code, _, _ = invoke(home, "policy", "correct", "--simulated", "--family", "place")
    assert code == 2 and len(stored(home)) == 2


def test_the_ui_shows_the_steps_phrase_and_stores_a_click_on_the_step(home):
    from agent.policy.step_queue import enqueue_runs
    from agent.ui.app import create_app
    from skills.index import MemoryIndex
    from skills.library import SkillLibrary

    enqueue_runs(home, embedder=HashEmbedder(TINY_DIM))
    lib = SkillLibrary(home, HashEmbedder(), MemoryIndex(), install_seeds=False)
    try:
        app = create_app(home, library=lib)
        with TestClient(app, base_url=BASE) as c:
            (it,) = app.state.ctx.corrections.pending()
            page = c.get("/corrections").text
            assert f"run <code>{FAILED}</code> step 0" in page and GOAL in page
            assert f"score {it.score:.2f}" in page
            one = c.get(f"/corrections/{it.id}").text
            assert "Step 0 of run" in one and f"<q>{GOAL}</q>" in one
            form = {"pick_row": it.pick.row + 3, "pick_col": it.pick.col, "pick_angle": 10.0}
            form |= {
                "place_row": it.place.row,
                "place_col": it.place.col,
                "place_angle": it.place.angle,
            }
            r = c.post(
                f"/corrections/{it.id}", data=form, headers=SAME_ORIGIN, follow_redirects=False
            )
            assert r.status_code == 303
    finally:
        lib.close()
    (corr,) = stored(home)
    assert (corr.run_id, corr.step, corr.phrase, corr.expert) == (FAILED, 0, GOAL, "human:ui")


def test_an_old_store_takes_step_corrections_and_keeps_its_rows(tmp_path):
    from agent.policy.corrections import CorrectionStore, make_correction, store_path
    from agent.policy.queue import PendingQueue

    h = tmp_path / "old"
    shutil.copytree(OLD_HOME, h)
    store = CorrectionStore(store_path(h))
    (old,) = store.get()
    assert old.run_id is None and "run_id" not in store.list()[0]
    new = make_correction(
        **{**old.__dict__, "id": None, "created": None, "run_id": "r1", "step": 2}
    )
    store.add(new)
    rows = store.list()
    assert (
        rows[0]["run_id"] == "r1" and rows[0]["step"] == 2 and rows[0]["phrase"] == old.instruction
    )
    assert [p.score for p in PendingQueue(store_path(h)).waiting()] == [None]
    with closing(sqlite3.connect(store_path(h))) as db:
        versions = dict(db.execute("SELECT component, version FROM schema_version"))
    assert versions["corrections"] == 2 and versions["pending"] == 2
