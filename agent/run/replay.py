"""Replays others can open (issue 21): a run's MP4 beside its GIF, and a Rerun recording.

The MP4 holds the GIF's key frames at the GIF's pace (imageio with imageio-ffmpeg, which
brings its own ffmpeg binary). The Rerun recording (`export_rerun`, `runs export RUN
--rerun FILE.rrd`) is written with rerun-sdk's file sink, offline, no viewer spawned:

- `camera/front`: the key frames (images);
- `world/objects/<description>`: each object's pose over time (a transform about z by its
  yaw, a box of its size standing on that pose);
- `world/gripper` and `world/gripper_path`: the grasp point and the path it has travelled;
- `goal/value`, `goal/atoms/<atom>`: the goal's and each ground atom's truth (1 or 0) as
  scalars, and `goal/log`: a text line whenever one changes.

Timelines: `frame` (the GIF frame) and `sim_time` (simulated seconds). Both come from the
record's trajectory (`skills.sandbox.trajectory`); a record from before trajectories were
kept gives the objects' start and end poses and the atoms' final truth only.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from agent.errors import AgentError

MP4_FPS = 5  # the GIF shows a key frame every 200 ms
FRAME_MS = 1000 // MP4_FPS


def gif_frames(gif: bytes) -> list[np.ndarray]:
    """The GIF's frames as RGB arrays."""
    return read_gif(gif)[0]


def read_gif(gif: bytes) -> tuple[list[np.ndarray], list[int]]:
    """The GIF's frames as RGB arrays, and the key frame each stands at: PIL writes a run of
    identical frames as one frame of longer duration, so the index is its start time over
    the 200 ms a key frame shows (the trajectory's `frame`)."""
    from PIL import Image, ImageSequence

    frames, slots, ms = [], [], 0
    with Image.open(io.BytesIO(gif)) as im:
        for f in ImageSequence.Iterator(im):
            frames.append(np.asarray(f.convert("RGB")))
            slots.append(round(ms / FRAME_MS))
            ms += int(f.info.get("duration") or FRAME_MS)
    return frames, slots


def write_mp4(frames: list[np.ndarray], path: Path) -> None:
    """Encode `frames` as an H.264 MP4 at `path` (its name must end in .mp4)."""
    import imageio.v2 as iio

    with iio.get_writer(
        path,
        format="FFMPEG",
        mode="I",
        fps=MP4_FPS,
        codec="libx264",
        pixelformat="yuv420p",
        macro_block_size=2,  # yuv420p needs even sizes; the cameras' are
        ffmpeg_log_level="error",
    ) as writer:
        for f in frames:
            writer.append_data(f)


