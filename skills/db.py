"""The data home's SQLite files: opening them, versioned migrations, one-line errors.

Every database of the data home (`skillgrove.db`: skills and run records;
`policy/corrections.sqlite`: corrections and the correction queue) is opened by
`open_db` and brought to its code's schema by `migrate`. Each component of a file (the
skill tables, the run records, the corrections...) owns an ordered tuple of numbered
`Migration`s; the version each component has reached is a row of the file's
`schema_version` table (a home written before migrations has none: version 0, and
migration 1 of each component is the schema of that release, `CREATE ... IF NOT
EXISTS`). Opening applies the missing migrations in one transaction; a file whose
version is newer than the code's is refused with one line (the code would misread it).
A database that cannot be written (a read-only file, directory or file system) is not
migrated: it opens read-only, as it is, unless a missing migration is needed to read it.

A small versioned table rather than Alembic: the schemas are a handful of tables, and
Alembic would bring a migration directory for what is a loop over numbered steps in one
transaction. The skill store can also live on Postgres (`skills.engine`): the same
`schema_version` table and numbering there, each step's `on_engine` run instead of its
SQLite `sql`.

Every SQLite failure becomes one line in one place, `store_error`: the file, what is
wrong (read-only, damaged, locked, disk full) and the next step.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skills.errors import SkillError

DB_NAME = "skillgrove.db"
DOCTOR = "`skillgrove skills doctor`"
VERSION_TABLE = "schema_version"


def _what(path: Path) -> tuple[str, str]:
    """How messages name the file at `path`, and the step that repairs a damaged one."""
    if path.name == DB_NAME:
        return "the library database", f"run {DOCTOR} to salvage what is readable"
    return (
        "the store",
        f"move it aside and restore a copy (`sqlite3 {path} .recover` reads what is left); "
        f"{DOCTOR} repairs the library itself",
    )


def store_error(
    path: Path, exc: BaseException, opening: bool = False, what: str | None = None
) -> SkillError:
    """The one line for an SQLite failure on the database `path`: what is wrong, next step.

    The one place where SQLite errors of the data home's databases become messages, so
    every command says the same thing.

    Args:
        opening: the failure came while opening the file (the message says so).
        what: names the store ("corrections store"); default from the file's name.
    """
    code = str(getattr(exc, "sqlite_errorname", None) or "")
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    low = detail.lower()
    named, repair = _what(Path(path))
    if code.startswith("SQLITE_READONLY") or "readonly database" in low:
        why = "it is read-only, nothing was written"
        step = f"make it and its folder writable (chmod u+w, chattr -i), then run {DOCTOR}"
    elif code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or any(
        w in low for w in ("malformed", "not a database", "could not decode")
    ):
        why, step = f"it is damaged ({detail})", repair
    elif code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in low:
        why = f"another process holds it ({detail})"
        step = f"try again, and if it stays locked run {DOCTOR}"
    elif code.startswith("SQLITE_FULL") or "disk is full" in low:
        why, step = "the disk is full", f"free some space, then run {DOCTOR}"
    else:
        why, step = detail if opening else f"it cannot be used ({detail})", f"run {DOCTOR}"
    if what is not None:
        head = f"{what} {path} is unusable"
    else:
        head = f"{named} {path}" + (" cannot be opened" if opening else "")
    return SkillError(f"{head}: {why}; {step}")


def damaged(detail: str) -> sqlite3.DatabaseError:
    """An SQLite-style error for damage found outside SQLite (a row that does not parse)."""
    exc = sqlite3.DatabaseError(detail)
    exc.sqlite_errorname = "SQLITE_CORRUPT"
    return exc


@contextmanager
def guarded(path: Path, opening: bool = False) -> Iterator[None]:
    """Turn SQLite errors inside the block into `store_error`'s one line."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(path, exc, opening) from None


@dataclass(frozen=True)
class Migration:
    """One numbered step of a component's schema.

    Attributes:
        version: the schema version this step brings the component to (1, 2, ...).
        what: one line saying what it changes.
        sql: statements (separated by `;`) run in the migration's transaction.
        run: a function run in the transaction after `sql` (data changes).
        needed_to_read: the code cannot read the component without it (a read-only
            database that lacks it is refused instead of opened as it is).
        on_engine: what the step runs on a server database (Postgres, through a
            SQLAlchemy connection, see `skills.engine.migrate_engine`) instead of `sql`
            and `run`, which are SQLite's; None: the step has nothing to do there.
    """

    version: int
    what: str
    sql: str = ""
    run: Callable[[sqlite3.Connection], None] | None = None
    needed_to_read: bool = True
    on_engine: Callable[[Any], None] | None = None


def check_migrations(migrations: Sequence[Migration]) -> None:
    """Versions are 1, 2, ... in order (a programming error otherwise)."""
    if [m.version for m in migrations] != list(range(1, len(migrations) + 1)):
        raise ValueError("migrations must be numbered 1, 2, ... in order")


def schema_version(db: sqlite3.Connection, component: str) -> int:
    """The version `component` has reached in `db` (0: before migrations, or new)."""
    have = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
    ).fetchone()
    if not have:
        return 0
    row = db.execute(
        f"SELECT version FROM {VERSION_TABLE} WHERE component = ?", (component,)
    ).fetchone()
    return int(row[0]) if row else 0


def _statements(sql: str) -> list[str]:
    out, buf = [], ""
    for part in sql.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                out.append(buf.strip())
            buf = ""
    return out


