"""Failed predictions waiting for a person's correction, beside the corrections they become.

`enqueue_failures` runs a checkpoint on held-out scenes (odd seeds, executed in the
simulator like `policy eval`), and queues each failure: the scene exactly as `skillgrove
policy correct` shows it (`human.show_scene`: image, prediction, symmetry, checkpoint,
and its PNG with the predicted poses drawn), the diagnosis against the oracle's poses,
and a line of detail. The queue is the `pending` table of the correction store's own
SQLite file (`corrections.store_path`); a row is marked with the id of its correction
once a person has corrected it (the web UI's Corrections page, through `correct`), which
stores the correction with the CLI's own functions (`human.correct_pending`, through
`human.corrected_pose` and `human.store_human_correction`).

A run's failed step is queued the same way (`step_queue.enqueue_runs`): the row names the
run and the step, and its instruction is the step's phrase. Every queued failure carries
an informativeness score (`step_queue.informativeness`: the policy's uncertainty, how
close the attempt came, how new its goal template is to the corrections); `waiting`
hands them out most informative first (rows queued before scores existed come last,
oldest first).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import AgentError
from agent.policy.corrections import (
    CorrectionStore,
    _pack_image,
    _unpack_image,
    create_tables,
    diagnose,
    session,
    store_path,
)
from agent.policy.geometry import ImageSpec
from skills.db import Migration

SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    family TEXT NOT NULL,
    seed INTEGER NOT NULL,
    instruction TEXT NOT NULL,
    primitive TEXT NOT NULL,
    checkpoint INTEGER,
    spec TEXT NOT NULL,
    image BLOB NOT NULL,
    predicted TEXT NOT NULL,
    oracle TEXT NOT NULL,
    symmetry REAL NOT NULL,
    diagnosis TEXT NOT NULL,
    detail TEXT NOT NULL,
    png TEXT NOT NULL,
    correction INTEGER,
    corrected REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS pending_scene ON pending(family, seed, checkpoint);
"""
_COLS = (
    "id, created, family, seed, instruction, primitive, checkpoint, spec, predicted, oracle, symmetry, "
    "diagnosis, detail, png, correction, corrected"
)
_KEYS = tuple(k.strip() for k in _COLS.split(","))
COMPONENT = "pending"
# Append only: each shipped step stays as it is (tests/test_upgrade.py opens old homes).
MIGRATIONS = (
    Migration(1, "the queue's table as the first release wrote it", SCHEMA, needed_to_read=False),
    Migration(
        2,
        "failed steps of runs (run, step) and an informativeness score; unique per scene or step",
        "ALTER TABLE pending ADD COLUMN run_id TEXT; "
        "ALTER TABLE pending ADD COLUMN step INTEGER; "
        "ALTER TABLE pending ADD COLUMN score REAL; "
        "DROP INDEX IF EXISTS pending_scene; "
        "CREATE UNIQUE INDEX IF NOT EXISTS pending_scene_step ON pending"
        "(family, seed, checkpoint, coalesce(run_id, ''), coalesce(step, -1))",
        needed_to_read=False,  # a read-only older queue is read without them
    ),
)
_NEW_COLS = ("run_id", "step", "score")  # from schema v2 on
CLAIMED = -1  # `correction` while a correction is being stored (no second one meanwhile)


@dataclass(frozen=True)
class PendingScene:
    """A queued failure: the scene as `policy correct` shows it, and why it failed.

    Attributes:
        id: the queue's id.
        scene: the `human.Scene` (image, prediction, symmetry, checkpoint, PNG path).
        spec: the policy's image spec (pixels <-> world).
        oracle_pick, oracle_place: the scripted oracle's poses (place None for a pick).
        diagnosis: position, orientation, position+orientation or none (see `diagnose`).
        detail: a line about the failure.
        created: when it was queued.
        correction: id of its stored correction (None while it waits).
        score: its informativeness (`step_queue.informativeness`; None if queued before).
    """

    id: int
    scene: object
    spec: ImageSpec
    oracle_pick: tuple
    oracle_place: tuple | None
    diagnosis: str
    detail: str
    created: float
    correction: int | None = None
    score: float | None = None


