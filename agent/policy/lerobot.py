"""Demonstrations and corrections as LeRobot datasets (format v2.1), and back to `Samples`.

Layout (LeRobot's v2.1 spec, written with pyarrow; `lerobot` itself is not a dependency:
it pins torch<2.11 and pulls CUDA wheels, see the README):

    DIR/meta/info.json            features, fps, codebase_version, splits, path templates
    DIR/meta/episodes.jsonl       {"episode_index", "tasks", "length"} (+ a correction's facts)
    DIR/meta/tasks.jsonl          {"task_index", "task"}: the instructions
    DIR/meta/episodes_stats.jsonl per-episode min/max/mean/std/count (v2.1)
    DIR/meta/stats.json           the same over the whole dataset (v2.0 readers)
    DIR/data/chunk-000/episode_000000.parquet   the frames

A sample is one episode of one frame: the policy's top view before the action
(`observation.image`, PNG bytes in the parquet, LeRobot's "image" dtype: no video, so no
ffmpeg), metric depth (`observation.depth`), the arm's joint angles when the view was taken
(`observation.state`: its home configuration, every sample being a scene before its first
action) and as `action` the pose targets the policy predicts: pick x, y, z, yaw then place
x, y, z, yaw (world meters, radians; a pick-only action repeats the pick pose as its place).
`family`, `primitive`, `seed` and `symmetry` are per-frame features, so a dataset read back
gives the same `Samples` rows that were written.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.data import Samples, primitive_of

CODEBASE_VERSION = "v2.1"
FPS = 1  # one frame per episode
CHUNKS_SIZE = 1000
DATA_PATH = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
ACTION_NAMES = [f"{k}.{a}" for k in ("pick", "place") for a in ("x", "y", "z", "yaw")]
STATE_NAMES = [f"panda_joint{i}" for i in range(1, 8)]
STRINGS = ("family", "primitive")


def _scalar(dtype: str) -> dict:
    return {"dtype": dtype, "shape": [1], "names": None}


def features(height: int, width: int) -> dict:
    """The `features` of info.json for images of `height` x `width`."""
    return {
        "observation.image": {
            "dtype": "image",
            "shape": [height, width, 3],
            "names": ["height", "width", "channel"],
        },
        "observation.depth": {"dtype": "float32", "shape": [height, width], "names": None},
        "observation.state": {"dtype": "float32", "shape": [7], "names": STATE_NAMES},
        "action": {"dtype": "float32", "shape": [8], "names": ACTION_NAMES},
        "family": _scalar("string"),
        "primitive": _scalar("string"),
        "seed": _scalar("int64"),
        "symmetry": _scalar("float32"),
        "timestamp": _scalar("float32"),
        "frame_index": _scalar("int64"),
        "episode_index": _scalar("int64"),
        "index": _scalar("int64"),
        "task_index": _scalar("int64"),
    }


def actions(samples: Samples) -> np.ndarray:
    """(N, 8) pose targets: pick then place (the pick again where there is no place)."""
    place = np.where(samples.has_place[:, None], samples.place, samples.pick)
    return np.concatenate([samples.pick, place], 1).astype(np.float32)


def _home_state() -> np.ndarray:
    from sim.panda import HOME

    return np.asarray(HOME, np.float32)


def _png(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(rgb, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def feature_stats(x: np.ndarray, axes: tuple[int, ...] = (0,)) -> dict:
    x = x.astype(np.float64)
    return {
        "min": np.min(x, axes).tolist(),
        "max": np.max(x, axes).tolist(),
        "mean": np.mean(x, axes).tolist(),
        "std": np.std(x, axes).tolist(),
        "count": [int(x.shape[0])],
    }


def image_stats(rgb: np.ndarray) -> dict:
    """LeRobot's stats of (N, H, W, 3) uint8 images: per channel in [0, 1], shaped (3, 1, 1)."""
    img = rgb.astype(np.float64) / 255.0
    return {
        k: np.asarray(v, np.float64).reshape(3, 1, 1).tolist() if k != "count" else v
        for k, v in feature_stats(img, (0, 1, 2)).items()
    }


def image_column(frames):
    """`observation.image` cells (LeRobot's "image" dtype): {"bytes": PNG, "path": None}."""
    import pyarrow as pa

    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    return pa.array([{"bytes": _png(f), "path": None} for f in frames], image_type)


