"""LeRobot datasets: `policy demos export`, `policy corrections export --format lerobot`
and `policy train --dataset`, end to end through `agent.cli.main`.

`lerobot` itself is not installed (it pins torch<2.11, see the README), so the export is
read with pyarrow against LeRobot's documented v2.1 layout: meta/info.json (features, fps,
path templates), episodes.jsonl, tasks.jsonl, episodes_stats.jsonl and one parquet file of
frames per episode whose columns are the features.
"""

from __future__ import annotations

import io
import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from tests.agent.policy_helpers import fails, files, run

EMBED_DIM = 384  # `policy train` builds the full-width network
pytestmark = pytest.mark.usefixtures("fast_embeddings")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path, dict]:
    """(home, dataset, the export's JSON): 3 pick and 3 place demonstrations."""
    root = tmp_path_factory.mktemp("lerobot")
    home = root / "home"
    res = run(
        home, "policy", "demos", "export", str(root / "ds"), "--families", "pick,place", "--n", "3"
    )
    return home, root / "ds", res


def same_rows(a, b) -> None:
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert x.shape == y.shape and x.dtype.kind == y.dtype.kind, f.name
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f.name


def test_export_follows_the_lerobot_v21_layout(exported):
    import pyarrow.parquet as pq
    from PIL import Image

    from agent.policy.data import Samples, load_demos
    from agent.policy.geometry import ImageSpec

    home, ds, res = exported
    assert res == {"path": str(ds), "format": "lerobot", "episodes": 6, "frames": 6, "tasks": 6}
    info = json.loads((ds / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v2.1" and info["fps"] == 1
    assert info["total_episodes"] == info["total_frames"] == 6 and info["splits"] == {
        "train": "0:6"
    }
    feats = info["features"]
    for key in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert feats[key]["shape"] == [1]
    assert feats["observation.image"]["dtype"] == "image" and feats["action"]["shape"] == [8]
    episodes = [json.loads(x) for x in (ds / "meta" / "episodes.jsonl").read_text().splitlines()]
    tasks = {
        t["task_index"]: t["task"]
        for t in map(json.loads, (ds / "meta" / "tasks.jsonl").read_text().splitlines())
    }
    stats = (ds / "meta" / "episodes_stats.jsonl").read_text().splitlines()
    assert len(stats) == 6 and "action" in json.loads(stats[0])["stats"]
    assert json.loads((ds / "meta" / "stats.json").read_text())["action"]["count"] == [6]
    demos = Samples.concat(
        [load_demos(home, f, "train", 3, ImageSpec()) for f in ("pick", "place")]
    )
    for ep in episodes:
        i = ep["episode_index"]
        path = ds / info["data_path"].format(episode_chunk=0, episode_index=i)
        frame = pq.read_table(path).to_pylist()
        assert len(frame) == ep["length"] == 1
        (row,) = frame
        assert set(row) == set(feats)
        assert (row["episode_index"], row["index"], row["frame_index"]) == (i, i, 0)
        assert tasks[row["task_index"]] == ep["tasks"][0] == demos.instruction[i]
        img = np.asarray(Image.open(io.BytesIO(row["observation.image"]["bytes"])))
        assert img.shape == tuple(feats["observation.image"]["shape"])
        assert np.array_equal(img, demos.rgb[i])
        place = demos.place[i] if demos.has_place[i] else demos.pick[i]  # pick-only: held
        assert np.allclose(row["action"], np.concatenate([demos.pick[i], place]))
        assert row["family"] == demos.family[i] and row["seed"] == demos.seed[i]


def test_read_back_gives_the_same_rows(exported):
    from agent.policy.data import Samples, load_demos
    from agent.policy.geometry import ImageSpec
    from agent.policy.lerobot import dataset_families, read_dataset

    home, ds, _ = exported
    demos = [load_demos(home, f, "train", 3, ImageSpec()) for f in ("pick", "place")]
    back = read_dataset(ds)
    same_rows(back, Samples.concat(demos))
    assert not back.has_place[:3].any() and back.has_place[3:].all()
    assert dataset_families(ds) == ["pick", "place"]


def test_train_from_the_dataset(exported, tmp_path):
    from agent.policy.checkpoint import checkpoint_dir

    _, ds, _ = exported
    home = tmp_path / "home"
    args = ("policy", "train", "--dataset", str(ds), "--steps", "3", "--n-test", "2")
    res = run(home, *args, "--threads", "1")
    assert res["version"] == 1 and res["families"] == ["pick", "place"]
    assert Path(res["checkpoint"]) == checkpoint_dir(home) / "v0001.pt"
    meta = json.loads(Path(res["checkpoint"]).with_suffix(".json").read_text())
    assert meta["dataset"] == str(ds) and meta["n_train"] == 6


def test_bad_datasets_are_refused_with_nothing_written(exported, tmp_path):
    home, ds, _ = exported
    new = tmp_path / "home"
    msg = fails(new, "policy", "train", "--dataset", str(ds), "--families", "push", "--steps", "1")
    assert "no push samples" in msg
    (tmp_path / "empty").mkdir()
    msg = fails(new, "policy", "train", "--dataset", str(tmp_path / "empty"), "--steps", "1")
    assert "not a LeRobot dataset" in msg
    assert not new.exists() or not any((new / "policy").rglob("*.pt"))
    before = files(ds)
    msg = fails(home, "policy", "demos", "export", str(ds), "--families", "pick", "--n", "1")
    assert "exists" in msg and files(ds) == before
    msg = fails(home, "policy", "demos", "export", str(home / "ds"), "--n", "1")
    assert "data home" in msg and not (home / "ds").exists()


def test_corrections_export_as_lerobot(exported, tmp_path):
    from agent.policy.corrections import CorrectionStore, make_correction, store_path
    from agent.policy.lerobot import read_dataset

    home = tmp_path / "home"
    out = tmp_path / "corr"
    assert "no corrections stored" in fails(
        home, "policy", "corrections", "export", str(out), "--format", "lerobot"
    )
    assert not out.exists()
    demos = read_dataset(exported[1])
    store = CorrectionStore(store_path(home))
    for i in (0, 4):  # a pick and a place
        nudged = demos.pick[i] + np.float32([0.01, 0.0, 0.0, 0.1])
        place = None if not demos.has_place[i] else tuple(demos.place[i])
        store.add(
            make_correction(
                family=str(demos.family[i]),
                seed=int(demos.seed[i]),
                instruction=str(demos.instruction[i]),
                primitive=str(demos.primitive[i]),
                rgb=demos.rgb[i],
                depth=demos.depth[i],
                predicted_pick=tuple(demos.pick[i]),
                predicted_place=place,
                corrected_pick=tuple(nudged),
                corrected_place=place,
                expert="human",
                diagnosis="position",
                symmetry=float(demos.symmetry[i]),
            )
        )
    res = run(home, "policy", "corrections", "export", str(out), "--format", "lerobot")
    assert res["episodes"] == 2
    back = read_dataset(out)
    same_rows(back, store.samples())
    assert np.allclose(back.pick[0], demos.pick[0] + np.float32([0.01, 0, 0, 0.1]))
    lines = [json.loads(x) for x in (out / "meta" / "episodes.jsonl").read_text().splitlines()]
    assert [x["diagnosis"] for x in lines] == ["position"] * 2 and lines[1]["correction_id"] == 2
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["skillgrove"]["source"] == "corrections"
