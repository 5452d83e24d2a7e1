"""SQLAlchemy engines of the skill store: the SQLite file of a data home, or a Postgres URL.

- `sqlite_engine(path)`: connections come from `skills.db.connect` (WAL, the read-only
  fallbacks), so an engine reads and writes the file exactly as the plain `sqlite3` code
  always has. Connections are in autocommit mode; a write transaction is an explicit
  `BEGIN IMMEDIATE` (`begin_write`), so readers never take the write lock.
- `server_engine(url)`: `postgresql+psycopg://user:password@host:port/database`.

Errors become one line in `guard`: SQLite's through `skills.db.store_error`, a server's
(unreachable, authentication, a missing database, a lost connection) through
`server_error`, naming the URL with its password masked and the next step.

`migrate_engine` is `skills.db.migrate` on a server: the same `schema_version` table and
numbering, each step's `on_engine` run in one transaction under an advisory lock.
`AdvisoryLock` is the library's write lock on a server: writers on any machine serialise.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from skills.db import Migration, check_migrations, connect, store_error
from skills.errors import SkillError

VERSION = sa.Table(
    "schema_version",
    sa.MetaData(),
    sa.Column("component", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)
# pg_advisory_lock keys (any two bigints no other program of the database uses)
MIGRATE_KEY = 0x5347_0001
WRITE_KEY = 0x5347_0002


def is_server_url(url: str | None) -> bool:
    return bool(url) and "://" in str(url)


def masked(url: str) -> str:
    """The URL as messages show it: the password replaced by ***."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL: show its scheme only
        return str(url).split("://", 1)[0] + "://..."


def sqlite_engine(path: Path) -> sa.Engine:
    """An engine over the SQLite file `path`, its connections made by `skills.db.connect`."""
    path = Path(path)
    return sa.create_engine(
        f"sqlite:///{path}", creator=lambda: connect(path), poolclass=sa.pool.QueuePool
    )


def server_engine(url: str) -> sa.Engine:
    """An engine for a Postgres store URL (one line if the URL is not one)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise SkillError(
            f"bad store URL {masked(url)!r}: expected postgresql+psycopg://user:password@host:port/database"
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise SkillError(
            f"bad store URL {masked(url)}: only postgresql+psycopg://... is supported "
            "(leave it out for the data home's SQLite file)"
        )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return sa.create_engine(
            parsed, pool_pre_ping=True, pool_size=2, connect_args={"connect_timeout": 10}
        )
    except Exception as exc:  # noqa: BLE001 - a driver that is not installed, a bad option
        raise SkillError(f"bad store URL {masked(url)}: {exc}") from None


def server_error(url: str, exc: BaseException) -> SkillError:
    """The one line for a failure of the store server at `url`: what is wrong, next step."""
    orig = getattr(exc, "orig", None) or exc
    detail = " ".join(str(orig).split())[:200] or type(orig).__name__
    low = detail.lower()
    where = f"the skill store {masked(url)}"
    if "password authentication failed" in low or "authentication" in low:
        why, step = "the server refused the user or password", "check them in the store URL"
    elif "does not exist" in low and "database" in low:
        why = "its database does not exist"
        step = "create it (`createdb` or CREATE DATABASE), then run the command again"
    elif any(w in low for w in ("connection refused", "could not connect", "timeout expired")) or (
        "connection" in low and "failed" in low and "server closed" not in low
    ):
        why = f"the server cannot be reached ({detail})"
        step = "start it or fix the host and port in the store URL, then run the command again"
    elif any(w in low for w in ("server closed", "terminating connection", "connection lost")):
        why = f"the connection was lost ({detail})"
        step = "nothing half-written was kept: run the command again"
    elif "lock timeout" in low or "canceling statement due to lock" in low:
        why, step = "another process holds the library's write lock", "try again"
    else:
        why, step = f"it cannot be used ({detail})", "run `skillgrove skills doctor`"
    return SkillError(f"{where}: {why}; {step}")


@contextmanager
def guard(path: Path | None, url: str | None) -> Iterator[None]:
    """Turn a database error inside the block into one line (`store_error`, `server_error`)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(path, exc) from None
    except sa.exc.DBAPIError as exc:
        if url is None and isinstance(exc.orig, sqlite3.Error):
            raise store_error(path, exc.orig) from None
        raise server_error(url or str(path), exc) from None
    except sa.exc.SQLAlchemyError as exc:
        if url is None:
            raise store_error(path, exc) from None
        raise server_error(url, exc) from None


