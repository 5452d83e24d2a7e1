"""Run records: every `run` is stored so that people (and the UI) can look at it again.

A record holds the instruction, the goal it was judged by (and each atom's truth and
margin at the end), the plan, each decision with its score, the skills and versions used,
the outcome, every object's start and end pose, a GIF of key frames with the same frames
as an MP4 beside it, and the trajectory sampled at those frames (poses, gripper, atom
truths: `skills.sandbox.trajectory`). Records live in the data home's SQLite database
(table `runs`) and `<home>/runs/<run_id>.gif` and `.mp4`.

The table comes with versioned migrations (`MIGRATIONS`, component "runs" of the file's
`schema_version`, see `skills.db`), applied when the store opens. Reading writes nothing,
so runs list and show work on a read-only database or home; SQLite failures are one
line naming the file (`skills.db.store_error`). Every record read is validated against
its schema (`agent.run.record_schema`): a damaged or hand-edited one is `DamagedRecord`, one line
naming the run and the field.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from agent.errors import AgentError
from agent.run.record_schema import BadRecord, check_record
from skills.db import DB_NAME, Migration, guarded, missing_tables, open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    instruction TEXT NOT NULL,
    family TEXT NOT NULL,
    family_source TEXT NOT NULL,
    seed INTEGER NOT NULL,
    success INTEGER NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL
)
"""
COMPONENT = "runs"
# Append only: each shipped step stays as it is (tests/test_upgrade.py opens old homes).
MIGRATIONS = (
    Migration(1, "the runs table as the first release wrote it", SCHEMA, needed_to_read=False),
    Migration(
        2,
        "index runs by time (runs list reads the newest first)",
        "CREATE INDEX IF NOT EXISTS runs_created ON runs(created)",
        needed_to_read=False,
    ),
)


@dataclass(frozen=True)
class Decision:
    """What the agent decided for one step, and why."""

    step: str
    decision: str  # reuse | adapt | synthesize
    score: float
    skill: str | None
    version: int | None
    attempts: int = 0
    verdicts: tuple[dict, ...] = ()


@dataclass(frozen=True)
class RunRecord:
    """One run of the agent on one scene."""

    run_id: str
    instruction: str
    family: str  # the task family whose scene it ran on, "" for a scene from words
    family_source: str  # "given" (--task), "inferred" (from the text), "words" (scene from words), "model" (goal by the LLM)
    seed: int
    planner: str
    perception: str
    plan: tuple[str, ...]
    decisions: tuple[Decision, ...]
    skills: tuple[str, ...]  # "name@vN" executed
    success: bool
    status: str
    reason: str | None
    seconds: float
    llm_calls: int
    tokens: int
    args: dict = field(default_factory=dict)
    poses: dict = field(default_factory=dict)
    gif: str | None = None
    created: float = field(default_factory=time.time)
    goal: str = ""  # the goal judged, text form
    atoms: tuple[dict, ...] = ()  # each ground atom at the end: atom, value, margin, unit, detail
    objects: tuple[dict, ...] = ()  # description, start, end [x, y, z_bottom, yaw_deg], size...
    scene: tuple[dict, ...] = ()  # a scene from words: its layout (sim.scenes.Layout JSON)
    mp4: str | None = None  # the GIF's frames as an MP4 (relative to the home)
    trajectory: dict = field(default_factory=dict)  # per key frame (skills.sandbox.trajectory)

    @property
    def reused(self) -> int:
        return sum(d.decision == "reuse" for d in self.decisions)

    @property
    def synthesized(self) -> int:
        return sum(
            d.decision in ("synthesize", "adapt") and d.skill is not None and d.attempts > 0
            for d in self.decisions
        )

    def summary(self) -> dict:
        """The `run --json` object of DESIGN.md plus the record's id and decisions."""
        return {
            "success": self.success,
            "goal": self.goal,
            "atoms": [
                {k: a.get(k) for k in ("atom", "value", "margin")} | {"detail": a.get("detail", "")}
                for a in self.atoms
            ],
            "objects": [
                {k: o[k] for k in ("description", "start", "end", "size")} for o in self.objects
            ],
            "steps": len(self.plan),
            "reused": self.reused,
            "synthesized": self.synthesized,
            "llm_calls": self.llm_calls,
            "seconds": round(self.seconds, 3),
            "run_id": self.run_id,
            "family": self.family,
            "family_source": self.family_source,
            "planner": self.planner,
            "decisions": [asdict(d) for d in self.decisions],
            "skills": list(self.skills),
            "status": self.status,
            "reason": self.reason,
        }


