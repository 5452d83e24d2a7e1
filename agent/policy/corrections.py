"""Expert corrections: validation, diagnosis and the SQLite store.

One module owns the storage, so every front end stores a correction the same way: the
CLI (`skillgrove policy correct`), the simulated-expert loop (`feedback`) and a web UI
build a `Correction` with `make_correction` (which validates it) and call
`CorrectionStore.add`. The store is `<home>/policy/corrections.sqlite`: one row per
correction with the image (cropped RGB-D as compressed .npz bytes), the instruction,
the predicted and the corrected poses, the expert and the diagnosis. A correction of a
run's step (any step of any goal: `step_queue`) also names the run, the step and the
step's phrase (its instruction); a family scene's correction leaves the three empty.
Corrections can be listed, read back as training samples, and exported as JSON lines.
"""

from __future__ import annotations

import base64
import io
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.data import Samples
from agent.policy.evaluate import faults, pose_error
from agent.policy.storage import connect as connect  # noqa: F401 - finetune imports it here
from agent.policy.storage import create_tables, session
from agent.policy.validate import MAX_OFFSET as MAX_OFFSET
from agent.policy.validate import POSE_HIGH as POSE_HIGH
from agent.policy.validate import POSE_LOW as POSE_LOW
from agent.policy.validate import _finite, validate_pose
from agent.policy.validate import clip_to_workspace as clip_to_workspace
from agent.policy.validate import validate_angle as validate_angle
from agent.policy.validate import validate_offsets as validate_offsets
from agent.policy.validate import validate_pixel as validate_pixel
from skills.db import Migration

DIAGNOSES = ("position", "orientation", "position+orientation", "none")


def store_path(home: Path) -> Path:
    return Path(home) / "policy" / "corrections.sqlite"


# a goal template judged with the tolerances of the family that shares its geometry
TOLERANCE_OF = {"rotated_by": "rotate", "aligned": "align"}


def diagnose(
    pred_pick, pred_place, pick, place, symmetry: float, primitive: str, family: str
) -> str:
    """What was wrong with a prediction against the expert's poses: position,
    orientation, both, or none (the proxy's tolerances, `evaluate.faults`; `family` is a
    task family or, for a run's step, its goal template such as "left_of")."""
    err = pose_error(pred_pick, pred_place, pick, place, symmetry, primitive)
    pos_bad, rot_bad = faults(err, TOLERANCE_OF.get(family, family))
    if pos_bad and rot_bad:
        return "position+orientation"
    return "position" if pos_bad else "orientation" if rot_bad else "none"


# -- records -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Correction:
    """One expert correction of one prediction.

    Attributes:
        family, seed, instruction, primitive: the task instance and its action type (for
            a run's step: its goal template, the run's scene seed, the step's phrase).
        rgb, depth: the cropped image the policy saw.
        predicted_pick, predicted_place: the policy's poses (place None for a pick).
        corrected_pick, corrected_place: the expert's poses.
        expert: who corrected ("oracle", "oracle+noise(...)", "human", "human:<name>").
        diagnosis: one of DIAGNOSES.
        symmetry: yaw symmetry of the object acted on (radians, 0 if round).
        checkpoint: policy version that made the prediction (None if unknown).
        round: feedback-loop round (None for a manual correction).
        id, created: set by the store.
        run_id, step: the run and the step (0-based) corrected; None for a family scene.
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
    run_id: str | None = None
    step: int | None = None

    @property
    def phrase(self) -> str | None:
        """The step's phrase (what the pose provider was asked) of a run step's correction."""
        return self.instruction if self.run_id is not None else None


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
    if (c.run_id is None) != (c.step is None) or (c.step is not None and int(c.step) < 0):
        raise AgentError("a run step's correction needs both the run and a step number >= 0")
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
_STEP_COLS = ", run_id, step, phrase"  # from schema v2 on


COMPONENT = "corrections"
# Append only: each shipped step stays as it is (tests/test_upgrade.py opens old homes).
MIGRATIONS = (
    Migration(
        1, "the corrections table as the first release wrote it", SCHEMA, needed_to_read=False
    ),
    Migration(
        2,
        "corrections of any step of a run: its run, step and phrase (empty for family scenes)",
        "ALTER TABLE corrections ADD COLUMN run_id TEXT; "
        "ALTER TABLE corrections ADD COLUMN step INTEGER; "
        "ALTER TABLE corrections ADD COLUMN phrase TEXT; "
        "CREATE INDEX IF NOT EXISTS corrections_run ON corrections(run_id, step)",
        needed_to_read=False,  # a read-only older store is read without them
    ),
)


def _step_cols(db) -> str:
    """The step columns where the table has them (a read-only store may predate them)."""
    have = {r[1] for r in db.execute("PRAGMA table_info(corrections)")}
    return _STEP_COLS if "run_id" in have else ", NULL, NULL, NULL"


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
                " expert, diagnosis, symmetry, checkpoint, round, run_id, step, phrase)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    c.run_id,
                    None if c.step is None else int(c.step),
                    c.phrase,
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
        with self._connect() as db:
            sql = f"SELECT {_COLS}{_step_cols(db)} FROM corrections{where} ORDER BY id DESC"
            if limit:
                sql += f" LIMIT {int(limit)}"
            rows = db.execute(sql, args).fetchall()
        keys = [k.strip() for k in (_COLS + _STEP_COLS).split(",")]
        out = []
        for r in rows:
            d = dict(zip(keys, r, strict=True))
            d["predicted"], d["corrected"] = json.loads(d["predicted"]), json.loads(d["corrected"])
            if d["run_id"] is None:  # a family scene's correction lists as it always did
                del d["run_id"], d["step"], d["phrase"]
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
                f"SELECT {_COLS}{_step_cols(db)}, image FROM corrections{where} ORDER BY id", args
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
                run_id,
                step,
                _phrase,
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
                    run_id,
                    step,
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
                            **(
                                {}
                                if c.run_id is None
                                else {"run_id": c.run_id, "step": c.step, "phrase": c.phrase}
                            ),
                            "image_npz_b64": base64.b64encode(_pack_image(c.rgb, c.depth)).decode(
                                "ascii"
                            ),
                        }
                    )
                    + "\n"
                )
        return len(rows)