def insert(conn: sa.Connection | sa.Engine, table: sa.Table) -> Any:
    """An INSERT of the connection's dialect, with `on_conflict_do_update/nothing`."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


@contextmanager
def begin_write(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One write transaction (SQLite: BEGIN IMMEDIATE, the writer's lock from the start);
    committed at the end of the block, rolled back on any error."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise


def engine_version(conn: sa.Connection, component: str) -> int:
    """The version `component` has reached on the server (0: new)."""
    if not sa.inspect(conn).has_table(VERSION.name):
        return 0
    row = conn.execute(sa.select(VERSION.c.version).where(VERSION.c.component == component)).first()
    return int(row[0]) if row else 0


def migrate_engine(
    engine: sa.Engine, url: str, component: str, migrations: Sequence[Migration]
) -> int:
    """`skills.db.migrate` on a server: the missing steps' `on_engine` in one transaction,
    under an advisory lock (machines opening a new store at once migrate it once).

    Raises:
        SkillError: one line: the server is unusable, or newer than this code.
    """
    check_migrations(migrations)
    latest = len(migrations)
    with guard(None, url):
        with engine.connect() as conn:
            have = engine_version(conn, component)
            conn.rollback()
        if have == latest:
            return have
        if have > latest:
            raise _newer(url, component, have, latest)
        with begin_write(engine) as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATE_KEY})
            VERSION.create(conn, checkfirst=True)
            have = engine_version(conn, component)  # another process may have migrated it
            if have > latest:
                raise _newer(url, component, have, latest)
            for m in migrations[have:]:
                if m.on_engine is not None:
                    m.on_engine(conn)
            stmt = insert(conn, VERSION).values(component=component, version=latest)
            conn.execute(
                stmt.on_conflict_do_update(index_elements=["component"], set_={"version": latest})
            )
    return latest


def _newer(url: str, component: str, have: int, latest: int) -> SkillError:
    return SkillError(
        f"the skill store {masked(url)} was written by a newer skillgrove ({component} schema "
        f"v{have}, this one knows up to v{latest}): upgrade skillgrove, or use another store URL"
    )


class AdvisoryLock:
    """The library's write lock on a server: a session advisory lock on one connection held
    while locked. Re-entrant within a process, like `filelock.FileLock`.

    Raises (from `acquire`):
        TimeoutError: another writer held it for `timeout` seconds.
    """

    def __init__(self, engine: sa.Engine, url: str, timeout: float) -> None:
        self.engine, self.url, self.timeout = engine, url, timeout
        self._mutex = threading.RLock()
        self._depth = 0
        self._conn: sa.Connection | None = None

    def acquire(self) -> None:
        self._mutex.acquire()
        if self._depth:
            self._depth += 1
            return
        try:
            with guard(None, self.url):
                conn = self.engine.connect()
                try:
                    deadline = time.monotonic() + self.timeout
                    while not conn.execute(
                        sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": WRITE_KEY}
                    ).scalar():
                        conn.rollback()
                        if time.monotonic() > deadline:
                            raise TimeoutError(self.url)
                        time.sleep(0.02)
                    conn.commit()
                except BaseException:
                    conn.close()
                    raise
        except BaseException:
            self._mutex.release()
            raise
        self._conn, self._depth = conn, 1

    def release(self) -> None:
        try:
            self._depth -= 1
            if self._depth == 0 and self._conn is not None:
                conn, self._conn = self._conn, None
                try:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": WRITE_KEY})
                    conn.commit()
                except sa.exc.SQLAlchemyError:
                    conn.invalidate()  # the session ends, and its lock with it
                finally:
                    conn.close()
        finally:
            self._mutex.release()