class DamagedRecord(AgentError):
    """A stored run record that does not match its schema (one line: the run, the field)."""


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


class RunStore:
    """Run records in `<home>/skillgrove.db` and their GIFs and MP4s in `<home>/runs/`."""

    def __init__(self, home: str | Path) -> None:
        self.home = Path(home)
        self.dir = self.home / "runs"
        self.path = self.home / DB_NAME
        self._db = open_db(self.path, component=COMPONENT, migrations=MIGRATIONS)
        with guarded(self.path):  # a read-only database may predate the table
            self._table = not missing_tables(self._db, frozenset({"runs"}))

    def close(self) -> None:
        self._db.close()

    def save(self, record: RunRecord, gif: bytes | None = None) -> RunRecord:
        """Store a record (and its GIF, and the GIF's frames as an MP4); returns it with
        their paths filled in and no install path in its reason (`agent.evaluate.paths.scrub`)."""
        from agent.evaluate.paths import scrub

        record = replace(record, reason=scrub(record.reason))
        if gif:
            record = self._save_replay(record, gif)
        with guarded(self.path):
            if not self._table:
                self._db.execute(SCHEMA)
                self._table = True
            self._db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.run_id,
                    record.created,
                    record.instruction,
                    record.family,
                    record.family_source,
                    record.seed,
                    int(record.success),
                    record.status,
                    json.dumps(_fields(record)),
                ),
            )
        return record

    def _save_replay(self, record: RunRecord, gif: bytes) -> RunRecord:
        """Write the GIF and its MP4, each to a temporary file renamed into place."""
        from agent.run.replay import gif_frames, write_mp4

        path, mp4 = self.dir / f"{record.run_id}.gif", self.dir / f"{record.run_id}.mp4"
        tmp, tmp4 = path.with_suffix(".tmp"), mp4.with_suffix(".tmp.mp4")
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            write_mp4(gif_frames(gif), tmp4)
            tmp.write_bytes(gif)
            tmp4.replace(mp4)
            tmp.replace(path)
        except Exception as exc:  # OSError, or ffmpeg's failure (RuntimeError, OSError)
            for t in (tmp, tmp4):
                t.unlink(missing_ok=True)
            why = getattr(exc, "strerror", None) or " ".join(str(exc).split())[:200]
            raise AgentError(
                f"cannot write the run's replay {path}: {why}; nothing was recorded"
            ) from None
        return replace(
            record, gif=str(path.relative_to(self.home)), mp4=str(mp4.relative_to(self.home))
        )

    def get(self, run_id: str) -> RunRecord:
        if not self._table:
            raise AgentError(f"no run with id {run_id!r}")
        with guarded(self.path):
            row = self._db.execute("SELECT record FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise AgentError(f"no run with id {run_id!r}")
        return self._load(run_id, row[0])

    def list(self, limit: int = 50, offset: int = 0) -> list[RunRecord]:
        if not self._table:
            return []
        with guarded(self.path):
            rows = self._db.execute(
                "SELECT run_id, record FROM runs ORDER BY created DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [self._load(r[0], r[1]) for r in rows]

    def count(self) -> int:
        if not self._table:
            return 0
        with guarded(self.path):
            return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def _load(self, run_id: str, text: str) -> RunRecord:
        """A stored record, validated (`agent.run.record_schema`): `DamagedRecord` naming
        the run and the field when it does not match."""
        try:
            return _load(text)
        except BadRecord as exc:  # edited by hand, or its bytes were damaged
            raise DamagedRecord(
                f"run {run_id!r} in {self.path} cannot be read: {exc}; the other runs are "
                "unaffected"
            ) from None


def _fields(r: RunRecord) -> dict:
    return asdict(r)


def _load(text: str) -> RunRecord:
    d = check_record(text)
    d["decisions"] = tuple(
        Decision(**{**x, "verdicts": tuple(x.get("verdicts", ()))}) for x in d["decisions"]
    )
    d["plan"] = tuple(d["plan"])
    for key in ("atoms", "objects", "scene"):
        d[key] = tuple(d.get(key, ()))
    d["skills"] = tuple(d["skills"])
    return RunRecord(**d)