def _frame_stats(cols: dict) -> dict:
    """LeRobot's per-feature stats of some frames (images per channel in [0, 1], (3, 1, 1))."""
    return {
        "observation.image": image_stats(cols["rgb"]),
        "observation.depth": {  # over all pixels (per pixel, it would be 1 MB a frame)
            k: v if k == "count" else [v]
            for k, v in feature_stats(cols["depth"], (0, 1, 2)).items()
        },
        "observation.state": feature_stats(cols["state"]),
        "action": feature_stats(cols["action"]),
        "seed": feature_stats(cols["seed"][:, None]),
        "symmetry": feature_stats(cols["symmetry"][:, None]),
        **{k: feature_stats(cols[k][:, None]) for k in ("timestamp", "frame_index", "index")},
        "episode_index": feature_stats(cols["episode_index"][:, None]),
        "task_index": feature_stats(cols["task_index"][:, None]),
    }


def _table(s: Samples, i: int, action: np.ndarray, state: np.ndarray, task: int):
    """The parquet table of episode `i` (one frame)."""
    import pyarrow as pa

    h, w = s.depth.shape[1:]
    inner = pa.ListArray.from_arrays(
        pa.array(np.arange(0, h * w + 1, w, dtype=np.int32)),
        pa.array(s.depth[i].astype(np.float32).ravel()),
    )
    depth = pa.ListArray.from_arrays(pa.array(np.array([0, h], np.int32)), inner)
    f32 = pa.list_(pa.float32())
    return pa.table(
        {
            "observation.image": image_column(s.rgb[i : i + 1]),
            "observation.depth": depth,
            "observation.state": pa.array([state.tolist()], f32),
            "action": pa.array([action[i].tolist()], f32),
            "family": pa.array([str(s.family[i])]),
            "primitive": pa.array([str(s.primitive[i])]),
            "seed": pa.array([int(s.seed[i])], pa.int64()),
            "symmetry": pa.array([float(s.symmetry[i])], pa.float32()),
            "timestamp": pa.array([0.0], pa.float32()),
            "frame_index": pa.array([0], pa.int64()),
            "episode_index": pa.array([i], pa.int64()),
            "index": pa.array([i], pa.int64()),
            "task_index": pa.array([task], pa.int64()),
        }
    )


