"""Exploration's history in the data home's database (`skillgrove.db`, component "explore").

Two tables, brought to the code's schema by `skills.db` migrations like the others:

- `explore_sessions`: one row per `learn --explore` invocation (options, the process
  running it, status: running, done, interrupted (Ctrl-C: its summary stored) or killed
  (its process ended without closing it: kill -9, a crash, a lost machine; found by the
  next session on that host, or shown so by `read_home`); its summary when it ends);
- `explore_episodes`: one row per episode (the template, why it was chosen, the goal,
  the scene, the simulator's verdict, the false atoms, the run's id and status, the
  library's size after it) and per proposal dropped before running (with the reason).

Each row is written in its own transaction as soon as its episode ends, so an interrupt
(Ctrl-C, kill -9) loses at most the episode under way; a later session reads the
history back (`histories`) and goes on from it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from agent.explore.competence import History
from skills.db import DB_NAME, Migration, connect_read_only, guarded, missing_tables, open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS explore_sessions (
    id TEXT PRIMARY KEY,
    started REAL NOT NULL,
    finished REAL,
    status TEXT NOT NULL,
    options TEXT NOT NULL,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS explore_episodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT NOT NULL,
    created REAL NOT NULL,
    kind TEXT NOT NULL,
    template TEXT NOT NULL,
    goal TEXT NOT NULL,
    instruction TEXT NOT NULL,
    objects TEXT NOT NULL,
    seed INTEGER NOT NULL,
    distractors INTEGER NOT NULL,
    rule TEXT NOT NULL,
    why TEXT NOT NULL,
    success INTEGER,
    status TEXT NOT NULL,
    reason TEXT,
    false_atoms TEXT NOT NULL,
    decisions TEXT NOT NULL,
    run_id TEXT,
    seconds REAL NOT NULL,
    library_size INTEGER,
    perception TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS explore_episodes_template ON explore_episodes(template, id);
"""
COMPONENT = "explore"
# Append only: each shipped step stays as it is (tests/test_upgrade.py opens old homes).
MIGRATIONS = (
    Migration(1, "exploration sessions and episodes", SCHEMA, needed_to_read=False),
    Migration(
        2,
        "the process running a session (to tell a killed session from a running one)",
        "ALTER TABLE explore_sessions ADD COLUMN pid INTEGER;"
        "ALTER TABLE explore_sessions ADD COLUMN host TEXT",
        needed_to_read=False,
    ),
)
TABLES = frozenset({"explore_sessions", "explore_episodes"})
EPISODE_COLUMNS = (
    "id, session, created, kind, template, goal, instruction, objects, seed, distractors, "
    "rule, why, success, status, reason, false_atoms, decisions, run_id, seconds, "
    "library_size, perception"
)
_KEYS = tuple(k.strip() for k in EPISODE_COLUMNS.split(","))


def episode_dict(row) -> dict:
    """A row of `explore_episodes` as a dict (JSON columns read)."""
    d = dict(zip(_KEYS, row, strict=True))
    d["false_atoms"] = json.loads(d["false_atoms"])
    d["decisions"] = json.loads(d["decisions"])
    d["success"] = None if d["success"] is None else bool(d["success"])
    return d