class PendingQueue:
    """The `pending` table in the correction store's SQLite file (created on first use).

    Args:
        path: the database file (`corrections.store_path(home)`).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        CorrectionStore(self.path)  # the file and the corrections table, created the one way
        create_tables(self.path, COMPONENT, MIGRATIONS)

    def _connect(self):
        return session(self.path)

    def add(
        self,
        scene,
        spec: ImageSpec,
        oracle_pick,
        oracle_place,
        diagnosis: str,
        detail: str,
        score: float | None = None,
    ) -> int | None:
        """Queue a failed scene (a run's step when `scene.run_id` is set); None when this
        (family, seed, checkpoint) or (run, step, checkpoint) is queued already."""
        predicted = {
            "pick": list(scene.pick),
            "place": None if scene.place is None else list(scene.place),
        }
        oracle = {
            "pick": list(oracle_pick),
            "place": None if oracle_place is None else list(oracle_place),
        }
        with self._connect() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO pending (created, family, seed, instruction, primitive, checkpoint, spec, image,"
                " predicted, oracle, symmetry, diagnosis, detail, png, run_id, step, score)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    scene.family,
                    int(scene.seed),
                    scene.instruction,
                    scene.primitive,
                    scene.checkpoint,
                    json.dumps(spec.to_dict()),
                    _pack_image(scene.rgb, scene.depth),
                    json.dumps(predicted),
                    json.dumps(oracle),
                    float(scene.symmetry),
                    diagnosis,
                    detail,
                    self._png_name(scene.image),
                    getattr(scene, "run_id", None),
                    getattr(scene, "step", None),
                    None if score is None else float(score),
                ),
            )
            return int(cur.lastrowid) if cur.rowcount == 1 else None

    def has(self, family: str, seed: int, checkpoint: int | None) -> bool:
        """Whether this family scene is queued (waiting or corrected) for this checkpoint."""
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM pending WHERE family = ? AND seed = ? AND checkpoint IS ?"
                " AND run_id IS NULL",
                (family, int(seed), checkpoint),
            ).fetchone()
        return row is not None

    def has_step(self, run_id: str, step: int, checkpoint: int | None) -> bool:
        """Whether this run's step is queued (waiting or corrected) for this checkpoint."""
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM pending WHERE run_id = ? AND step = ? AND checkpoint IS ?",
                (run_id, int(step), checkpoint),
            ).fetchone()
        return row is not None

    def _cols(self, db) -> str:
        """The columns to read (NULL for those a read-only older file lacks)."""
        have = {r[1] for r in db.execute("PRAGMA table_info(pending)")}
        return ", ".join([_COLS, *(c if c in have else "NULL" for c in _NEW_COLS)])

    def _png_name(self, path: Path) -> str:
        """The PNG's path relative to the store's folder when inside it (the home can move)."""
        try:
            return Path(path).resolve().relative_to(self.path.parent.resolve()).as_posix()
        except ValueError:
            return str(path)

    def count(self) -> int:
        """How many scenes wait for a correction."""
        with self._connect() as db:
            return int(
                db.execute("SELECT COUNT(*) FROM pending WHERE correction IS NULL").fetchone()[0]
            )

    def waiting(self, limit: int = 50, offset: int = 0) -> list[PendingScene]:
        """Scenes waiting for a correction, most informative first (unscored ones last,
        oldest first)."""
        with self._connect() as db:
            cols = self._cols(db)
            order = "score IS NULL, score DESC, id" if "NULL" not in cols else "id"
            rows = db.execute(
                f"SELECT {cols}, image FROM pending WHERE correction IS NULL ORDER BY {order}"
                f" LIMIT {int(limit)} OFFSET {int(offset)}"
            ).fetchall()
        return [self._scene(r) for r in rows]

    def get(self, pending_id: int) -> PendingScene:
        """One queued scene (waiting or corrected); KeyError when there is none."""
        with self._connect() as db:
            row = db.execute(
                f"SELECT {self._cols(db)}, image FROM pending WHERE id = ?", (int(pending_id),)
            ).fetchone()
        if row is None:
            raise KeyError(pending_id)
        return self._scene(row)

    def claim(self, pending_id: int) -> bool:
        """Mark a waiting scene as being corrected; False if it is not waiting."""
        with self._connect() as db:
            cur = db.execute(
                "UPDATE pending SET correction = ? WHERE id = ? AND correction IS NULL",
                (CLAIMED, int(pending_id)),
            )
            return cur.rowcount == 1

    def release(self, pending_id: int) -> None:
        """Put a claimed scene back in the queue (storing its correction failed)."""
        with self._connect() as db:
            db.execute(
                "UPDATE pending SET correction = NULL WHERE id = ? AND correction = ?",
                (int(pending_id), CLAIMED),
            )

    def done(self, pending_id: int, correction_id: int) -> None:
        """Record the correction a claimed scene became."""
        with self._connect() as db:
            db.execute(
                "UPDATE pending SET correction = ?, corrected = ? WHERE id = ?",
                (int(correction_id), time.time(), int(pending_id)),
            )

    def sources(self, correction_ids: list[int]) -> dict[int, int]:
        """{correction id: queue id} for corrections made from queued scenes."""
        if not correction_ids:
            return {}
        with self._connect() as db:
            rows = db.execute(
                f"SELECT correction, id FROM pending WHERE correction IN ({','.join('?' * len(correction_ids))})",
                [int(c) for c in correction_ids],
            ).fetchall()
        return {int(c): int(i) for c, i in rows}

    def _scene(self, row) -> PendingScene:
        from agent.policy.human import Scene

        d = dict(zip((*_KEYS, *_NEW_COLS), row[:-1], strict=True))
        rgb, depth = _unpack_image(row[-1])
        pred, orc = json.loads(d["predicted"]), json.loads(d["oracle"])
        tup = lambda v: None if v is None else tuple(float(x) for x in v)  # noqa: E731
        scene = Scene(
            d["family"],
            int(d["seed"]),
            d["instruction"],
            d["primitive"],
            rgb,
            depth,
            tup(pred["pick"]),
            tup(pred["place"]),
            float(d["symmetry"]),
            self.path.parent / d["png"],
            d["checkpoint"],
            run_id=d["run_id"],
            step=None if d["step"] is None else int(d["step"]),
        )
        return PendingScene(
            int(d["id"]),
            scene,
            ImageSpec.from_dict(json.loads(d["spec"])),
            tup(orc["pick"]),
            tup(orc["place"]),
            d["diagnosis"],
            d["detail"],
            float(d["created"]),
            None if d["correction"] is None else int(d["correction"]),
            None if d["score"] is None else float(d["score"]),
        )


