"""The vector index of a data home: vectors in one SQLite file, exact cosine search in numpy.

Written by hand because what it replaces costs more than it does: importing chromadb
alone takes 0.75 s on two cores (most of the 1 s a cold `skills search` may take), and
Python's sqlite3 here cannot load extensions (sqlite-vec). Exact search needs no
approximate structure at this size: 30k entries (10k skills) x 384 dimensions are one
matrix product of about 1 ms, and it never misses a neighbour. Chroma stays the index of
a shared library server (`ChromaIndex` with a URL).

The file is `<home>/index/<collection>.sqlite`, derived from the store like any index
(on a shared Postgres store too: each machine's file follows the shared store, by the
store generation it was built at, `meta` key `generation`): `doctor` resets a damaged
or deleted one and rebuilds it. Several processes may use it at once: every write is one
`BEGIN IMMEDIATE` transaction, made under the library's write lock. Each process keeps the matrix
in memory and reloads it when a counter that every write bumps has moved (writes from
other processes included).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from skills.errors import SkillError
from skills.index import Hit, IndexEntry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL,
                                    hash TEXT NOT NULL, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
# a cache of the goal channel, made at its first write: an index file that predates it
# (or cannot be written) still opens and searches
_READINGS = "CREATE TABLE IF NOT EXISTS goal_readings (key TEXT PRIMARY KEY, template TEXT)"
_CHUNK = 500  # ids per `IN (...)`: below SQLite's variable limit
# Rows per matrix-vector product. OpenBLAS runs a product this small on one thread; the
# whole 30k x 384 matrix at once ran on both cores and took 12-16 ms instead of 2-3 ms on
# a busy two-core machine (its threads spin-wait for a core, as torch's do).
_BLOCK = 1024


class LocalIndex:
    """Exact cosine search over the vectors of an SQLite file.

    Args:
        collection: names the file (one per embedder and library, as Chroma's collections).
        path: the directory holding it (`<home>/index`), created on first use.
    """

    def __init__(self, collection: str, path: Path) -> None:
        self.name = collection
        self.path = Path(path)
        self.file = self.path / f"{collection}.sqlite"
        self._db: sqlite3.Connection | None = None
        self._cache: tuple[int, list[str], list[str], list[int], np.ndarray] | None = None

    def __repr__(self) -> str:
        return f"LocalIndex({self.name!r}, {str(self.path)!r})"

    # -- connection ----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._db is not None and not self.file.exists():
            self.close()  # deleted under us: start afresh
        if self._db is None:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.file, timeout=30.0, isolation_level=None)
                db.executescript(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise SkillError(
                    f"the index at {self.file} cannot be opened ({exc}); run `skillgrove skills doctor`"
                ) from None
            self._db = db
        return self._db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute(
                "INSERT INTO meta VALUES('changes', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1"
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._cache = None

    def _matrix(self) -> tuple[list[str], list[str], list[int], np.ndarray]:
        db = self._conn()
        row = db.execute("SELECT value FROM meta WHERE key = 'changes'").fetchone()
        changes = int(row[0]) if row else 0
        if self._cache is None or self._cache[0] != changes:
            rows = db.execute(
                "SELECT id, name, version, vector FROM entries ORDER BY rowid"
            ).fetchall()
            blob = b"".join(r[3] for r in rows)
            matrix = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), -1) if rows else None
            self._cache = (
                changes,
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
                matrix if matrix is not None else np.zeros((0, 0), np.float32),
            )
        return self._cache[1:]

    def close(self) -> None:
        db, self._db, self._cache = self._db, None, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()

    # -- interface -----------------------------------------------------------------------
    def upsert(self, entries: Sequence[IndexEntry]) -> None:
        rows = [
            (e.id, e.name, int(e.version), e.hash, np.asarray(e.vector, dtype=np.float32).tobytes())
            for e in entries
        ]
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO entries VALUES(?, ?, ?, ?, ?)", rows)

    def delete(self, ids: Sequence[str]) -> None:
        with self._write() as db:
            for s in range(0, len(ids), _CHUNK):
                part = list(ids[s : s + _CHUNK])
                db.execute(f"DELETE FROM entries WHERE id IN ({','.join('?' * len(part))})", part)

    def query(self, vector: np.ndarray, n: int) -> list[Hit]:
        ids, names, versions, m = self._matrix()
        if not ids:
            return []
        v = np.asarray(vector, dtype=np.float32)
        sims = np.concatenate([m[s : s + _BLOCK] @ v for s in range(0, len(m), _BLOCK)])
        n = min(max(1, n), len(ids))
        top = np.argpartition(-sims, n - 1)[:n]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [Hit(ids[j], names[j], versions[j], float(sims[j])) for j in top]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, list[np.ndarray]] = {}
        db = self._conn()
        for s in range(0, len(ids), _CHUNK):
            part = list(ids[s : s + _CHUNK])
            sql = f"SELECT name, vector FROM entries WHERE id IN ({','.join('?' * len(part))})"
            for name, blob in db.execute(sql, part):
                out.setdefault(name, []).append(np.frombuffer(blob, dtype=np.float32))
        return {n: np.stack(v) for n, v in out.items()}

    def goal_readings(self, keys: set[str]) -> dict[str, str | None]:
        """Cached goal readings of skill descriptions (`skills.goal_channel`) among `keys`."""
        try:
            rows = self._conn().execute("SELECT key, template FROM goal_readings").fetchall()
        except sqlite3.OperationalError:  # no cache yet (made at the first write)
            return {}
        return {k: t for k, t in rows if k in keys}

    def put_goal_readings(self, readings: dict[str, str | None]) -> None:
        """Cache goal readings (None: the reader refused); not a change of the vectors."""
        db = self._conn()
        try:  # a cache: a busy or read-only file only means reading again next time
            db.execute("BEGIN IMMEDIATE")
            db.execute(_READINGS)
            db.executemany("INSERT OR REPLACE INTO goal_readings VALUES(?, ?)", readings.items())
            db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")

    def entries(self) -> dict[str, tuple[str, int, str]]:
        rows = self._conn().execute("SELECT id, name, version, hash FROM entries").fetchall()
        return {i: (n, int(v), h) for i, n, v, h in rows}

    def built_at(self) -> int | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else None

    def mark_built(self, generation: int) -> None:
        """Keep the store generation the entries were built at (not a change of the vectors)."""
        self._conn().execute(
            "INSERT INTO meta VALUES('generation', ?) ON CONFLICT(key) DO UPDATE SET value = ?",
            (int(generation), int(generation)),
        )

    def count(self) -> int:
        try:
            return int(self._conn().execute("SELECT COUNT(*) FROM entries").fetchone()[0])
        except sqlite3.Error as exc:
            raise SkillError(f"the index at {self.file} cannot be read ({exc})") from None

    def reset(self) -> None:
        """Delete the file (and its journal) and start an empty one."""
        self.close()
        for f in (self.file, self.file.with_name(self.file.name + "-journal")):
            f.unlink(missing_ok=True)
        self._conn()
