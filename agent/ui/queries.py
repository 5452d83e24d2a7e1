"""Read-only queries the pages need and the library's API does not offer cheaply.

`SkillLibrary.list()` loads every skill with its code; a page of a 10k-skill library
needs 50 rows, filtered and sorted, with summed verification stats. These queries read
the documented tables of `skills.store` and `agent.run.records` (SQLite, the data home's
`skillgrove.db`) through a read-only connection of their own, opened per call (SQLite
connections are cheap and must not cross threads).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from skills.db import connect_read_only

SORTS = {
    "name": "v.name",
    "uses": "s.uses DESC, v.name",
    "success": "(CASE WHEN st.e > 0 THEN 1.0 * st.s / st.e ELSE -1 END) DESC, v.name",
    "updated": "s.updated DESC, v.name",
}
STATUSES = ("verified", "unverified")


@dataclass(frozen=True)
class SkillRow:
    """One line of the library page: a skill's latest version and its usage."""

    name: str
    version: int
    versions: int
    description: str
    author: str
    verified: bool
    stage: str
    parent: tuple[str, int] | None
    uses: int
    updated: float
    episodes: int
    successes: int

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.episodes if self.episodes else None


@dataclass(frozen=True)
class SkillPage:
    rows: list[SkillRow]
    total: int  # skills matching the filters
    authors: list[str]  # every author in the library (for the filter)
    library_size: int


@contextmanager
def _connect(db: Path) -> Iterator[sqlite3.Connection]:
    if not Path(db).exists():
        raise FileNotFoundError(db)
    con = connect_read_only(Path(db))  # a read-only home folder too
    try:
        yield con
    finally:
        con.close()


_LATEST = """
FROM skills s
JOIN (SELECT name, MAX(version) AS mv, COUNT(*) AS n FROM skill_versions GROUP BY name) m ON m.name = s.name
JOIN skill_versions v ON v.name = m.name AND v.version = m.mv
LEFT JOIN (SELECT name, version, SUM(episodes) AS e, SUM(successes) AS s FROM skill_stats
           GROUP BY name, version) st ON st.name = v.name AND st.version = v.version
"""


def skill_page(
    db: Path,
    *,
    author: str = "",
    status: str = "",
    stage: str = "",
    sort: str = "name",
    limit: int = 50,
    offset: int = 0,
) -> SkillPage:
    """One page of skills (latest versions), filtered by author, verified status and stage."""
    where, args = [], []
    if author:
        where.append("v.author = ?")
        args.append(author)
    if status in STATUSES:
        where.append("v.verified = ?")
        args.append(int(status == "verified"))
    if stage:
        where.append("v.stage = ?")
        args.append(stage)
    cond = (" WHERE " + " AND ".join(where)) if where else ""
    order = SORTS.get(sort, SORTS["name"])
    with _connect(db) as con:
        total = con.execute(f"SELECT COUNT(*) {_LATEST}{cond}", args).fetchone()[0]
        size = con.execute("SELECT COUNT(*) FROM skills").fetchone()[0]
        authors = [
            r[0] for r in con.execute("SELECT DISTINCT author FROM skill_versions ORDER BY author")
        ]
        cur = con.execute(
            "SELECT v.name, v.version, m.n, v.description, v.author, v.verified, v.stage, v.parent_name, "
            f"v.parent_version, s.uses, s.updated, COALESCE(st.e, 0), COALESCE(st.s, 0) {_LATEST}{cond} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, int(limit), int(offset)],
        )
        rows = [
            SkillRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                bool(r[5]),
                r[6],
                (r[7], r[8]) if r[7] else None,
                r[9],
                r[10],
                r[11],
                r[12],
            )
            for r in cur
        ]
    return SkillPage(rows, total, authors, size)


def adapted_into(db: Path, name: str) -> list[tuple[str, int, int]]:
    """Versions of other skills (or later versions) adapted from `name`: (child, version, from version)."""
    with _connect(db) as con:
        cur = con.execute(
            "SELECT name, version, parent_version FROM skill_versions WHERE parent_name = ? "
            "ORDER BY name, version",
            (name,),
        )
        return [(r[0], r[1], r[2]) for r in cur]


def runs_using(db: Path, name: str, limit: int = 50) -> list[dict]:
    """The most recent runs that executed any version of `name`."""
    try:
        with _connect(db) as con:
            cur = con.execute(
                "SELECT run_id, created, instruction, family, success, json_extract(record, '$.skills') "
                "FROM runs WHERE EXISTS (SELECT 1 FROM json_each(json_extract(record, '$.skills')) "
                "WHERE value LIKE ? ESCAPE '\\') ORDER BY created DESC LIMIT ?",
                (name.replace("_", "\\_") + "@v%", int(limit)),
            )
            rows = cur.fetchall()
    except sqlite3.OperationalError:  # no runs table yet: nothing was ever run
        return []
    out = []
    for run_id, created, instruction, family, success, skills in rows:
        used = [s for s in json.loads(skills or "[]") if s.split("@v")[0] == name]
        out.append(
            {
                "run_id": run_id,
                "created": created,
                "instruction": instruction,
                "family": family,
                "success": bool(success),
                "versions": used,
            }
        )
    return out
