"""Recorded runs as a LeRobot dataset (format v2.1): `runs export RUN... --format lerobot DIR`.

Each run is one episode of many frames, one per sample of its trajectory
(`skills.sandbox.trajectory`), written with `agent.policy.lerobot`'s pieces (same layout,
same temp-directory-then-rename, same refusals):

- `observation.image`: the run's GIF frame at that sample (PNG bytes, LeRobot's "image"
  dtype), aligned as `agent.run.replay` aligns them (a GIF frame stands for the key frames
  up to the next one);
- `observation.state`: the gripper's grasp point x, y, z (world meters);
- `action`: the gripper position target, i.e. the next frame's grasp point (the last frame
  repeats its own);
- `timestamp`: the simulated time (seconds) of the sample; `fps` in info.json is what the
  samples imply, 1 / the median step between their timestamps (`skillgrove.fps_from`);
- `goal_value`: the goal's truth at that frame (1, 0, or -1 where it was not judged).

The task is the run's instruction; episodes.jsonl also holds the run's id, family, seed,
goal, success and its atoms at the end. Object poses are not in the state: runs have
different numbers of objects, and a feature's shape is fixed for the whole dataset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agent.errors import AgentError

STATE_NAMES = ["gripper.x", "gripper.y", "gripper.z"]
ACTION_NAMES = ["gripper_target.x", "gripper_target.y", "gripper_target.z"]
FPS_FROM = "1 / median step of the trajectory's sim time between samples (timestamp)"


def features(height: int, width: int) -> dict:
    """The `features` of info.json for run frames of `height` x `width`."""
    scalar = lambda dtype: {"dtype": dtype, "shape": [1], "names": None}  # noqa: E731
    return {
        "observation.image": {
            "dtype": "image",
            "shape": [height, width, 3],
            "names": ["height", "width", "channel"],
        },
        "observation.state": {"dtype": "float32", "shape": [3], "names": STATE_NAMES},
        "action": {"dtype": "float32", "shape": [3], "names": ACTION_NAMES},
        "goal_value": scalar("int64"),
        "timestamp": scalar("float32"),
        "frame_index": scalar("int64"),
        "episode_index": scalar("int64"),
        "index": scalar("int64"),
        "task_index": scalar("int64"),
    }


def episode(record, gif: tuple[list[np.ndarray], list[int]]) -> dict:
    """One run's frames as arrays: rgb (N, H, W, 3), state and action (N, 3), t, value (N,).

    Raises:
        AgentError: one line, if the run has no (usable) trajectory or GIF.
    """
    from agent.run.replay import _trajectory

    rid = record.run_id
    traj = _trajectory(record)
    if not traj or not traj.get("samples"):
        raise AgentError(
            f"run {rid!r} has no trajectory (recorded before trajectories were kept); "
            "it cannot be exported as a LeRobot dataset"
        )
    frames, slots = gif
    if not frames:
        raise AgentError(f"run {rid!r} has no GIF; it cannot be exported as a LeRobot dataset")
    samples = traj["samples"]
    if any(len(s["gripper"]) != 3 for s in samples):
        raise AgentError(f"run {rid!r}'s trajectory lacks gripper positions; it cannot be exported")
    order = np.argsort(slots, kind="stable")
    slot_arr = np.asarray(slots)[order]
    # the GIF frame shown at each sample's key frame: the last one starting at or before it
    at = [int(order[max(np.searchsorted(slot_arr, s["frame"], "right") - 1, 0)]) for s in samples]
    rgb = np.stack([np.asarray(frames[i], np.uint8) for i in at])
    state = np.array([s["gripper"] for s in samples], np.float32)
    value = [s.get("value") for s in samples]
    return {
        "rgb": rgb,
        "state": state,
        "action": np.concatenate([state[1:], state[-1:]]),
        "t": np.array([s["t"] for s in samples], np.float64),
        "value": np.array([-1 if v is None else int(v) for v in value], np.int64),
    }


def implied_fps(times: list[np.ndarray]) -> int:
    """The frame rate the samples' timestamps imply (see the module docstring)."""
    steps = np.concatenate([np.diff(t) for t in times])
    steps = steps[steps > 0]
    return max(1, round(1.0 / float(np.median(steps)))) if len(steps) else 1


def _table(ep: dict, e: int, first: int, task: int):
    import pyarrow as pa

    from agent.policy.lerobot import image_column

    n = len(ep["t"])
    f32 = pa.list_(pa.float32())
    return pa.table(
        {
            "observation.image": image_column(ep["rgb"]),
            "observation.state": pa.array(ep["state"].tolist(), f32),
            "action": pa.array(ep["action"].tolist(), f32),
            "goal_value": pa.array(ep["value"], pa.int64()),
            "timestamp": pa.array(ep["t"], pa.float32()),
            "frame_index": pa.array(np.arange(n), pa.int64()),
            "episode_index": pa.array(np.full(n, e), pa.int64()),
            "index": pa.array(np.arange(first, first + n), pa.int64()),
            "task_index": pa.array(np.full(n, task), pa.int64()),
        }
    )