def open_queue(home: Path) -> PendingQueue:
    """The queue of a data home (`<home>/policy/corrections.sqlite`)."""
    return PendingQueue(store_path(home))


# -- filling the queue ---------------------------------------------------------------------
def _detail(checkpoint: int | None, err, diagnosis: str) -> str:
    where = f"checkpoint v{checkpoint:04d}: " if checkpoint is not None else ""
    off = f"{err.pos * 100:.1f} cm and {math.degrees(err.rot):.0f}° off the oracle's pose"
    if diagnosis == "none":
        return f"{where}within tolerance of the oracle ({off}), yet the executed action failed"
    return f"{where}{off}; the executed action failed"


def enqueue_failures(
    home: Path,
    version: int | str | None,
    family: str,
    episodes: int,
    *,
    start: int = 0,
    embedder=None,
    threads: int = 2,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Run a checkpoint on held-out scenes and queue each failure for a person to correct.

    Each scene (odd seeds, as `policy eval`) is built, the prediction executed in the
    simulator (`evaluate.attempt`); a failure is queued with the scene exactly as
    `policy correct --family F --seed S` shows it (`human.show_scene`, which also writes
    its PNG) and its diagnosis against the oracle's poses. A scene already queued for the
    same checkpoint is not tried again (it is counted as failed and already queued).
    Each queued failure is scored (`step_queue.informativeness`, closeness from its pose
    error); the items come back most informative first.

    Args:
        home: the data home (checkpoint and correction store).
        version: the checkpoint ("latest", 3, "v0003").
        family: the task family (a single-action one the policy learns).
        episodes: how many held-out scenes to try.
        start: skip this many held-out scenes first.
        embedder: the sentence embedder the checkpoint was trained with (default MiniLM).
        threads: torch threads.
        progress: callable(str) for progress lines.

    Returns:
        {"version", "family", "tried", "failed", "queued", "already_queued", "waiting",
         "items": [{"id", "seed", "instruction", "diagnosis", "detail", "score",
                    "score_parts", "image"}]}
    """
    from agent.policy.data import split_seeds
    from agent.policy.evaluate import attempt
    from agent.policy.human import show_scene
    from agent.policy.step_queue import informativeness, pose_closeness, seen_count
    from agent.policy.train import check_families, load_policy
    from sim.world import World

    (family,) = check_families([family])
    if episodes < 1 or start < 0:
        raise AgentError("episodes must be at least 1 and start at least 0")
    say = progress or (lambda _m: None)
    policy = load_policy(home, version, embedder=embedder, threads=threads)
    version_no = policy.info.get("version")
    queue = open_queue(home)
    seeds = split_seeds("test", episodes, start)
    failed, items, again = 0, [], 0
    world = World(image_size=(policy.spec.render, policy.spec.render))
    try:
        for i, seed in enumerate(seeds):
            if queue.has(
                family, seed, version_no
            ):  # it failed before (the same scene, the same weights)
                failed, again = failed + 1, again + 1
                continue
            at = attempt(policy, world, family, seed)
            if at.success:
                continue
            failed += 1
            scene = show_scene(home, policy, family, seed, world=world)
            diag = diagnose(
                scene.pick,
                scene.place,
                at.expert_pick,
                at.expert_place,
                at.symmetry,
                at.primitive,
                family,
            )
            detail = _detail(scene.checkpoint, at.error, diag)
            closeness = pose_closeness(at.error.pos)
            score, parts = informativeness(at.prediction, closeness, seen_count(queue.path, family))
            pid = queue.add(
                scene, policy.spec, at.expert_pick, at.expert_place, diag, detail, score
            )
            if pid is None:  # queued meanwhile by another run
                again += 1
                scene.image.unlink(missing_ok=True)
                continue
            items.append(
                {
                    "id": pid,
                    "seed": seed,
                    "instruction": scene.instruction,
                    "diagnosis": diag,
                    "detail": detail,
                    "score": score,
                    "score_parts": parts,
                    "image": str(scene.image),
                }
            )
            say(f"{i + 1}/{len(seeds)}: seed {seed} failed ({diag}), queued as #{pid}")
    finally:
        world.close()
    return {
        "version": version_no,
        "family": family,
        "tried": len(seeds),
        "failed": failed,
        "queued": len(items),
        "already_queued": again,
        "waiting": queue.count(),
        "items": items,
    }


def enqueue_runs(home: Path, run_ids: list[str] | None = None, version=None, **options) -> dict:
    """Queue the failed step of each failed run, scored (`step_queue.enqueue_runs`)."""
    from agent.policy.step_queue import enqueue_runs as queue_steps

    return queue_steps(home, run_ids, version, **options)
