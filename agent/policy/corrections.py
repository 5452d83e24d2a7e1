"""Expert corrections: validation, diagnosis and the SQLite store.

One module owns the storage, so every front end stores a correction the same way: the
CLI (`skillgrove policy correct`), the simulated-expert loop (`feedback`) and a web UI
build a `Correction` with `make_correction` (which validates it) and call
`CorrectionStore.add`. The store is `<home>/policy/corrections.sqlite`: one row per
correction with the image (cropped RGB-D as compressed .npz bytes), the instruction,
the predicted and the corrected poses, the expert and the diagnosis. Corrections can be
listed, read back as training samples, and exported as JSON lines.
"""

from __future__ import annotations

import base64
import io
import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.data import Samples
from agent.policy.evaluate import faults, pose_error
from agent.policy.storage import connect as connect  # noqa: F401 - finetune imports it here
from agent.policy.storage import create_tables, session
from skills.db import Migration

DIAGNOSES = ("position", "orientation", "position+orientation", "none")
POSE_LOW = (0.2, -0.45, 0.0)
POSE_HIGH = (0.8, 0.45, 0.35)
MAX_OFFSET = {"dx": 0.3, "dy": 0.3, "dz": 0.2, "dyaw": 180.0}


def store_path(home: Path) -> Path:
    return Path(home) / "policy" / "corrections.sqlite"


