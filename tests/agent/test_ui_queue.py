"""The Corrections page on the policy's real store: a tiny checkpoint, its queued failures.

A checkpoint is trained for a few steps in a temporary home (`train_policy`, with the
hashing embedder so no model is loaded), its failures on held-out scenes are queued with
`enqueue_failures`, and the page stores corrections through `PolicyCorrectionQueue`. Each
stored row is checked against what `skillgrove policy correct` computes for the same scene
(`show_scene`), pixel and angle (`corrected_pose`, `store_human_correction`).
"""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from agent.ui.app import create_app
from agent.ui.corrections import (
    CorrectionQueue,
    KeyPose,
    PolicyCorrectionQueue,
    key_from_pose,
    pose_from_key,
)
from skills.embed import HashEmbedder
from skills.index import MemoryIndex
from skills.library import SkillLibrary
from tests.agent.test_ui import BASE, SAME_ORIGIN

EMBED_DIM = 384  # PoseNet's default text width is 3 x 384


def embedder() -> HashEmbedder:
    return HashEmbedder(EMBED_DIM)


def queued_home(tmp_path_factory) -> Path:
    """A home with a tiny trained checkpoint and its failures queued (made once a session).

    Callers copy its `policy/` folder (`with_policy`) and never change it.
    """
    from agent.policy.queue import enqueue_failures
    from agent.policy.settings import Optim
    from agent.policy.train import TrainSettings, train_policy

    home = tmp_path_factory.getbasetemp() / "queued-policy-home"
    done = home / "ready.json"
    if done.is_file():
        return home
    shutil.rmtree(home, ignore_errors=True)
    settings = TrainSettings(("place",), n_train=8, n_test=3, steps=5, optim=Optim(batch_size=4))
    train_policy(home, settings, embedder=embedder())
    place = enqueue_failures(home, "latest", "place", 3, embedder=embedder())
    again = enqueue_failures(home, "latest", "place", 1, embedder=embedder())  # seed 1 again
    pick = enqueue_failures(home, "latest", "pick", 2, embedder=embedder())
    done.write_text(json.dumps({"place": place, "again": again, "pick": pick}))
    return home


def with_policy(src: Path, home: Path) -> Path:
    """Copy a queued home's policy folder (checkpoint, store, PNGs) into `home`."""
    shutil.copytree(src / "policy", home / "policy")
    return home


def cli_scene(home: Path, family: str, seed: int):
    """The scene `skillgrove policy correct --family F --seed S` shows, and the policy's spec."""
    from agent.policy.human import show_scene
    from agent.policy.train import load_policy

    pol = load_policy(home, "latest", embedder=embedder())
    return show_scene(home, pol, family, seed), pol.spec


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return queued_home(tmp_path_factory)


@pytest.fixture()
def site(base, tmp_path):
    """An app on a home with a library and a copy of the queued policy store."""
    home = tmp_path / "home"
    lib = SkillLibrary(home, HashEmbedder(), MemoryIndex(), install_seeds=False)
    with_policy(base, home)
    app = create_app(home, library=lib)
    with TestClient(app, base_url=BASE) as c:
        yield home, app.state.ctx.corrections, c
    lib.close()


def stored_rows(home: Path):
    from agent.policy.corrections import CorrectionStore, store_path

    return CorrectionStore(store_path(home)).get()


def test_failures_are_queued_once_with_their_diagnosis(base):
    from agent.policy.queue import open_queue

    made = json.loads((base / "ready.json").read_text())
    place, again, pick = made["place"], made["again"], made["pick"]
    assert (
        place["version"] == 1 and place["tried"] == 3 and place["failed"] >= 1
    )  # five steps of training
    seeds = [it["seed"] for it in place["items"]]
    assert place["queued"] == place["failed"] and seeds == sorted(seeds) and set(seeds) <= {1, 3, 5}
    assert again["queued"] == 0 and again["already_queued"] == again["failed"] == int(1 in seeds)
    waiting = open_queue(base).waiting()
    assert len(waiting) == place["queued"] + pick["queued"]
    for ps in waiting:
        assert ps.diagnosis in ("position", "orientation", "position+orientation", "none")
        assert ps.scene.checkpoint == 1 and ps.scene.image.is_file()  # the CLI's PNG beside it
        assert (ps.scene.place is None) == (ps.scene.family == "pick")
        assert ps.oracle_pick is not None and (ps.oracle_place is None) == (
            ps.scene.family == "pick"
        )


