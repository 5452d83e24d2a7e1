"""Versioned migrations of the data home's databases (`skills.db.migrate`): an old home is
brought up to date at open, all steps in one transaction; a newer one is refused in one
line; a read-only one is read as it is unless a missing step is needed to read it."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import sqlite3
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from skills.db import Migration, migrate, schema_version
from skills.errors import SkillError
from tests.test_upgrade import FIXTURE


def cli(home: Path, *args: str) -> tuple[int, dict, str]:
    from agent.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--home", str(home), *args, "--json"])
    return code, json.loads(out.getvalue()), err.getvalue()


def versions(db: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(db)) as con:
        return dict(con.execute("SELECT component, version FROM schema_version"))


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    shutil.copytree(FIXTURE, h)
    return h


def test_an_old_home_is_migrated_when_opened(home):
    from agent.policy.corrections import MIGRATIONS as CORRECTIONS
    from agent.policy.queue import MIGRATIONS as PENDING
    from agent.run.records import MIGRATIONS as RUNS
    from skills.store_schema import MIGRATIONS as SKILLS

    assert cli(home, "runs", "list")[0] == 0 and cli(home, "skills", "list")[0] == 0
    assert versions(home / "skillgrove.db") == {"skills": len(SKILLS), "runs": len(RUNS)}
    with contextlib.closing(sqlite3.connect(home / "skillgrove.db")) as con:
        indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "runs_created" in indexes  # runs migration 2 ran on the old file
    from agent.policy.corrections import store_path
    from agent.policy.queue import PendingQueue

    assert len(PendingQueue(store_path(home)).waiting()) == 1
    assert versions(store_path(home)) == {"corrections": len(CORRECTIONS), "pending": len(PENDING)}


def test_a_home_newer_than_the_code_is_refused_in_one_line(home):
    assert cli(home, "skills", "list")[0] == 0
    db = home / "skillgrove.db"
    with contextlib.closing(sqlite3.connect(db)) as con:
        with con:
            con.execute("UPDATE schema_version SET version = 99 WHERE component = 'skills'")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    for args in (("skills", "list"), ("skills", "show", "nudge")):
        code, data, err = cli(home, *args)
        assert code == 1 and len(err.strip().splitlines()) == 1, err
        assert str(db) in data["error"] and "newer skillgrove" in data["error"]
        assert "skills schema v99" in data["error"] and "upgrade skillgrove" in data["error"]
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_the_missing_steps_run_in_one_transaction(tmp_path):
    path = tmp_path / "x.db"
    good = (
        Migration(1, "a", "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1)"),
        Migration(2, "b", "CREATE TABLE b (y TEXT)"),
    )
    broken = (*good, Migration(3, "c", run=lambda db: db.execute("INSERT INTO nowhere VALUES (1)")))
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        with pytest.raises(sqlite3.OperationalError, match="nowhere"):
            migrate(db, path, "t", broken)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == set() and schema_version(db, "t") == 0  # steps 1 and 2 rolled back
        assert migrate(db, path, "t", good) == 2
        assert migrate(db, path, "t", good) == 2  # up to date: nothing runs again
        assert db.execute("SELECT COUNT(*) FROM a").fetchone()[0] == 1
        assert schema_version(db, "other") == 0  # components are counted apart
    with pytest.raises(ValueError):
        migrate(sqlite3.connect(":memory:"), path, "t", (Migration(2, "skips one"),))


def test_a_read_only_database_is_read_as_it_is_unless_a_step_is_needed(tmp_path):
    path = tmp_path / "x.db"
    one = (Migration(1, "a", "CREATE TABLE a (x INTEGER)"),)
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert migrate(db, path, "t", one) == 1
    ro = f"{path.resolve().as_uri()}?mode=ro"
    optional = (*one, Migration(2, "an index", "CREATE INDEX ax ON a(x)", needed_to_read=False))
    needed = (*one, Migration(2, "a column", "ALTER TABLE a ADD COLUMN y TEXT"))
    with contextlib.closing(sqlite3.connect(ro, uri=True)) as db:
        assert migrate(db, path, "t", optional) == 1  # read at v1; the index comes later
        with pytest.raises(SkillError) as exc:
            migrate(db, path, "t", needed)
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg and "cannot be written" in msg and "v2" in msg
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert migrate(db, path, "t", needed) == 2  # writable again: upgraded