# -- validation --------------------------------------------------------------------------
def _finite(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AgentError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise AgentError(f"{name} must be a finite number, got {value!r}")
    return v


def validate_pixel(u, v, width: int, height: int) -> tuple[float, float]:
    """(u, v) = (column, row) inside a width x height image, else AgentError."""
    u, v = _finite("pixel u", u), _finite("pixel v", v)
    if not (0 <= u < width and 0 <= v < height):
        raise AgentError(
            f"pixel ({u:g}, {v:g}) is outside the {width}x{height} image (u in [0, {width}), v in [0, {height}))"
        )
    return u, v


def validate_angle(deg) -> float:
    """A yaw in degrees within [-180, 180]."""
    a = _finite("angle", deg)
    if not -180.0 <= a <= 180.0:
        raise AgentError(f"angle {a:g} is out of range: give degrees within [-180, 180]")
    return a


def validate_offsets(dx=0.0, dy=0.0, dz=0.0, dyaw=0.0) -> tuple[float, float, float, float]:
    """Offsets in meters (dx, dy, dz) and degrees (dyaw), each finite and not absurdly large."""
    vals = {"dx": dx, "dy": dy, "dz": dz, "dyaw": dyaw}
    out = []
    for k, v in vals.items():
        f = _finite(k, v)
        if abs(f) > MAX_OFFSET[k]:
            unit = "degrees" if k == "dyaw" else "m"
            raise AgentError(
                f"{k} = {f:g} is out of range (at most {MAX_OFFSET[k]:g} {unit} either way)"
            )
        out.append(f)
    return tuple(out)


def validate_pose(name: str, pose) -> tuple[float, float, float, float]:
    """An (x, y, z, yaw radians) pose inside the robot's workspace."""
    try:
        vals = [float(p) for p in pose]
    except (TypeError, ValueError):
        raise AgentError(f"{name} pose must be 4 numbers (x, y, z, yaw), got {pose!r}") from None
    if len(vals) != 4 or not all(map(math.isfinite, vals)):
        raise AgentError(f"{name} pose must be 4 finite numbers (x, y, z, yaw), got {pose!r}")
    for i, axis in enumerate("xyz"):
        if not POSE_LOW[i] <= vals[i] <= POSE_HIGH[i]:
            raise AgentError(
                f"{name} pose {axis} = {vals[i]:.3f} m is outside the workspace [{POSE_LOW[i]}, {POSE_HIGH[i]}]"
            )
    if not -math.pi - 1e-9 <= vals[3] <= math.pi + 1e-9:
        raise AgentError(f"{name} pose yaw {vals[3]:.3f} rad is outside [-pi, pi]")
    return tuple(vals)


def clip_to_workspace(pose) -> tuple[float, float, float, float]:
    """A predicted pose brought inside the workspace bounds (predictions are stored as
    made, only clipped; corrected poses are validated instead)."""
    x, y, z, yaw = (float(v) if math.isfinite(float(v)) else 0.0 for v in pose)
    return (
        min(max(x, POSE_LOW[0]), POSE_HIGH[0]),
        min(max(y, POSE_LOW[1]), POSE_HIGH[1]),
        min(max(z, POSE_LOW[2]), POSE_HIGH[2]),
        math.remainder(yaw, 2 * math.pi),
    )


def diagnose(
    pred_pick, pred_place, pick, place, symmetry: float, primitive: str, family: str
) -> str:
    """What was wrong with a prediction against the expert's poses: position,
    orientation, both, or none (the proxy's tolerances, `evaluate.faults`)."""
    err = pose_error(pred_pick, pred_place, pick, place, symmetry, primitive)
    pos_bad, rot_bad = faults(err, family)
    if pos_bad and rot_bad:
        return "position+orientation"
    return "position" if pos_bad else "orientation" if rot_bad else "none"


# -- records -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Correction:
    """One expert correction of one prediction.

    Attributes:
        family, seed, instruction, primitive: the task instance and its action type.
        rgb, depth: the cropped image the policy saw.
        predicted_pick, predicted_place: the policy's poses (place None for a pick).
        corrected_pick, corrected_place: the expert's poses.
        expert: who corrected ("oracle", "oracle+noise(...)", "human", "human:<name>").
        diagnosis: one of DIAGNOSES.
        symmetry: yaw symmetry of the object acted on (radians, 0 if round).
        checkpoint: policy version that made the prediction (None if unknown).
        round: feedback-loop round (None for a manual correction).
        id, created: set by the store.
    """

    family: str
    seed: int
    instruction: str
    primitive: str
    rgb: np.ndarray
    depth: np.ndarray
    predicted_pick: tuple
    predicted_place: tuple | None
    corrected_pick: tuple
    corrected_place: tuple | None
    expert: str
    diagnosis: str
    symmetry: float
    checkpoint: int | None = None
    round: int | None = None
    id: int | None = None
    created: float | None = None


def make_correction(**fields) -> Correction:
    """A validated `Correction` (AgentError with one line on any bad field)."""
    c = Correction(**fields)
    if not c.instruction.strip():
        raise AgentError("a correction needs the instruction")
    if c.primitive not in ("pick", "pick_place", "push", "place"):
        raise AgentError(f"unknown primitive {c.primitive!r}")
    if c.diagnosis not in DIAGNOSES:
        raise AgentError(f"diagnosis must be one of {', '.join(DIAGNOSES)}, got {c.diagnosis!r}")
    if not c.expert.strip() or len(c.expert) > 80:
        raise AgentError("expert must be a non-empty name of at most 80 characters")
    rgb, depth = np.asarray(c.rgb), np.asarray(c.depth)
    if (
        rgb.ndim != 3
        or rgb.shape[2] != 3
        or depth.shape != rgb.shape[:2]
        or not np.isfinite(depth).all()
    ):
        raise AgentError(
            "a correction needs the RGB image (H, W, 3) and a finite depth image (H, W)"
        )
    needs_place = c.primitive != "pick"
    picks = (clip_to_workspace(c.predicted_pick), validate_pose("corrected pick", c.corrected_pick))
    places = (None, None)
    if needs_place:
        if c.predicted_place is None or c.corrected_place is None:
            raise AgentError(f"a {c.primitive} correction needs both place poses")
        places = (
            clip_to_workspace(c.predicted_place),
            validate_pose("corrected place", c.corrected_place),
        )
    return replace(
        c,
        rgb=rgb.astype(np.uint8),
        depth=depth.astype(np.float32),
        predicted_pick=picks[0],
        corrected_pick=picks[1],
        predicted_place=places[0],
        corrected_place=places[1],
        symmetry=_finite("symmetry", c.symmetry),
    )


def _pack_image(rgb: np.ndarray, depth: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, rgb=rgb, depth=depth)
    return buf.getvalue()


def _unpack_image(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        return z["rgb"], z["depth"]


# -- the store -----------------------------------------------------------------------------
SCHEMA = """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    family TEXT NOT NULL,
    seed INTEGER NOT NULL,
    instruction TEXT NOT NULL,
    primitive TEXT NOT NULL,
    image BLOB NOT NULL,
    predicted TEXT NOT NULL,
    corrected TEXT NOT NULL,
    expert TEXT NOT NULL,
    diagnosis TEXT NOT NULL,
    symmetry REAL NOT NULL,
    checkpoint INTEGER,
    round INTEGER
);
CREATE INDEX IF NOT EXISTS corrections_family ON corrections(family);
"""
_COLS = "id, created, family, seed, instruction, primitive, predicted, corrected, expert, diagnosis, symmetry, checkpoint, round"


COMPONENT = "corrections"
# Append only: each shipped step stays as it is (tests/test_upgrade.py opens old homes).
MIGRATIONS = (
    Migration(
        1, "the corrections table as the first release wrote it", SCHEMA, needed_to_read=False
    ),
)


class CorrectionStore:
    """The corrections table in one SQLite file (created on first use).

    Args:
        path: the database file (see `store_path`).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise AgentError(
                    f"corrections store {self.path} cannot be made: {exc.strerror or exc}"
                ) from None
        create_tables(self.path, COMPONENT, MIGRATIONS)

    def _connect(self):
        return session(self.path)

    def add(self, c: Correction) -> int:
        """Store a correction made by `make_correction`; returns its id."""
        predicted = {
            "pick": list(c.predicted_pick),
            "place": None if c.predicted_place is None else list(c.predicted_place),
        }
        corrected = {
            "pick": list(c.corrected_pick),
            "place": None if c.corrected_place is None else list(c.corrected_place),
        }
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO corrections (created, family, seed, instruction, primitive, image, predicted, corrected,"
                " expert, diagnosis, symmetry, checkpoint, round) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    c.family,
                    int(c.seed),
                    c.instruction,
                    c.primitive,
                    _pack_image(c.rgb, c.depth),
                    json.dumps(predicted),
                    json.dumps(corrected),
                    c.expert,
                    c.diagnosis,
                    float(c.symmetry),
                    c.checkpoint,
                    c.round,
                ),
            )
            return int(cur.lastrowid)

    def _where(self, family: str | None, ids: list[int] | None) -> tuple[str, list]:
        clauses, args = [], []
        if family:
            clauses.append("family = ?")
            args.append(family)
        if ids is not None:
            clauses.append(f"id IN ({','.join('?' * len(ids))})" if ids else "0")
            args += [int(i) for i in ids]
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def list(self, family: str | None = None, limit: int | None = None) -> list[dict]:
        """Corrections without their images, newest first."""
        where, args = self._where(family, None)
        sql = f"SELECT {_COLS} FROM corrections{where} ORDER BY id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._connect() as db:
            rows = db.execute(sql, args).fetchall()
        keys = [k.strip() for k in _COLS.split(",")]
        out = []
        for r in rows:
            d = dict(zip(keys, r, strict=True))
            d["predicted"], d["corrected"] = json.loads(d["predicted"]), json.loads(d["corrected"])
            out.append(d)
        return out

    def count(self, family: str | None = None) -> int:
        where, args = self._where(family, None)
        with self._connect() as db:
            return int(db.execute(f"SELECT COUNT(*) FROM corrections{where}", args).fetchone()[0])

    def get(self, ids: list[int] | None = None, family: str | None = None) -> list[Correction]:
        """Full corrections (with images), oldest first."""
        where, args = self._where(family, ids)
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_COLS}, image FROM corrections{where} ORDER BY id", args
            ).fetchall()
        out = []
        for r in rows:
            (
                cid,
                created,
                fam,
                seed,
                instr,
                prim,
                pred,
                corr,
                expert,
                diag,
                sym,
                ckpt,
                rnd,
                blob,
            ) = r
            pred, corr = json.loads(pred), json.loads(corr)
            rgb, depth = _unpack_image(blob)
            tup = lambda v: None if v is None else tuple(v)  # noqa: E731
            out.append(
                Correction(
                    fam,
                    seed,
                    instr,
                    prim,
                    rgb,
                    depth,
                    tup(pred["pick"]),
                    tup(pred["place"]),
                    tup(corr["pick"]),
                    tup(corr["place"]),
                    expert,
                    diag,
                    sym,
                    ckpt,
                    rnd,
                    cid,
                    created,
                )
            )
        return out

    def samples(self, ids: list[int] | None = None, family: str | None = None) -> Samples:
        """Corrections as training samples (labels: the corrected poses)."""
        rows = self.get(ids, family)
        if not rows:
            raise AgentError("no corrections stored" + (f" for {family}" if family else ""))
        return Samples.concat(
            [
                Samples.single(
                    c.rgb,
                    c.depth,
                    c.instruction,
                    c.family,
                    c.seed,
                    c.primitive,
                    c.corrected_pick,
                    c.corrected_place,
                    c.symmetry,
                )
                for c in rows
            ]
        )

    def export(self, path: Path, family: str | None = None) -> int:
        """Write corrections as JSON lines (images as base64 .npz); returns the count."""
        rows = self.get(None, family)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as f:
            for c in rows:
                f.write(
                    json.dumps(
                        {
                            "id": c.id,
                            "created": c.created,
                            "family": c.family,
                            "seed": c.seed,
                            "instruction": c.instruction,
                            "primitive": c.primitive,
                            "predicted": {"pick": c.predicted_pick, "place": c.predicted_place},
                            "corrected": {"pick": c.corrected_pick, "place": c.corrected_place},
                            "expert": c.expert,
                            "diagnosis": c.diagnosis,
                            "symmetry": c.symmetry,
                            "checkpoint": c.checkpoint,
                            "round": c.round,
                            "image_npz_b64": base64.b64encode(_pack_image(c.rgb, c.depth)).decode(
                                "ascii"
                            ),
                        }
                    )
                    + "\n"
                )
        return len(rows)
