"""The skill store: SQLite, the source of truth of the library.

The tables and their migrations are in `skills.store_schema`; the typed records the
store returns in `skills.model`; opening, migrating and the one-line errors of every
data home database in `skills.db`; salvaging a damaged file in `skills.salvage`. The
names they define are importable from here too, where the code has always found them.

The store does no locking of its own beyond SQLite's: `SkillLibrary` holds the
single-writer file lock around writes. Every write is one SQLite transaction.

Opening applies missing migrations (one transaction); reading writes nothing, so a
read-only database, directory or file system still lists, shows and searches.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skills.db import (
    DB_NAME,
    DOCTOR,
    Migration,
    damaged,
    guarded,
    missing_tables,
    open_db,
    store_error,
)
from skills.errors import SkillError
from skills.model import (
    AUTHORS,
    GOAL_LINE,
    NAME_RE,
    STAGES,
    Param,
    ParsedSource,
    SkillInfo,
    SkillVersion,
    check_author,
    check_name,
    content_hash,
    parse_source,
    summary,
)
from skills.salvage import check_file, salvage
from skills.store_schema import COMPONENT, MIGRATIONS, SCHEMA, TABLES

__all__ = [
    "AUTHORS",
    "DB_NAME",
    "DOCTOR",
    "GOAL_LINE",
    "MIGRATIONS",
    "NAME_RE",
    "SCHEMA",
    "STAGES",
    "TABLES",
    "Migration",
    "Param",
    "ParsedSource",
    "SkillInfo",
    "SkillStore",
    "SkillVersion",
    "check_author",
    "check_file",
    "check_name",
    "content_hash",
    "damaged",
    "guarded",
    "missing_tables",
    "open_db",
    "parse_source",
    "salvage",
    "store_error",
    "summary",
]


class SkillStore:
    """SQLite access to the skill tables of the data home.

    Args:
        path: the database file (created with its tables if missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = open_db(self.path, component=COMPONENT, migrations=MIGRATIONS)
        self._mutex = threading.RLock()

    def close(self) -> None:
        self._db.close()

    # -- transactions --------------------------------------------------------------------
    @contextmanager
    def transaction(self, bump: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolls back on error.

        Args:
            bump: increment the generation counter (what is searched has changed).
        """
        with self._mutex, guarded(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                if bump:
                    self._db.execute(
                        "INSERT INTO library_meta(key, value) VALUES('generation', '1') "
                        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                    )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT may have rolled back already
                    self._db.execute("ROLLBACK")
                raise

    def _rows(self, sql: str, args: tuple = ()) -> list[dict]:
        with self._mutex, guarded(self.path):
            cur = self._db.execute(sql, args)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def integrity(self) -> str | None:
        """None when SQLite's quick check passes, else its first complaint."""
        try:
            with self._mutex:
                rows = self._db.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            return str(exc)
        first = rows[0][0] if rows else "ok"
        return None if first == "ok" else str(first)

    def generation(self) -> int:
        """A counter bumped by every committed write (from any process)."""
        rows = self._rows("SELECT value FROM library_meta WHERE key = 'generation'")
        return int(rows[0]["value"]) if rows else 0

    def meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM library_meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def library_id(self) -> str:
        """A random id given to this library when first asked (names its index collection)."""
        found = self.meta("library_id")
        if found is not None:  # read first: a read-only database has one already
            return found
        with self._mutex, guarded(self.path):
            self._db.execute(
                "INSERT OR IGNORE INTO library_meta(key, value) VALUES('library_id', ?)",
                (uuid.uuid4().hex[:12],),
            )
        return str(self.meta("library_id"))

    @staticmethod
    def set_meta(tx: sqlite3.Connection, key: str, value: str) -> None:
        tx.execute("INSERT OR REPLACE INTO library_meta(key, value) VALUES(?, ?)", (key, value))

    # -- writes (call inside `transaction()`) --------------------------------------------
    @staticmethod
    def insert_version(tx: sqlite3.Connection, v: SkillVersion, uses: int = 0) -> None:
        """Insert `v` (its skill row too, when new)."""
        tx.execute(
            "INSERT INTO skills(name, created, updated, uses) VALUES(?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET updated = excluded.updated",
            (v.name, v.created, v.created, uses),
        )
        tx.execute(
            "INSERT INTO skill_versions VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                v.name,
                v.version,
                v.code,
                v.description,
                json.dumps(list(v.examples)),
                json.dumps([p.__dict__ for p in v.params]),
                v.author,
                int(v.verified),
                v.stage,
                v.parent[0] if v.parent else None,
                v.parent[1] if v.parent else None,
                v.content_hash,
                v.created,
            ),
        )
        for fam, (episodes, successes) in v.stats.items():
            SkillStore.put_stats(tx, v.name, v.version, fam, episodes, successes)

    @staticmethod
    def put_stats(
        tx: sqlite3.Connection, name: str, version: int, family: str, episodes: int, successes: int
    ) -> None:
        if not 0 <= successes <= episodes:
            raise SkillError(f"bad stats for {name} v{version} on {family}: {successes}/{episodes}")
        tx.execute(
            "INSERT OR REPLACE INTO skill_stats VALUES(?, ?, ?, ?, ?, ?)",
            (name, version, family, int(episodes), int(successes), time.time()),
        )

    # -- reads ---------------------------------------------------------------------------
    def names(self) -> list[str]:
        return [r["name"] for r in self._rows("SELECT name FROM skills ORDER BY name")]

    def next_version(self, name: str) -> int:
        rows = self._rows("SELECT MAX(version) AS v FROM skill_versions WHERE name = ?", (name,))
        return int(rows[0]["v"] or 0) + 1

    def version(self, name: str, version: int | None = None) -> SkillVersion | None:
        """One version (the latest when `version` is None), or None."""
        if version is None:
            rows = self._rows(
                "SELECT * FROM skill_versions WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
            )
        else:
            rows = self._rows(
                "SELECT * FROM skill_versions WHERE name = ? AND version = ?", (name, version)
            )
        return self._version(rows[0]) if rows else None

    def versions(self, name: str) -> list[SkillVersion]:
        rows = self._rows("SELECT * FROM skill_versions WHERE name = ? ORDER BY version", (name,))
        return [self._version(r) for r in rows]

    def latest_versions(
        self, names: list[str] | None = None, with_stats: bool = True
    ) -> list[SkillVersion]:
        """The latest version of every skill (without stats), or of `names`, by name."""
        if names is not None:  # a primary-key lookup per name: fast at any library size
            sql = (
                f"SELECT * FROM skill_versions v WHERE name IN ({','.join('?' * len(names))}) AND version = "
                "(SELECT MAX(version) FROM skill_versions w WHERE w.name = v.name) ORDER BY name"
            )
            return [self._version(r, with_stats) for r in self._rows(sql, tuple(names))]
        sql = (
            "SELECT v.* FROM skill_versions v JOIN (SELECT name, MAX(version) AS mv FROM skill_versions "
            "GROUP BY name) m ON v.name = m.name AND v.version = m.mv ORDER BY v.name"
        )
        return [self._version(r, with_stats=False) for r in self._rows(sql)]

    def entry_count(self) -> int:
        """How many index entries the latest versions imply (1 + examples each)."""
        sql = (
            "SELECT COALESCE(SUM(json_array_length(v.examples) + 1), 0) AS n FROM skill_versions v JOIN "
            "(SELECT name, MAX(version) AS mv FROM skill_versions GROUP BY name) m "
            "ON v.name = m.name AND v.version = m.mv"
        )
        return int(self._rows(sql)[0]["n"])

    def info(self, name: str) -> SkillInfo | None:
        rows = self._rows("SELECT * FROM skills WHERE name = ?", (name,))
        latest = self.version(name)
        if not rows or latest is None:
            return None
        r = rows[0]
        n = self._rows("SELECT COUNT(*) AS n FROM skill_versions WHERE name = ?", (name,))[0]["n"]
        return SkillInfo(latest, n, r["uses"], r["created"], r["updated"], r["last_used"])

    def infos(self) -> list[SkillInfo]:
        skills = {r["name"]: r for r in self._rows("SELECT * FROM skills")}
        counts = {
            r["name"]: r["n"]
            for r in self._rows("SELECT name, COUNT(*) AS n FROM skill_versions GROUP BY name")
        }
        out = []
        for v in self.latest_versions():
            r = skills[v.name]
            out.append(
                SkillInfo(v, counts[v.name], r["uses"], r["created"], r["updated"], r["last_used"])
            )
        return out

    def _version(self, r: dict, with_stats: bool = True) -> SkillVersion:
        stats = {}
        if with_stats:
            for s in self._rows(
                "SELECT family, episodes, successes FROM skill_stats WHERE name = ? AND version = ?",
                (r["name"], r["version"]),
            ):
                stats[s["family"]] = (s["episodes"], s["successes"])
        parent = (r["parent_name"], r["parent_version"]) if r["parent_name"] else None
        try:
            return SkillVersion(
                r["name"],
                r["version"],
                r["code"],
                r["description"],
                tuple(json.loads(r["examples"])),
                tuple(Param(**p) for p in json.loads(r["params"])),
                r["author"],
                bool(r["verified"]),
                r["stage"],
                parent,
                r["content_hash"],
                r["created"],
                stats,
            )
        except (TypeError, ValueError) as exc:  # a row whose bytes were damaged on disk
            what = f"{r.get('name')!r} v{r.get('version')} cannot be read: {type(exc).__name__}"
            raise store_error(self.path, damaged(what)) from None
