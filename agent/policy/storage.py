"""The policy's SQLite file (`<home>/policy/corrections.sqlite`): connections, migrations
and one-line errors, over the data home's common plumbing (`skills.db`).

The corrections (`agent.policy.corrections`), the correction queue (`agent.policy.queue`)
and the fine-tune log (`agent.policy.finetune`) each keep their tables in this file as a
component with its own numbered migrations.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.errors import AgentError
from skills.db import Migration, migrate, store_error
from skills.db import connect as db_connect
from skills.errors import SkillError


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the corrections file (WAL: the UI reads while a command writes;
    read-only when the file or its folder cannot be written, see `skills.db.connect`)."""
    return db_connect(Path(path), isolation_level="")


def store_failure(path: Path, exc: BaseException) -> AgentError:
    """An SQLite failure on the corrections file as one line: the file and the next step."""
    return AgentError(str(store_error(path, exc, what="corrections store")))


@contextmanager
def session(path: Path) -> Iterator[sqlite3.Connection]:
    """One connection for a block, committed at its end (rolled back on an error) and
    closed; SQLite failures become `store_failure`'s one line."""
    try:
        db = connect(path)
        try:
            with db:
                yield db
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise store_failure(path, exc) from None


def create_tables(path: Path, component: str, migrations: tuple[Migration, ...]) -> None:
    """Bring `component`'s tables of the corrections file to their latest version
    (`skills.db.migrate`); one-line error if the file is unusable."""
    try:
        with session(path) as db:
            migrate(db, path, component, migrations)
    except SkillError as exc:  # newer than this code, or read-only and too old
        raise AgentError(str(exc)) from None
