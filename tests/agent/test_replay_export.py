"""Replays others can open (issue 21): a run's MP4 beside its GIF (read back by imageio),
the trajectory the trusted runner records at its key frames, and `runs export RUN --rerun
FILE.rrd` read back with rerun-sdk's own RRD reader."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agent.run.records import RunStore


def cli(home: Path, *args: str) -> tuple[int, dict, str]:
    """`skillgrove --home HOME ARGS --json` in process: exit code, JSON, stderr."""
    from agent.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--home", str(home), *args, "--json"])
    return code, json.loads(out.getvalue() or "{}"), err.getvalue()


def gif_of(path: Path) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]


def test_mp4_beside_the_gif_is_a_real_video_of_its_frames(run):
    import imageio.v2 as iio

    home, run_id = run
    code, shown, _ = cli(home, "runs", "show", run_id)
    assert code == 0 and shown["mp4"] == str(home / "runs" / f"{run_id}.mp4")
    gif = gif_of(Path(shown["gif"]))
    with iio.get_reader(shown["mp4"], format="FFMPEG") as reader:
        video = [np.asarray(f) for f in reader]
    assert len(gif) > 2 and len(video) == len(gif)
    assert all(v.shape == g.shape for v, g in zip(video, gif, strict=True))
    # the same pictures (lossy): far closer to their own GIF frame than to another one
    same = np.abs(video[0].astype(int) - gif[0]).mean()
    other = np.abs(video[0].astype(int) - gif[-1]).mean()
    assert same < 8 and same < other
    assert not list((home / "runs").glob("*.tmp*"))


def test_the_trajectory_ends_where_the_verdict_judged(run):
    home, run_id = run
    store = RunStore(home)
    try:
        rec = store.get(run_id)
    finally:
        store.close()
    traj = rec.trajectory
    assert traj["objects"] == [o["description"] for o in rec.objects]
    assert traj["atoms"] == [a["atom"] for a in rec.atoms]
    samples = traj["samples"]
    frames = [s["frame"] for s in samples]
    assert frames == sorted(set(frames)) and frames[0] == 0 and len(samples) > 2
    assert [s["t"] for s in samples] == sorted(s["t"] for s in samples) and samples[-1]["t"] > 0
    last = samples[-1]
    assert last["poses"] == [o["end"] for o in rec.objects]  # the end state the run reported
    assert last["truth"] == [a["value"] for a in rec.atoms] and last["value"] == rec.success
    assert samples[0]["poses"] == [o["start"] for o in rec.objects]
    assert rec.success and samples[0]["value"] is False  # the goal came true during the run
    lift = [s["gripper"][2] for s in samples]
    assert max(lift) - min(lift) > 0.05  # the gripper moved


def test_rerun_export_reads_back_with_rerun(run, tmp_path):
    import rerun as rr

    home, run_id = run
    out = tmp_path / "replay.rrd"
    code, data, err = cli(home, "runs", "export", run_id, "--rerun", str(out))
    assert code == 0, err
    store = RunStore(home)
    try:
        rec = store.get(run_id)
    finally:
        store.close()
    (stored,) = rr.chunk.RrdReader(out).recordings()
    assert stored.recording_id == run_id
    chunks = list(rr.chunk.RrdReader(out).stream().collect().stream())
    rows: dict[str, int] = {}
    for c in chunks:
        if not c.is_static:
            rows[c.entity_path] = rows.get(c.entity_path, 0) + c.num_rows
    n = len(rec.trajectory["samples"])
    assert rows["/camera/front"] == data["frames"] == len(gif_of(home / rec.gif))
    for o in rec.objects:
        path = "/world/objects/" + rr.escape_entity_path_part(o["description"])
        assert rows[path] == n and path in data["entities"]
    assert rows["/world/gripper"] == rows["/world/gripper_path"] == n
    for a in rec.atoms:
        assert rows["/goal/atoms/" + rr.escape_entity_path_part(a["atom"])] == n
    assert rows["/goal/log"] >= 2 and rows["/goal/value"] == n  # false, then true


def test_export_refuses_what_it_must_not_write(run, tmp_path):
    home, run_id = run
    out = tmp_path / "replay.rrd"
    out.write_bytes(b"keep")
    code, data, _ = cli(home, "runs", "export", run_id, "--rerun", str(out))
    assert code != 0 and "--force" in data["error"] and out.read_bytes() == b"keep"
    code, data, _ = cli(home, "runs", "export", run_id, "--rerun", str(tmp_path))
    assert code != 0 and "not a regular file" in data["error"]
    code, data, _ = cli(home, "runs", "export", "no-such-run", "--rerun", str(tmp_path / "x.rrd"))
    assert code != 0 and not (tmp_path / "x.rrd").exists()
    code, data, _ = cli(home, "runs", "export", run_id, "--rerun", str(out), "--force")
    assert code == 0 and out.read_bytes()[:4] != b"keep" and data["samples"] > 2


def test_a_record_without_trajectory_or_mp4_still_reads_and_exports(run, tmp_path):
    """Records of earlier releases: no `mp4`, no `trajectory`; the export gives the start
    and end poses and the atoms' final truth."""
    from agent.run.records import _fields, _load
    from agent.run.replay import export_rerun

    home, run_id = run
    store = RunStore(home)
    try:
        rec = store.get(run_id)
    finally:
        store.close()
    old = {k: v for k, v in _fields(rec).items() if k not in ("mp4", "trajectory")}
    back = _load(json.dumps(old))
    assert back.mp4 is None and back.trajectory == {} and back.objects == rec.objects
    info = export_rerun(replace(back, gif=None), ([], []), tmp_path / "old.rrd")
    assert info["frames"] == 0 and info["samples"] == 2
    assert (tmp_path / "old.rrd").stat().st_size > 0
    bad = replace(rec, trajectory={"objects": ["x"], "atoms": [], "samples": [{"frame": "a"}]})
    from agent.errors import AgentError

    with pytest.raises(AgentError, match="damaged trajectory"):
        export_rerun(bad, ([], []), tmp_path / "bad.rrd")