def write_dataset(
    samples: Samples, root: Path, source: str, episode_extra: list[dict] | None = None
) -> dict:
    """Write `samples` as a LeRobot dataset into the empty directory `root`; returns
    {"episodes", "frames", "tasks"}.

    Args:
        source: what the rows are ("demonstrations", "corrections"), kept in info.json.
        episode_extra: per-sample facts added to its line of episodes.jsonl.
    """
    import pyarrow.parquet as pq

    n = len(samples)
    tasks = list(dict.fromkeys(str(t) for t in samples.instruction))
    task_of = {t: k for k, t in enumerate(tasks)}
    act, state = actions(samples), _home_state()
    episodes, ep_stats = [], []
    for i in range(n):
        task = task_of[str(samples.instruction[i])]
        path = root / DATA_PATH.format(episode_chunk=i // CHUNKS_SIZE, episode_index=i)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(_table(samples, i, act, state, task), path)
        line = {"episode_index": i, "tasks": [str(samples.instruction[i])], "length": 1}
        episodes.append({**line, **(episode_extra[i] if episode_extra else {})})
        cols = _columns(samples, np.array([i]), act, state, np.array([task]))
        ep_stats.append({"episode_index": i, "stats": _frame_stats(cols)})
    task_idx = np.array([task_of[str(t)] for t in samples.instruction])
    all_cols = _columns(samples, np.arange(n), act, state, task_idx)
    h, w = samples.depth.shape[1:]
    own = {"source": source, "families": sorted(set(map(str, samples.family)))}
    head = {"total_frames": n, "fps": FPS, "features": features(h, w), "skillgrove": own}
    write_meta(root, head, episodes, tasks, ep_stats, _frame_stats(all_cols))
    return {"episodes": n, "frames": n, "tasks": len(tasks)}


def write_meta(root: Path, head: dict, episodes: list, tasks: list, ep_stats: list, stats: dict):
    """Write `root/meta`: info.json (LeRobot's fields, with `head`'s: total_frames, fps,
    features and skillgrove's own facts), episodes.jsonl (`episodes`' lines), tasks.jsonl,
    episodes_stats.jsonl and stats.json."""
    meta = root / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    n = len(episodes)
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": "panda",
        "total_episodes": n,
        "total_tasks": len(tasks),
        "total_videos": 0,
        "total_chunks": (n + CHUNKS_SIZE - 1) // CHUNKS_SIZE,
        "chunks_size": CHUNKS_SIZE,
        "splits": {"train": f"0:{n}"},
        "data_path": DATA_PATH,
        "video_path": None,
        **head,
    }
    (meta / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    _jsonl(meta / "episodes.jsonl", episodes)
    _jsonl(meta / "tasks.jsonl", [{"task_index": k, "task": t} for k, t in enumerate(tasks)])
    _jsonl(meta / "episodes_stats.jsonl", ep_stats)
    (meta / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")


def _columns(s: Samples, rows: np.ndarray, act, state, task_idx: np.ndarray) -> dict:
    """The numeric columns of frames `rows` (for their stats)."""
    n = len(rows)
    return {
        "rgb": s.rgb[rows],
        "depth": s.depth[rows],
        "state": np.repeat(state[None], n, 0),
        "action": act[rows],
        "seed": s.seed[rows],
        "symmetry": s.symmetry[rows],
        "timestamp": np.zeros(n),
        "frame_index": np.zeros(n),
        "index": rows,
        "episode_index": rows,
        "task_index": task_idx,
    }


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def export_dataset(
    home: Path,
    path: Path,
    make: Callable[[], tuple[Samples, list[dict] | None]],
    source: str,
) -> dict:
    """Write the rows `make` gives (called after the checks) as a dataset to the new
    directory `path`, whole or not at all (`write_new_dir`): {"path", "format", "episodes",
    "frames", "tasks"}."""

    def write(tmp: Path) -> dict:
        samples, extra = make()
        return write_dataset(samples, tmp, source, extra)

    return write_new_dir(home, path, write)


def write_new_dir(home: Path, path: Path, write: Callable[[Path], dict]) -> dict:
    """Run `write(tmp)` on a temporary directory beside `path`, then rename it to `path`.

    Refused (one line, nothing written) if `path` exists or lies in a data home
    (`skills.files.check_target`); `write` is called only after that check, and whatever
    it wrote is removed if it fails. Returns {"path", "format": "lerobot"} | its result.
    """
    from skills.files import check_target

    raw = os.fspath(path).rstrip("/" + os.sep) or os.fspath(path)
    if os.path.lexists(raw):
        raise AgentError(f"{raw!r} exists: name a new directory for the dataset")
    target = check_target(raw, force=False, home=home)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        res = write(tmp)
        os.rename(tmp, target)  # fails, leaving nothing, if `path` appeared meanwhile
    except OSError as exc:
        raise AgentError(f"cannot write {raw!r}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return {"path": str(target), "format": "lerobot", **res}


def export_demos(home: Path, path: Path, families: list[str], n: int, start: int = 0) -> dict:
    """Training demonstrations (even seeds, the cached ones `policy train` uses) of
    `families`, `n` each, as a LeRobot dataset at `path`."""
    from agent.policy.data import check_families, load_demos
    from agent.policy.geometry import ImageSpec

    fams = check_families(families)

    def make():
        spec = ImageSpec()
        return Samples.concat([load_demos(home, f, "train", n, spec, start) for f in fams]), None

    return export_dataset(home, path, make, "demonstrations")


def export_corrections(home: Path, path: Path, family: str | None = None) -> dict:
    """Stored corrections (labels: the corrected poses) as a LeRobot dataset at `path`;
    each episode's line in episodes.jsonl also holds the correction's id, expert,
    diagnosis, checkpoint, round and the predicted poses."""
    from agent.policy.corrections import CorrectionStore, store_path
    from agent.policy.data import check_families

    if family is not None:
        check_families([family])

    def make():
        store = CorrectionStore(store_path(home))
        rows = store.get(None, family)
        extra = [
            {
                "correction_id": c.id,
                "expert": c.expert,
                "diagnosis": c.diagnosis,
                "checkpoint": c.checkpoint,
                "round": c.round,
                "predicted": {"pick": c.predicted_pick, "place": c.predicted_place},
            }
            for c in rows
        ]
        return store.samples(None, family), extra

    return export_dataset(home, path, make, "corrections")


# -- reading ---------------------------------------------------------------------------------
def _meta(root: Path) -> tuple[dict, list[dict], dict[int, str]]:
    root = Path(root)
    try:
        info = json.loads((root / "meta" / "info.json").read_text())
        episodes = [json.loads(x) for x in (root / "meta" / "episodes.jsonl").open() if x.strip()]
        tasks = [json.loads(x) for x in (root / "meta" / "tasks.jsonl").open() if x.strip()]
    except (OSError, ValueError) as exc:
        raise AgentError(f"{str(root)!r} is not a LeRobot dataset: {exc}") from None
    version = str(info.get("codebase_version", ""))
    if not version.startswith("v2"):
        raise AgentError(f"LeRobot dataset {str(root)!r} has format {version!r}; v2.x is read")
    feats = info.get("features") or {}
    for need in ("observation.image", "observation.depth", "action", "family"):
        if need not in feats:
            raise AgentError(f"LeRobot dataset {str(root)!r} has no {need!r} feature")
    if feats["observation.image"].get("dtype") != "image":
        raise AgentError("observation.image must be stored as images (dtype 'image'), not video")
    if not episodes:
        raise AgentError(f"LeRobot dataset {str(root)!r} has no episodes")
    return info, episodes, {int(t["task_index"]): str(t["task"]) for t in tasks}


def _frames(root: Path, columns: list[str] | None = None):
    """(all frames as one pyarrow table, {task_index: task}) of a dataset."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    info, episodes, tasks = _meta(root)
    parts = []
    for ep in sorted(episodes, key=lambda e: int(e["episode_index"])):
        e = int(ep["episode_index"])
        rel = info["data_path"].format(episode_chunk=e // info["chunks_size"], episode_index=e)
        try:
            parts.append(pq.read_table(Path(root) / rel, columns=columns))
        except (OSError, KeyError, pa.ArrowException) as exc:
            raise AgentError(f"cannot read episode {e} of {str(root)!r}: {exc}") from None
    return pa.concat_tables(parts, promote_options="default"), tasks


def dataset_families(root: Path) -> list[str]:
    """The task families of a dataset's frames, in order of first appearance."""
    t, _ = _frames(root, ["family"])
    return list(dict.fromkeys(map(str, t.column("family").to_pylist())))


def read_dataset(root: Path) -> Samples:
    """The frames of a LeRobot dataset (as `write_dataset` writes them) as `Samples`.

    Raises:
        AgentError: one line, if `root` is not such a dataset.
    """
    from PIL import Image

    t, tasks = _frames(root)
    n = t.num_rows
    col = lambda k: t.column(k).combine_chunks()  # noqa: E731
    rgb = np.stack(
        [
            np.asarray(Image.open(io.BytesIO(v["bytes"])).convert("RGB"))
            for v in col("observation.image").to_pylist()
        ]
    )
    h, w = rgb.shape[1:3]
    depth = col("observation.depth").flatten().flatten().to_numpy().astype(np.float32)
    act = np.asarray(col("action").flatten().to_numpy(), np.float32).reshape(n, 8)
    family = np.array(col("family").to_pylist())
    names = t.column_names
    primitive = (
        np.array(col("primitive").to_pylist())
        if "primitive" in names
        else np.array([primitive_of(f) for f in family])
    )
    place = np.where((primitive == "pick")[:, None], np.nan, act[:, 4:]).astype(np.float32)
    return Samples(
        rgb=rgb.astype(np.uint8),
        depth=depth.reshape(n, h, w),
        instruction=np.array([tasks[int(k)] for k in col("task_index").to_pylist()]),
        family=family,
        seed=col("seed").to_numpy().astype(np.int64) if "seed" in names else np.full(n, -1),
        primitive=primitive,
        pick=act[:, :4].copy(),
        place=place,
        symmetry=(
            col("symmetry").to_numpy().astype(np.float32)
            if "symmetry" in names
            else np.zeros(n, np.float32)
        ),
    )


def dataset_by_family(root: Path, families: tuple[str, ...]) -> list[Samples]:
    """A dataset's rows split by family, one `Samples` per family of `families`, in order."""
    from agent.policy.geometry import ImageSpec

    samples = read_dataset(root)
    want = ImageSpec().shape
    if samples.rgb.shape[1:3] != want:
        raise AgentError(
            f"the dataset's images are {samples.rgb.shape[1]}x{samples.rgb.shape[2]}; "
            f"the policy's view is {want[0]}x{want[1]}"
        )
    out = []
    for f in families:
        rows = samples.take(samples.family == f)
        if not len(rows):
            raise AgentError(f"the dataset {str(root)!r} has no {f} samples")
        out.append(rows)
    return out