def migrate(
    db: sqlite3.Connection, path: Path, component: str, migrations: Sequence[Migration]
) -> int:
    """Bring `component` of the database `db` (the file `path`) to its latest version.

    All missing migrations run in one transaction (none of them, on an error). Nothing is
    written when the component is up to date. A database that cannot be written is left
    as it is when none of the missing migrations is `needed_to_read`.

    Returns:
        The component's version now.

    Raises:
        SkillError: one line: the file is newer than this code, or cannot be written and
            needs a migration to be read.
        sqlite3.Error: any other failure (the caller turns it into `store_error`).
    """
    check_migrations(migrations)
    latest = len(migrations)
    have = schema_version(db, component)
    if have > latest:
        raise newer_error(path, component, have, latest)
    if have == latest:
        return have
    level = db.isolation_level
    db.isolation_level = None  # explicit BEGIN/COMMIT around DDL
    try:
        return _apply(db, path, component, migrations)
    except sqlite3.OperationalError as exc:
        if not read_only_error(exc):
            raise
        # a database that cannot be written is read as it is, when it can be
        if any(m.needed_to_read for m in migrations[have:]):
            raise SkillError(
                f"{_what(Path(path))[0]} {path} needs upgrading to schema v{latest} of "
                f"{component} (it is v{have}) but cannot be written: make it and its "
                "folder writable, then run the command again"
            ) from None
        return have
    finally:
        db.isolation_level = level


def _apply(
    db: sqlite3.Connection, path: Path, component: str, migrations: Sequence[Migration]
) -> int:
    """The missing migrations in one transaction (rolled back on any error)."""
    latest = len(migrations)
    db.execute("BEGIN IMMEDIATE")
    try:
        have = schema_version(db, component)  # another process may have migrated it
        if have > latest:
            raise newer_error(path, component, have, latest)
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} "
            "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        for m in migrations[have:]:
            for statement in _statements(m.sql):
                db.execute(statement)
            if m.run is not None:
                m.run(db)
        db.execute(
            f"INSERT OR REPLACE INTO {VERSION_TABLE}(component, version) VALUES(?, ?)",
            (component, latest),
        )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return latest


def newer_error(path: Path, component: str, have: int, latest: int) -> SkillError:
    return SkillError(
        f"{_what(Path(path))[0]} {path} was written by a newer skillgrove ({component} schema "
        f"v{have}, this one knows up to v{latest}): upgrade skillgrove, or use another --home"
    )


def read_only_error(exc: BaseException) -> bool:
    code = str(getattr(exc, "sqlite_errorname", None) or "")
    return code.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or "readonly" in str(exc)


def _writable(path: Path) -> bool:
    """Whether this process may write `path` and create its journal beside it."""
    folder = path.parent
    return os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def connect(path: Path, *, isolation_level: str | None = None) -> sqlite3.Connection:
    """Connect to a data home database in WAL mode (readers never wait for the writer).

    A database that cannot be written opens read-only: with SQLite's `mode=ro` when its
    WAL journal can be read, else (a read-only folder where the journal's index cannot
    be made, and no journal left to read) as `immutable`, which is safe there because no
    one can change the file. Writes through such a connection fail as read-only.

    Raises:
        sqlite3.Error: the file cannot be opened (the caller's `guarded` words it).
    """
    path = Path(path)
    db = sqlite3.connect(
        path, timeout=30.0, isolation_level=isolation_level, check_same_thread=False
    )
    try:
        if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        return db
    except sqlite3.OperationalError as exc:
        db.close()
        if not read_only_error(exc) or not path.exists() or _writable(path):
            raise
    return _connect_read_only(path, isolation_level)


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that never writes (the web UI's reads): `mode=ro` where the folder can
    be written (SQLite may create the journal's index), else as `connect` falls back."""
    path = Path(path)
    if _writable(path):
        uri = f"{path.resolve().as_uri()}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=30.0, check_same_thread=False)
    return _connect_read_only(path, None)


def _connect_read_only(path: Path, isolation_level: str | None) -> sqlite3.Connection:
    uri = path.resolve().as_uri()
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        # committed writes wait in the journal: only `mode=ro` reads them (immutable would
        # not), and it needs the journal's index (-shm) to exist
        uri += "?mode=ro"
    else:
        uri += "?immutable=1"
    db = sqlite3.connect(
        uri, uri=True, timeout=30.0, isolation_level=isolation_level, check_same_thread=False
    )
    try:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def open_db(
    path: Path,
    schema: str = "",
    tables: frozenset[str] = frozenset(),
    *,
    component: str | None = None,
    migrations: Sequence[Migration] = (),
) -> sqlite3.Connection:
    """Connect (see `connect`) and migrate `component` (see `migrate`).

    `schema` and `tables` are the older interface: create `tables` from `schema` when
    some are missing (nothing is written when they exist). New code passes a
    `component` and its `migrations`.

    Raises:
        SkillError: one line (`store_error`) when the file cannot be opened or migrated.
    """
    with guarded(path, opening=True):
        db = connect(path)
        try:
            if component is not None:
                migrate(db, path, component, migrations)
            elif tables and missing_tables(db, tables):
                db.executescript(schema)
        except BaseException:
            db.close()
            raise
    return db


def missing_tables(db: sqlite3.Connection, tables: frozenset[str]) -> set[str]:
    """Which of `tables` the database does not have."""
    have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return set(tables) - have
