"""`runs export RUN... --format lerobot DIR` (issue 21): a real recorded run as a LeRobot
dataset (v2.1), read back with pyarrow against the schema its info.json documents (LeRobot
itself is not installed, see the README), and the refusals."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from agent.run.records import RunStore
from tests.agent.test_replay_export import cli, gif_of


def record(home: Path, run_id: str):
    store = RunStore(home)
    try:
        return store.get(run_id)
    finally:
        store.close()


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_a_run_exports_as_one_episode_of_its_trajectory(run, tmp_path):
    import pyarrow.parquet as pq
    from PIL import Image

    home, run_id = run
    rec = record(home, run_id)
    out = tmp_path / "ds"
    code, data, err = cli(home, "runs", "export", run_id, "--format", "lerobot", str(out))
    assert code == 0, err
    samples = rec.trajectory["samples"]
    n = len(samples)
    assert data["episodes"] == 1 and data["frames"] == n and data["run_ids"] == [run_id]
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v2.1" and info["total_frames"] == n
    assert info["fps"] == data["fps"] == 5 and "fps_from" in info["skillgrove"]
    feats = info["features"]
    assert feats["observation.image"]["dtype"] == "image"
    (episode,) = lines(out / "meta" / "episodes.jsonl")
    assert episode["length"] == n and episode["tasks"] == [rec.instruction]
    assert episode["goal"] == rec.goal and episode["success"] is True
    assert [a["atom"] for a in episode["atoms"]] == [a["atom"] for a in rec.atoms]
    assert lines(out / "meta" / "tasks.jsonl") == [{"task_index": 0, "task": rec.instruction}]
    (ep_stats,) = lines(out / "meta" / "episodes_stats.jsonl")
    stats = json.loads((out / "meta" / "stats.json").read_text())
    assert set(ep_stats["stats"]) == set(stats) == set(feats)
    assert stats["observation.state"]["count"] == [n]
    rel = info["data_path"].format(episode_chunk=0, episode_index=0)
    t = pq.read_table(out / rel)
    assert set(t.column_names) == set(feats) and t.num_rows == n
    for name, f in feats.items():  # every column has its documented shape
        if f["dtype"] == "float32" and f["shape"] != [1]:
            assert np.asarray(t.column(name).to_pylist()).shape == (n, *f["shape"])
    images = [Image.open(io.BytesIO(c["bytes"])) for c in t.column("observation.image").to_pylist()]
    shape = feats["observation.image"]["shape"]
    assert all(np.asarray(im.convert("RGB")).shape == tuple(shape) for im in images)
    gif = gif_of(home / rec.gif)
    assert np.array_equal(np.asarray(images[0].convert("RGB")), gif[0])  # the first key frame
    assert np.array_equal(np.asarray(images[-1].convert("RGB")), gif[-1])
    state = np.asarray(t.column("observation.state").to_pylist())
    action = np.asarray(t.column("action").to_pylist())
    assert np.allclose(state, [s["gripper"] for s in samples], atol=1e-5)
    assert np.allclose(action[:-1], state[1:]) and np.allclose(action[-1], state[-1])
    assert np.allclose(t.column("timestamp").to_pylist(), [s["t"] for s in samples], atol=1e-4)
    assert t.column("frame_index").to_pylist() == list(range(n))
    assert t.column("index").to_pylist() == list(range(n))
    value = t.column("goal_value").to_pylist()
    assert value[0] == 0 and value[-1] == 1  # the goal came true during the run
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_several_runs_are_several_episodes(run, tmp_path):
    import pyarrow.parquet as pq

    home, run_id = run
    out = tmp_path / "two"
    code, data, err = cli(home, "runs", "export", run_id, run_id, "--format", "lerobot", str(out))
    assert code == 0, err
    n = data["frames"] // 2
    assert data["episodes"] == 2 and data["tasks"] == 1
    assert [e["episode_index"] for e in lines(out / "meta" / "episodes.jsonl")] == [0, 1]
    second = pq.read_table(out / "data" / "chunk-000" / "episode_000001.parquet")
    assert second.column("index").to_pylist() == list(range(n, 2 * n))
    assert set(second.column("episode_index").to_pylist()) == {1}


def test_export_refuses_what_it_must_not_write(run, tmp_path):
    home, run_id = run
    keep = tmp_path / "keep"
    keep.mkdir()
    code, data, _ = cli(home, "runs", "export", run_id, "--format", "lerobot", str(keep))
    assert code != 0 and "exists" in data["error"] and not list(keep.iterdir())
    code, data, _ = cli(home, "runs", "export", run_id, "--format", "lerobot", str(home / "ds"))
    assert code != 0 and "data home" in data["error"] and not (home / "ds").exists()
    code, data, _ = cli(
        home, "runs", "export", "no-such", "--format", "lerobot", str(tmp_path / "x")
    )
    assert code != 0 and "no-such" in data["error"] and not (tmp_path / "x").exists()
    both = ["--format", "lerobot", "--rerun", str(tmp_path / "a.rrd"), str(tmp_path / "y")]
    code, data, _ = cli(home, "runs", "export", run_id, *both)
    assert code == 2 and "one of" in data["error"] and not (tmp_path / "y").exists()
    code, data, _ = cli(home, "runs", "export", run_id, "--format", "lerobot")
    assert code == 2 and "DIR" in data["error"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]  # no temp dirs left


def test_a_run_without_trajectory_is_refused_naming_it(run, tmp_path):
    home, run_id = run
    rec = record(home, run_id)
    store = RunStore(home)
    try:
        store.save(replace(rec, run_id="old0", trajectory={}), (home / rec.gif).read_bytes())
    finally:
        store.close()
    out = tmp_path / "old"
    code, data, _ = cli(home, "runs", "export", "old0", "--format", "lerobot", str(out))
    assert code == 1 and "no trajectory" in data["error"] and "\n" not in data["error"]
    assert not out.exists() and not list(tmp_path.iterdir())