class ExploreStore:
    """The exploration tables of `<home>/skillgrove.db` (created and migrated on open)."""

    def __init__(self, home: str | Path) -> None:
        self.path = Path(home) / DB_NAME
        self._db = open_db(self.path, component=COMPONENT, migrations=MIGRATIONS)

    def close(self) -> None:
        self._db.close()

    def start_session(self, session: str, options: dict) -> None:
        """Store a new running session (this process's); first close, as killed, the
        sessions of this host still marked running whose process is gone."""
        host = socket.gethostname()
        with guarded(self.path):
            rows = self._db.execute(
                "SELECT id, pid, host FROM explore_sessions WHERE status = 'running'"
            ).fetchall()
            for sid, pid, where in rows:
                if _status("running", pid, where) == "killed":
                    self._db.execute(
                        "UPDATE explore_sessions SET status = 'killed', finished = COALESCE("
                        "(SELECT MAX(created) FROM explore_episodes WHERE session = ?), started)"
                        " WHERE id = ?",
                        (sid, sid),
                    )
            self._db.execute(
                "INSERT INTO explore_sessions (id, started, status, options, pid, host)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (session, time.time(), "running", json.dumps(options), os.getpid(), host),
            )

    def end_session(self, session: str, status: str, summary: dict) -> None:
        with guarded(self.path):
            self._db.execute(
                "UPDATE explore_sessions SET finished = ?, status = ?, summary = ? WHERE id = ?",
                (time.time(), status, json.dumps(summary), session),
            )

    def add(self, row: dict) -> int:
        """Store one episode or dropped proposal (its own transaction); returns its id."""
        values = dict(row)
        values["false_atoms"] = json.dumps(values.get("false_atoms", []))
        values["decisions"] = json.dumps(values.get("decisions", []))
        values["success"] = None if values.get("success") is None else int(values["success"])
        values.setdefault("created", time.time())
        keys = [k for k in _KEYS if k != "id"]
        with guarded(self.path):
            cur = self._db.execute(
                f"INSERT INTO explore_episodes ({', '.join(keys)}) "
                f"VALUES ({', '.join('?' for _ in keys)})",
                tuple(values.get(k) for k in keys),
            )
        return int(cur.lastrowid)

    def count(self, kind: str | None = None) -> int:
        """Rows stored (episodes and drops, or only `kind`)."""
        sql, args = "SELECT COUNT(*) FROM explore_episodes", ()
        if kind is not None:
            sql, args = sql + " WHERE kind = ?", (kind,)
        with guarded(self.path):
            return int(self._db.execute(sql, args).fetchone()[0])

    def episodes(self, session: str | None = None) -> list[dict]:
        """Every row in order (of one session when given)."""
        return read_episodes(self._db, self.path, session)

    def histories(self, templates: list[str]) -> list[History]:
        """Each template's `History` from every session so far."""
        return histories(self.episodes(), templates)


def read_episodes(db, path: Path, session: str | None = None) -> list[dict]:
    sql = f"SELECT {EPISODE_COLUMNS} FROM explore_episodes"
    args: tuple = ()
    if session is not None:
        sql, args = sql + " WHERE session = ?", (session,)
    with guarded(path):
        return [episode_dict(r) for r in db.execute(sql + " ORDER BY id", args)]


def histories(rows: list[dict], templates: list[str]) -> list[History]:
    """Each template's `History` from stored rows (in order)."""
    out = []
    for t in templates:
        mine = [r for r in rows if r["template"] == t]
        eps = [r for r in mine if r["kind"] == "episode"]
        drops = 0
        for r in reversed(mine):
            if r["kind"] != "dropped":
                break
            drops += 1
        out.append(
            History(
                t,
                tuple(bool(r["success"]) for r in eps),
                tuple(r["status"] for r in eps),
                drops,
                mine[-1]["reason"] if drops else "",
                eps[-1]["id"] if eps else -1,
                eps[-1]["library_size"] if eps else None,
            )
        )
    return out


def alive(pid: int) -> bool:
    """Whether process `pid` exists on this host (a reused pid reads as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _status(status: str, pid: int | None, host: str | None) -> str:
    """A session's status as stored, or "killed" when it says running and its process on
    this host is gone."""
    if status == "running" and pid is not None and host == socket.gethostname():
        return status if alive(pid) else "killed"
    return status


def read_home(home: Path) -> tuple[list[dict], list[dict]]:
    """(sessions, episode rows) of a home, read without writing; empty when there are none."""
    path = Path(home) / DB_NAME
    if not path.is_file():
        return [], []
    db = connect_read_only(path)
    try:
        with guarded(path):
            if missing_tables(db, TABLES):
                return [], []
            sessions = [
                {
                    "id": r[0],
                    "started": r[1],
                    "finished": r[2],
                    "status": _status(r[3], *r[6:8]),
                    "options": json.loads(r[4]),
                    "summary": json.loads(r[5]) if r[5] else None,
                }
                for r in db.execute(
                    "SELECT id, started, finished, status, options, summary, pid, host "
                    "FROM explore_sessions ORDER BY started"
                )
            ]
        return sessions, read_episodes(db, path)
    finally:
        db.close()