def test_the_page_shows_the_real_queue(site):
    home, q, c = site
    assert isinstance(q, PolicyCorrectionQueue) and isinstance(q, CorrectionQueue)
    items = q.pending()
    assert items and q.count() == len(items)
    r = c.get("/corrections")
    assert r.status_code == 200 and f"{len(items)} waiting" in r.text
    for it in items:
        assert f'href="/corrections/{it.id}"' in r.text and it.instruction in r.text
        k = it.pick  # the predicted grasp drawn on the card
        assert f'transform="translate({k.col:.2f} {k.row:.2f}) rotate({-k.angle:.1f})"' in r.text
    it = next(i for i in items if i.family == "place")
    scene, spec = cli_scene(home, it.family, it.seed)
    assert it.instruction == scene.instruction and (it.width, it.height) == (144, 96)
    # the predicted poses are drawn where the policy predicted them
    page = c.get(f"/corrections/{it.id}").text
    k = key_from_pose(spec, scene.pick)
    assert (
        f'id="pred-pick" class="glyph" transform="translate({k.col:.2f} {k.row:.2f}) rotate({-k.angle:.1f})"'
        in page
    )
    assert 'id="pred-place"' in page and "checkpoint v0001" in page
    from PIL import Image

    img = c.get(f"/corrections/{it.id}/image.png")
    assert img.status_code == 200
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(img.content))), scene.rgb)
    pick_only = next(i for i in items if i.family == "pick")
    assert pick_only.place is None
    assert 'name="place_row"' not in c.get(f"/corrections/{pick_only.id}").text


def test_a_stored_correction_is_the_row_policy_correct_stores(site):
    from agent.policy.corrections import clip_to_workspace
    from agent.policy.draw import SCALE
    from agent.policy.human import corrected_pose, store_human_correction

    home, q, c = site
    it = next(i for i in q.pending() if i.family == "place")
    scene, spec = cli_scene(home, it.family, it.seed)
    row, col, angle = 40.5, 30.25, it.pick.angle + 25
    form = {
        "pick_row": str(row),
        "pick_col": str(col),
        "pick_angle": str(angle),
        "place_row": f"{it.place.row:.2f}",
        "place_col": f"{it.place.col:.2f}",
        "place_angle": f"{it.place.angle:.1f}",
    }  # the place as the page shows it
    r = c.post(f"/corrections/{it.id}", data=form, headers=SAME_ORIGIN, follow_redirects=False)
    assert r.status_code == 303
    (got,) = stored_rows(home)
    assert r.headers["location"].endswith(f"stored={got.id}")
    # the angle on the image is the world yaw the CLI is given in degrees
    z = corrected_pose(spec, scene, "pick", (col * SCALE, row * SCALE))[2]
    yaw = math.degrees(pose_from_key(spec, KeyPose(row, col, angle), z)[3])
    want = corrected_pose(spec, scene, "pick", (col * SCALE, row * SCALE), yaw)
    assert np.allclose(got.corrected_pick, want, atol=1e-9)
    assert np.allclose(got.corrected_place, clip_to_workspace(scene.place))  # kept as predicted
    back = key_from_pose(spec, got.corrected_pick)
    assert abs(back.row - row) < 0.01 and abs(back.col - col) < 0.01
    assert abs(math.remainder(math.radians(back.angle - angle), 2 * math.pi)) < 1e-6
    # the same fields as the CLI's own row for this scene, pixel and angle
    cli_id, cli_diag = store_human_correction(home, scene, "pick", want, "human:ui")
    cli = stored_rows(home)[-1]
    assert cli.id == cli_id and got.diagnosis == cli_diag
    for field in (
        "family",
        "seed",
        "instruction",
        "primitive",
        "expert",
        "diagnosis",
        "checkpoint",
        "round",
        "predicted_pick",
        "predicted_place",
        "corrected_pick",
        "corrected_place",
    ):
        assert np.all(np.asarray(getattr(got, field)) == np.asarray(getattr(cli, field))), field
    assert got.symmetry == pytest.approx(cli.symmetry)
    assert np.array_equal(got.rgb, cli.rgb) and np.array_equal(got.depth, cli.depth)
    # dequeued, listed as stored from this prediction
    assert c.get(f"/corrections/{it.id}").status_code == 404
    assert it.id not in [i.id for i in q.pending()]
    done = q.recent()[-1]
    assert done.id == str(got.id) and done.prediction_id == it.id and "pick moved" in done.summary
    assert "human:ui" in text(c.get("/corrections").text)


