"""The skill store: the source of truth of the library, on SQLAlchemy Core.

By default the SQLite file `<home>/skillgrove.db` (read and written as it always was:
`skills.engine.sqlite_engine`); with a URL (`postgresql+psycopg://...`) a Postgres
database that several machines share (`skills.engine.server_engine`).

The tables and their migrations are in `skills.store_schema`; the typed records the
store returns in `skills.model`; opening, migrating and the one-line errors of every
data home database in `skills.db`; salvaging a damaged file in `skills.salvage`. The
names they define are importable from here too, where the code has always found them.

The store does no locking of its own beyond the database's: `SkillLibrary` holds the
single-writer lock around writes (a file lock, or an advisory lock on Postgres). Every
write is one transaction (`BEGIN IMMEDIATE` on SQLite).

Opening applies missing migrations (one transaction); reading writes nothing, so a
read-only database, directory or file system still lists, shows and searches.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

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
from skills.engine import (
    begin_write,
    guard,
    insert,
    masked,
    migrate_engine,
    server_engine,
    sqlite_engine,
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
from skills.store_schema import COMPONENT, META, MIGRATIONS, SCHEMA, SKILLS, STATS, TABLES, VERSIONS

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
    """The skill tables, on the data home's SQLite file or a Postgres server.

    Args:
        path: the SQLite file (created with its tables if missing), or
        url: a Postgres URL (`postgresql+psycopg://...`; its tables are made if missing).
    """

    def __init__(self, path: Path | None = None, *, url: str | None = None) -> None:
        self.url = url or None
        self.path = None if self.url else Path(path)
        if self.url:
            self.where = masked(self.url)
            self.engine = server_engine(self.url)
            migrate_engine(self.engine, self.url, COMPONENT, MIGRATIONS)
        else:
            self.where = str(self.path)
            open_db(self.path, component=COMPONENT, migrations=MIGRATIONS).close()
            self.engine = sqlite_engine(self.path)
        self._mutex = threading.RLock()
        self.last_generation: int | None = None  # set by each committed bumping write

    @property
    def server(self) -> bool:
        """Whether the store is on a server (shared by machines) rather than a home file."""
        return self.url is not None

    def close(self) -> None:
        self.engine.dispose()

    def _guard(self):
        return guard(self.path, self.url)

    # -- transactions --------------------------------------------------------------------
    @contextmanager
    def transaction(self, bump: bool = True) -> Iterator[sa.Connection]:
        """One write transaction; rolls back on error.

        Args:
            bump: increment the generation counter (what is searched has changed); the
                new value is `last_generation` once committed.
        """
        with self._mutex, self._guard(), begin_write(self.engine) as tx:
            yield tx
            if bump:
                stmt = insert(tx, META).values(key="generation", value="1")
                tx.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["key"],
                        set_={"value": sa.cast(sa.cast(META.c.value, sa.Integer) + 1, sa.Text)},
                    )
                )
                gen = tx.execute(sa.select(META.c.value).where(META.c.key == "generation"))
                self.last_generation = int(gen.scalar_one())

    def _rows(self, stmt, args: dict | None = None) -> list[dict]:
        if isinstance(stmt, str):
            stmt = sa.text(stmt)
        with self._mutex, self._guard(), self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt, args or {})]

    def integrity(self) -> str | None:
        """None when SQLite's quick check passes (always on a server), else its first complaint."""
        if self.server:
            return None
        try:
            with self._mutex, self.engine.connect() as conn:
                rows = conn.exec_driver_sql("PRAGMA quick_check").fetchall()
        except sa.exc.DBAPIError as exc:
            return str(exc.orig)
        first = rows[0][0] if rows else "ok"
        return None if first == "ok" else str(first)

    def generation(self) -> int:
        """A counter bumped by every committed write (from any process, any machine)."""
        value = self.meta("generation")
        return int(value) if value is not None else 0

    def meta(self, key: str) -> str | None:
        rows = self._rows(sa.select(META.c.value).where(META.c.key == key))
        return rows[0]["value"] if rows else None

    def library_id(self) -> str:
        """A random id given to this library when first asked (names its index collection)."""
        found = self.meta("library_id")
        if found is not None:  # read first: a read-only database has one already
            return found
        with self._mutex, self._guard(), begin_write(self.engine) as tx:
            stmt = insert(tx, META).values(key="library_id", value=uuid.uuid4().hex[:12])
            tx.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
        return str(self.meta("library_id"))

    @staticmethod
    def set_meta(tx: sa.Connection, key: str, value: str) -> None:
        stmt = insert(tx, META).values(key=key, value=value)
        tx.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))

    @staticmethod
    def del_meta(tx: sa.Connection, key: str) -> None:
        tx.execute(sa.delete(META).where(META.c.key == key))

    # -- writes (call inside `transaction()`) --------------------------------------------
    @staticmethod
    def insert_version(tx: sa.Connection, v: SkillVersion, uses: int = 0) -> None:
        """Insert `v` (its skill row too, when new)."""
        stmt = insert(tx, SKILLS).values(
            name=v.name, created=v.created, updated=v.created, uses=uses
        )
        tx.execute(
            stmt.on_conflict_do_update(
                index_elements=["name"], set_={"updated": stmt.excluded.updated}
            )
        )
        tx.execute(
            sa.insert(VERSIONS).values(
                name=v.name,
                version=v.version,
                code=v.code,
                description=v.description,
                examples=json.dumps(list(v.examples)),
                params=json.dumps([p.__dict__ for p in v.params]),
                author=v.author,
                verified=int(v.verified),
                stage=v.stage,
                parent_name=v.parent[0] if v.parent else None,
                parent_version=v.parent[1] if v.parent else None,
                content_hash=v.content_hash,
                created=v.created,
            )
        )
        for fam, (episodes, successes) in v.stats.items():
            SkillStore.put_stats(tx, v.name, v.version, fam, episodes, successes)

    @staticmethod
    def put_stats(
        tx: sa.Connection, name: str, version: int, family: str, episodes: int, successes: int
    ) -> None:
        if not 0 <= successes <= episodes:
            raise SkillError(f"bad stats for {name} v{version} on {family}: {successes}/{episodes}")
        row = {"episodes": int(episodes), "successes": int(successes), "updated": time.time()}
        stmt = insert(tx, STATS).values(name=name, version=version, family=family, **row)
        tx.execute(
            stmt.on_conflict_do_update(index_elements=["name", "version", "family"], set_=row)
        )

    @staticmethod
    def set_version(tx: sa.Connection, name: str, version: int, **values) -> int:
        """Update columns of one version (stage, verified); returns the rows changed."""
        stmt = sa.update(VERSIONS).where(VERSIONS.c.name == name, VERSIONS.c.version == version)
        return tx.execute(stmt.values(**values)).rowcount

    @staticmethod
    def delete_skill(tx: sa.Connection, name: str) -> None:
        """Delete a skill, its versions and their stats."""
        tx.execute(sa.delete(STATS).where(STATS.c.name == name))
        tx.execute(sa.delete(VERSIONS).where(VERSIONS.c.name == name))
        tx.execute(sa.delete(SKILLS).where(SKILLS.c.name == name))

    @staticmethod
    def count_use(tx: sa.Connection, name: str) -> int:
        """Count one reuse of a skill; returns the rows changed (0: no such skill)."""
        stmt = sa.update(SKILLS).where(SKILLS.c.name == name)
        return tx.execute(stmt.values(uses=SKILLS.c.uses + 1, last_used=time.time())).rowcount

    # -- reads ---------------------------------------------------------------------------
    def names(self) -> list[str]:
        return [r["name"] for r in self._rows(sa.select(SKILLS.c.name).order_by(SKILLS.c.name))]

    def next_version(self, name: str, tx: sa.Connection | None = None) -> int:
        stmt = sa.select(sa.func.max(VERSIONS.c.version).label("v")).where(VERSIONS.c.name == name)
        if tx is not None:  # inside the write transaction
            return int(tx.execute(stmt).scalar() or 0) + 1
        return int(self._rows(stmt)[0]["v"] or 0) + 1

    def version(self, name: str, version: int | None = None) -> SkillVersion | None:
        """One version (the latest when `version` is None), or None."""
        stmt = sa.select(VERSIONS).where(VERSIONS.c.name == name)
        if version is None:
            stmt = stmt.order_by(VERSIONS.c.version.desc()).limit(1)
        else:
            stmt = stmt.where(VERSIONS.c.version == version)
        rows = self._versions(self._rows(stmt))
        return rows[0] if rows else None

    def versions(self, name: str) -> list[SkillVersion]:
        stmt = sa.select(VERSIONS).where(VERSIONS.c.name == name).order_by(VERSIONS.c.version)
        return self._versions(self._rows(stmt))

    def _latest(self) -> sa.Subquery:
        return (
            sa.select(VERSIONS.c.name, sa.func.max(VERSIONS.c.version).label("mv"))
            .group_by(VERSIONS.c.name)
            .subquery()
        )

    def latest_versions(
        self, names: list[str] | None = None, with_stats: bool = True
    ) -> list[SkillVersion]:
        """The latest version of every skill (without stats), or of `names`, by name."""
        if names is not None:  # a primary-key lookup per name: fast at any library size
            w = VERSIONS.alias("w")
            newest = sa.select(sa.func.max(w.c.version)).where(w.c.name == VERSIONS.c.name)
            stmt = (
                sa.select(VERSIONS)
                .where(VERSIONS.c.name.in_(names), VERSIONS.c.version == newest.scalar_subquery())
                .order_by(VERSIONS.c.name)
            )
            return self._versions(self._rows(stmt), with_stats)
        m = self._latest()
        stmt = (
            sa.select(VERSIONS)
            .join(m, sa.and_(VERSIONS.c.name == m.c.name, VERSIONS.c.version == m.c.mv))
            .order_by(VERSIONS.c.name)
        )
        return self._versions(self._rows(stmt), with_stats=False)

    def entry_count(self) -> int:
        """How many index entries the latest versions imply (1 + examples each)."""
        m = self._latest()
        stmt = sa.select(VERSIONS.c.examples).join(
            m, sa.and_(VERSIONS.c.name == m.c.name, VERSIONS.c.version == m.c.mv)
        )
        try:
            return sum(1 + len(json.loads(r["examples"])) for r in self._rows(stmt))
        except (TypeError, ValueError):
            raise store_error(self.path, damaged("an examples list cannot be read")) from None

    def info(self, name: str) -> SkillInfo | None:
        rows = self._rows(sa.select(SKILLS).where(SKILLS.c.name == name))
        latest = self.version(name)
        if not rows or latest is None:
            return None
        r = rows[0]
        count = sa.select(sa.func.count().label("n")).where(VERSIONS.c.name == name)
        n = self._rows(count)[0]["n"]
        return SkillInfo(latest, n, r["uses"], r["created"], r["updated"], r["last_used"])

    def infos(self) -> list[SkillInfo]:
        skills = {r["name"]: r for r in self._rows(sa.select(SKILLS))}
        stmt = sa.select(VERSIONS.c.name, sa.func.count().label("n")).group_by(VERSIONS.c.name)
        counts = {r["name"]: r["n"] for r in self._rows(stmt)}
        out = []
        for v in self.latest_versions():
            r = skills[v.name]
            out.append(
                SkillInfo(v, counts[v.name], r["uses"], r["created"], r["updated"], r["last_used"])
            )
        return out

    def _versions(self, rows: list[dict], with_stats: bool = True) -> list[SkillVersion]:
        """Version rows as `SkillVersion`s, with their stats read in one query (one round
        trip to a server however many rows)."""
        stats: dict[tuple[str, int], dict] = {(r["name"], r["version"]): {} for r in rows}
        if with_stats and rows:
            stmt = sa.select(STATS).where(STATS.c.name.in_({r["name"] for r in rows}))
            for s in self._rows(stmt):
                if (s["name"], s["version"]) in stats:
                    stats[s["name"], s["version"]][s["family"]] = (s["episodes"], s["successes"])
        return [self._version(r, stats[r["name"], r["version"]]) for r in rows]

    def _version(self, r: dict, stats: dict) -> SkillVersion:
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
            raise store_error(self.path or self.where, damaged(what)) from None
