"""Salvaging a damaged library database: every readable row into a fresh file.

`check_file` runs SQLite's quick check read-only; `salvage` copies what can be read
(row by row past damaged pages), keeps the damaged file beside the new one, and makes
the skill tables agree again. `SkillLibrary.doctor` and `open_library(salvage=True)`
call it under the library's write lock.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

from skills.errors import SkillError
from skills.store_schema import TABLES


def check_file(path: Path) -> str | None:
    """SQLite's quick check of the database file at `path`, read-only: None when it passes
    (or there is no file), else its first complaint."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    first = rows[0][0] if rows else "ok"
    return None if first == "ok" else " ".join(str(first).split())[:200]


def salvage(path: Path) -> dict:
    """Copy every readable row of the damaged database `path` into a fresh file, put that
    in its place and keep the damaged one beside it (`<name>.damaged-<time>`, with its
    `-wal`). Rows on damaged pages are skipped; a skill whose versions survived but whose
    `skills` row did not gets that row back (uses 0); stats of a lost version are dropped.

    The caller holds the library's write lock and has closed its connections.

    Returns:
        {"kept": {table: rows copied}, "unreadable_rows": {table: rows whose reading
        failed (rows on a page damaged past recognition are not counted)}, "lost_skills": names of skills none of whose versions could be
        read, "damaged_copy": path of the kept damaged file}.

    Raises:
        SkillError: the schema itself cannot be read (nothing can be salvaged; nothing
            was changed).
    """
    path = Path(path)
    fresh = path.with_name(path.name + ".salvage")
    for leftover in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
        leftover.unlink(missing_ok=True)
    kept: dict[str, int] = {}
    gaps: dict[str, int] = {}
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as src:
        try:
            schema = src.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index'"
            ).fetchall()
        except sqlite3.Error as exc:
            raise SkillError(
                f"the library database {path} is damaged beyond salvage ({exc}): it is left as it "
                "is; restore it from a copy, or import a bundle exported earlier (`skillgrove skills import`)"
            ) from None
        with closing(sqlite3.connect(fresh, isolation_level=None)) as dst:
            dst.execute("BEGIN")
            for _, _, sql in schema:
                dst.execute(sql)
            tables = [name for kind, name, _ in schema if kind == "table"]
            for name in tables:
                kept[name], gaps[name] = _copy_rows(src, dst, name)
            lost = _reconcile(dst) if set(tables) >= TABLES else []
            dst.execute("COMMIT")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    path.replace(aside)
    # the damaged file's journal must not pair with the new file: it goes with the damaged
    # one (its -shm is only an index of it, rebuilt on open)
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if wal.exists():
        wal.replace(Path(f"{aside}-wal"))
    shm.unlink(missing_ok=True)
    fresh.replace(path)
    return {
        "kept": kept,
        "unreadable_rows": gaps,
        "lost_skills": lost,
        "damaged_copy": str(aside),
    }


SALVAGE_MAX_ROWID = 10_000_000  # row-by-row salvage looks this far at most


def _copy_rows(src: sqlite3.Connection, dst: sqlite3.Connection, table: str) -> tuple[int, int]:
    """Copy `table`: in one scan when it reads through, else row by row by rowid (a scan
    stops at the first damaged page; a lookup by rowid reaches the rows beyond it).

    Returns (rows copied, rows whose reading failed)."""
    quoted = '"' + table.replace('"', '""') + '"'
    try:
        rows = src.execute(f"SELECT * FROM {quoted} ORDER BY rowid").fetchall()
    except sqlite3.Error:
        rows = None
    if rows is not None:
        for row in rows:
            dst.execute(f"INSERT OR IGNORE INTO {quoted} VALUES ({','.join('?' * len(row))})", row)
        return len(rows), 0
    try:
        top = src.execute(f"SELECT MAX(rowid) FROM {quoted}").fetchone()[0]
    except sqlite3.Error:
        top = None
    kept = failed = 0
    for rowid in range(1, min(top or SALVAGE_MAX_ROWID, SALVAGE_MAX_ROWID) + 1):
        try:
            row = src.execute(f"SELECT * FROM {quoted} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.Error:
            failed += 1
            continue
        if row is not None:
            dst.execute(f"INSERT OR IGNORE INTO {quoted} VALUES ({','.join('?' * len(row))})", row)
            kept += 1
    return kept, failed


def _reconcile(db: sqlite3.Connection) -> list[str]:
    """Make salvaged skill tables agree: skills rows for surviving versions, no orphan stats.

    Returns the skills none of whose versions could be read (they are dropped)."""
    lost = [
        r[0]
        for r in db.execute(
            "SELECT name FROM skills WHERE name NOT IN (SELECT name FROM skill_versions) ORDER BY name"
        )
    ]
    db.execute(
        "INSERT INTO skills(name, created, updated, uses) SELECT name, MIN(created), MAX(created), 0 "
        "FROM skill_versions WHERE name NOT IN (SELECT name FROM skills) GROUP BY name"
    )
    db.execute("DELETE FROM skills WHERE name NOT IN (SELECT name FROM skill_versions)")
    db.execute(
        "DELETE FROM skill_stats WHERE NOT EXISTS (SELECT 1 FROM skill_versions v "
        "WHERE v.name = skill_stats.name AND v.version = skill_stats.version)"
    )
    db.execute(
        "INSERT INTO library_meta(key, value) VALUES('generation', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )
    db.execute("INSERT OR IGNORE INTO library_meta(key, value) VALUES('seeded', 'salvaged')")
    db.execute("INSERT OR REPLACE INTO library_meta(key, value) VALUES('index_stale', 'salvaged')")
    return lost