def text(html: str) -> str:
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_both_poses_corrected_nothing_changed_and_bad_input(site):
    from agent.policy.corrections import clip_to_workspace
    from agent.policy.draw import SCALE
    from agent.policy.human import corrected_pose

    home, q, c = site
    items = [i for i in q.pending() if i.family == "place"]
    pick_only = next(i for i in q.pending() if i.family == "pick")
    it = items[0]
    # a click outside the image, or NaN: 422, and the prediction stays queued
    bad = {
        "pick_row": "97",
        "pick_col": "3",
        "pick_angle": "0",
        "place_row": "1",
        "place_col": "1",
        "place_angle": "0",
    }
    assert c.post(f"/corrections/{it.id}", data=bad, headers=SAME_ORIGIN).status_code == 422
    assert (
        c.post(
            f"/corrections/{it.id}", data={**bad, "pick_row": "nan"}, headers=SAME_ORIGIN
        ).status_code
        == 422
    )
    assert stored_rows(home) == [] and it.id in [i.id for i in q.pending()]
    # both key poses moved: one row with both corrected
    form = {
        "pick_row": "20",
        "pick_col": "40",
        "pick_angle": "10",
        "place_row": "60",
        "place_col": "100",
        "place_angle": "-35",
    }
    assert (
        c.post(
            f"/corrections/{it.id}", data=form, headers=SAME_ORIGIN, follow_redirects=False
        ).status_code
        == 303
    )
    (row,) = stored_rows(home)
    scene, spec = cli_scene(home, it.family, it.seed)
    for action, (r_, c_, a_), got in (
        ("pick", (20, 40, 10), row.corrected_pick),
        ("place", (60, 100, -35), row.corrected_place),
    ):
        z = corrected_pose(spec, scene, action, (c_ * SCALE, r_ * SCALE))[2]
        yaw = math.degrees(pose_from_key(spec, KeyPose(r_, c_, a_), z)[3])
        assert np.allclose(
            got, corrected_pose(spec, scene, action, (c_ * SCALE, r_ * SCALE), yaw), atol=1e-9
        )
    assert row.expert == "human:ui" and row.diagnosis != "none"
    # nothing changed: the prediction is stored as right ("storing now keeps the prediction")
    if len(items) > 1:
        keep = items[1]
        same = {
            f"{k}_{f}": f"{getattr(getattr(keep, k), f):.2f}"
            for k in ("pick", "place")
            for f in ("row", "col")
        }
        same.update(pick_angle=f"{keep.pick.angle:.1f}", place_angle=f"{keep.place.angle:.1f}")
        assert c.post(f"/corrections/{keep.id}", data=same, headers=SAME_ORIGIN).status_code == 200
        kept = stored_rows(home)[-1]
        assert kept.diagnosis == "none" and kept.corrected_pick == clip_to_workspace(
            kept.predicted_pick
        )
    # a pick-only task, only turned: the point stays where it is drawn, the yaw turns
    ang = pick_only.pick.angle - 40
    row, col = round(pick_only.pick.row, 2), round(pick_only.pick.col, 2)
    form = {"pick_row": str(row), "pick_col": str(col), "pick_angle": str(ang)}
    assert c.post(f"/corrections/{pick_only.id}", data=form, headers=SAME_ORIGIN).status_code == 200
    last = stored_rows(home)[-1]
    assert last.family == "pick" and last.corrected_place is None and last.expert == "human:ui"
    back = key_from_pose(spec, last.corrected_pick)
    assert abs(back.row - row) < 0.01 and abs(back.col - col) < 0.01
    assert abs(math.remainder(math.radians(back.angle - ang), 2 * math.pi)) < 1e-6
    assert last.corrected_pick[2] >= 0.005  # never below the table, as a CLI click


def test_an_empty_home_says_what_to_run(tmp_path):
    from agent.policy.corrections import store_path

    lib = SkillLibrary(tmp_path, HashEmbedder(), MemoryIndex(), install_seeds=False)
    app = create_app(tmp_path, library=lib)
    with TestClient(app, base_url=BASE) as c:
        page = text(c.get("/corrections").text)
        assert "Nothing is waiting" in page
        assert f"skillgrove --home {tmp_path} policy train" in page
        assert f"skillgrove --home {tmp_path} policy queue --family place --episodes 20" in page
        assert c.get("/corrections/1").status_code == 404
        assert (
            c.post(
                "/corrections/1",
                data={"pick_row": "1", "pick_col": "1", "pick_angle": "0"},
                headers=SAME_ORIGIN,
            ).status_code
            == 404
        )
    assert not store_path(tmp_path).exists()  # reading the page created nothing
    lib.close()


def test_policy_queue_command(tmp_path):
    """`skillgrove policy queue --json` with the packaged MiniLM embeddings (an untrained checkpoint)."""
    import torch

    from agent.policy.checkpoint import save_checkpoint
    from agent.policy.geometry import ImageSpec
    from agent.policy.model import ModelConfig, PoseNet

    torch.manual_seed(0)
    model = PoseNet(ModelConfig(film_dim=8, channels=(8, 8, 8)))
    save_checkpoint(tmp_path, model, ImageSpec(), "minilm-l6-v2-x3", {"families": ["place"]})

    def run(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "agent.cli", "--home", str(tmp_path), "policy", "queue", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)

    res = run("--family", "place", "--episodes", "2", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert (
        out["tried"] == 2
        and out["failed"] == out["queued"] == out["waiting"] == len(out["items"]) >= 1
    )
    assert {"id", "seed", "instruction", "diagnosis", "detail", "image"} <= set(out["items"][0])
    assert [i.id for i in PolicyCorrectionQueue(tmp_path).pending()] == [
        str(i["id"]) for i in out["items"]
    ]
    bad = run("--family", "tower", "--json")
    assert bad.returncode != 0 and "single-action" in json.loads(bad.stdout)["error"]