def _stats(ep: dict, e: int, first: int, task: int) -> dict:
    from agent.policy.lerobot import feature_stats, image_stats

    n = len(ep["t"])
    col = lambda x: feature_stats(np.asarray(x, np.float64)[:, None])  # noqa: E731
    return {
        "observation.image": image_stats(ep["rgb"]),
        "observation.state": feature_stats(ep["state"]),
        "action": feature_stats(ep["action"]),
        "goal_value": col(ep["value"]),
        "timestamp": col(ep["t"]),
        "frame_index": col(np.arange(n)),
        "episode_index": col(np.full(n, e)),
        "index": col(np.arange(first, first + n)),
        "task_index": col(np.full(n, task)),
    }


def write_runs(records: list, gifs: list, root: Path) -> dict:
    """Write `records` (with their GIFs, `replay.read_gif`) as episodes into `root`."""
    import pyarrow.parquet as pq

    from agent.policy.lerobot import CHUNKS_SIZE, DATA_PATH, write_meta

    eps = [episode(r, g) for r, g in zip(records, gifs, strict=True)]
    shapes = {e["rgb"].shape[1:] for e in eps}
    if len(shapes) > 1:
        raise AgentError(f"the runs' frames differ in size {sorted(shapes)}; export them apart")
    tasks = list(dict.fromkeys(r.instruction for r in records))
    lines, ep_stats, first, whole = [], [], 0, []
    for e, (rec, ep) in enumerate(zip(records, eps, strict=True)):
        task, n = tasks.index(rec.instruction), len(ep["t"])
        path = root / DATA_PATH.format(episode_chunk=e // CHUNKS_SIZE, episode_index=e)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(_table(ep, e, first, task), path)
        lines.append(
            {"episode_index": e, "tasks": [rec.instruction], "length": n}
            | {"run_id": rec.run_id, "family": rec.family, "seed": rec.seed, "goal": rec.goal}
            | {"success": rec.success, "atoms": [dict(a) for a in rec.atoms]}
        )
        ep_stats.append({"episode_index": e, "stats": _stats(ep, e, first, task)})
        whole.append(dict(ep, e=np.full(n, e), i=np.arange(first, first + n), k=np.full(n, task)))
        first += n
    fps = implied_fps([ep["t"] for ep in eps])
    h, w = eps[0]["rgb"].shape[1:3]
    own = {"source": "runs", "run_ids": [r.run_id for r in records], "fps_from": FPS_FROM}
    head = {"total_frames": first, "fps": fps, "features": features(h, w), "skillgrove": own}
    write_meta(root, head, lines, tasks, ep_stats, _whole_stats(whole))
    return {"episodes": len(eps), "frames": first, "tasks": len(tasks), "fps": fps}


def _whole_stats(parts: list[dict]) -> dict:
    """The stats over every frame of every episode (stats.json)."""
    from agent.policy.lerobot import feature_stats, image_stats

    cat = lambda k: np.concatenate([p[k] for p in parts])  # noqa: E731
    col = lambda k: feature_stats(np.asarray(cat(k), np.float64)[:, None])  # noqa: E731
    frame_index = np.concatenate([np.arange(len(p["t"])) for p in parts])
    return {
        "observation.image": image_stats(cat("rgb")),
        "observation.state": feature_stats(cat("state")),
        "action": feature_stats(cat("action")),
        "goal_value": col("value"),
        "timestamp": col("t"),
        "frame_index": feature_stats(frame_index[:, None].astype(np.float64)),
        "episode_index": col("e"),
        "index": col("i"),
        "task_index": col("k"),
    }


def export_runs(home: Path, read_home: Path, run_ids: list[str], path: Path) -> dict:
    """The runs `run_ids` of the data home as a LeRobot dataset at the new directory `path`
    (refused, nothing written, if it exists or lies in a data home).

    Returns:
        {"path", "format": "lerobot", "episodes", "frames", "tasks", "fps", "run_ids"}
    """
    from agent.policy.lerobot import write_new_dir
    from agent.run.records import RunStore
    from agent.run.replay import read_gif
    from agent.ui.files import inside

    def write(tmp: Path) -> dict:
        store = RunStore(read_home)
        try:
            records = [store.get(r) for r in run_ids]
        finally:
            store.close()
        gifs = []
        for rec in records:
            gif = inside(read_home, rec.gif) if rec.gif else None
            try:
                gifs.append(read_gif(gif.read_bytes()) if gif else ([], []))
            except (OSError, ValueError) as exc:
                raise AgentError(f"cannot read the run's GIF {gif}: {exc}") from None
        return write_runs(records, gifs, tmp) | {"run_ids": [r.run_id for r in records]}

    return write_new_dir(home, path, write)