def export_rerun(record, gif: tuple[list[np.ndarray], list[int]], path: Path) -> dict:
    """Write the run's Rerun recording to `path`; returns what it holds (counts, entities).

    Args:
        record: the run (`agent.run.records.RunRecord`).
        gif: its GIF's frames and key frame indices (`read_gif`; empty lists if none).
        path: the file to write (a temporary file the caller renames).

    Raises:
        AgentError: the record's trajectory is malformed (one line).
    """
    import rerun as rr

    traj = _trajectory(record)
    frames, slots = gif
    images = dict(zip(slots, frames, strict=True))
    rec = rr.RecordingStream("skillgrove", recording_id=record.run_id, make_default=False)
    rec.save(str(path))
    entities: set[str] = set()

    def log(parts: list[str], item, *, static: bool = False) -> None:
        rec.log(parts, item, static=static)
        entities.add("/" + "/".join(rr.escape_entity_path_part(p) for p in parts))

    log(["world"], rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
    for o in record.objects:
        sx, sy, sz = (float(v) for v in o["size"])
        box = rr.Boxes3D(half_sizes=[[sx / 2, sy / 2, sz / 2]], centers=[[0.0, 0.0, sz / 2]])
        log(["world", "objects", o["description"]], box, static=True)
    samples = traj["samples"] if traj else _endpoints(record, max(slots, default=0) + 1)
    names, atoms = (traj["objects"], traj["atoms"]) if traj else _end_names(record)
    by_frame = {s["frame"]: s for s in samples}
    last_t = 0.0
    for i in sorted(images):
        s = by_frame.get(i) or by_frame.get(max((k for k in by_frame if k < i), default=-1))
        last_t = s["t"] if s is not None else last_t
        rec.set_time("frame", sequence=i)
        rec.set_time("sim_time", duration=last_t)
        log(["camera", "front"], rr.Image(images[i]))
    path_so_far: list[list[float]] = []
    truth_was: dict[str, bool | None] = {}
    for s in samples:
        rec.set_time("frame", sequence=s["frame"])
        rec.set_time("sim_time", duration=s["t"])
        for name, pose in zip(names, s["poses"], strict=False):
            x, y, z, yaw = (float(v) for v in pose)
            turn = rr.RotationAxisAngle(axis=[0.0, 0.0, 1.0], degrees=yaw)
            log(["world", "objects", name], rr.Transform3D(translation=[x, y, z], rotation=turn))
        if s.get("gripper"):
            path_so_far.append([float(v) for v in s["gripper"]])
            log(["world", "gripper"], rr.Points3D([path_so_far[-1]], radii=0.01))
            log(["world", "gripper_path"], rr.LineStrips3D([path_so_far]))
        for atom, value in [("goal", s.get("value")), *zip(atoms, s["truth"], strict=False)]:
            if value is None:
                continue
            parts = ["goal", "value"] if atom == "goal" else ["goal", "atoms", atom]
            log(parts, rr.Scalars([1.0 if value else 0.0]))
            if truth_was.get(atom) != value:
                state = "true" if value else "false"
                log(["goal", "log"], rr.TextLog(f"{atom}: {state}", level=rr.TextLogLevel.INFO))
                truth_was[atom] = value
    rec.flush()
    rec.disconnect()
    return {"frames": len(frames), "samples": len(samples), "entities": sorted(entities)}


def _trajectory(record) -> dict | None:
    """The record's trajectory, checked; None when it has none."""
    t = record.trajectory
    if not t:
        return None
    try:
        n_obj, n_atoms = len(t["objects"]), len(t["atoms"])
        assert all(isinstance(x, str) for x in (*t["objects"], *t["atoms"]))
        for s in t["samples"]:
            assert isinstance(s["frame"], int) and s["frame"] >= 0
            assert isinstance(s["t"], int | float) and len(s["gripper"]) in (0, 3)
            assert len(s["poses"]) <= n_obj and all(len(p) == 4 for p in s["poses"])
            assert len(s["truth"]) <= n_atoms and s.get("value") in (True, False, None)
            [float(v) for v in (*s["gripper"], *(x for p in s["poses"] for x in p))]
    except (AssertionError, KeyError, TypeError, ValueError):
        raise AgentError(
            f"run {record.run_id!r} has a damaged trajectory; it cannot be exported"
        ) from None
    return t


def _endpoints(record, n_frames: int) -> list[dict]:
    """Without a trajectory: the objects' start and end poses, the atoms' final truth."""
    if not record.objects:
        return []
    start = [o["start"] for o in record.objects]
    end = [o["end"] for o in record.objects]
    truth = [bool(a.get("value")) for a in record.atoms]
    last = max(n_frames - 1, 1)
    return [
        {"frame": 0, "t": 0.0, "gripper": [], "poses": start, "truth": [None] * len(truth)},
        {"frame": last, "t": last / MP4_FPS, "gripper": [], "poses": end, "truth": truth}
        | {"value": record.success},
    ]


def _end_names(record) -> tuple[list[str], list[str]]:
    return [o["description"] for o in record.objects], [str(a["atom"]) for a in record.atoms]
