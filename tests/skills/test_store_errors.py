"""Damaged, read-only and half-written stores (issue 19, findings 5 and 6): every store
error is one line that names the file and the next step; reads work on a read-only
database; a write reports exactly what was written, and an index that missed a committed
write is repaired before the next search.

The CLI runs in-process with a hashing embedder (no model). A read-only file is made with
chmod (not root), `chattr +i` (root, where the file system allows it), or else by opening
that one file through SQLite's `mode=ro` URI (root without chattr: file permissions do not
stop root), which gives SQLite the same "readonly database" failure.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from agent.cli import main
from skills.embed import HashEmbedder
from skills.errors import SkillError
from skills.index import MemoryIndex
from skills.library import SkillLibrary
from skills.store import DB_NAME
from tests.fakes import FastEmbedder

SKILL = '''
def lift_high(robot, obj):
    """Pick an object up and raise it high above the table.

    Examples:
        lift the red cube high
    """
    robot.pick(robot.find(obj))
'''
DOCTOR = "`skillgrove skills doctor`"
INDEX_STALE = "index_stale"  # skills.library.INDEX_STALE: the mark of a write the index missed


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """`skillgrove --home HOME ARGS... --json` in-process: (exit code, JSON object, stderr)."""
    import skills.embed

    monkeypatch.setattr(skills.embed, "MiniLMEmbedder", FastEmbedder)
    monkeypatch.setattr(skills.embed, "default_embedder", FastEmbedder, raising=False)
    monkeypatch.delenv("SKILLGROVE_LIBRARY_URL", raising=False)
    home = tmp_path / "home"

    def run(*args: str) -> tuple[int, dict, str]:
        code = main(["--home", str(home), *args, "--json"])
        out, err = capsys.readouterr()
        lines = out.strip().splitlines()
        assert len(lines) == 1, (out, err)  # exactly one JSON object, no traceback
        assert "Traceback" not in err, err
        return code, json.loads(lines[0]), err

    run.home = home
    return run


def one_line_error(code: int, data: dict, err: str) -> str:
    """The error of a failed command, checked to be one line with a non-zero exit."""
    assert code != 0, data
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return data["error"]


@pytest.fixture
def read_only(monkeypatch):
    """`read_only(path)` makes one file read-only for the rest of the test; returns how."""
    undo: list[Path] = []

    def make(path: Path) -> str:
        if os.geteuid() != 0:
            path.chmod(0o444)
            return "chmod"
        if shutil.which("chattr"):
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
            if done.returncode == 0:
                undo.append(path)
                return "chattr"
        real, target = sqlite3.connect, str(path.resolve())

        def connect(database, *args, **kwargs):
            if not str(database).startswith("file:") and str(Path(database).resolve()) == target:
                return real(f"file:{target}?mode=ro", *args, **{**kwargs, "uri": True})
            return real(database, *args, **kwargs)

        monkeypatch.setattr(sqlite3, "connect", connect)
        return "uri"

    yield make
    for path in undo:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- finding 5: a read-only database ----------------------------------------------------


def test_read_only_database_reads_work_and_a_write_is_one_line(cli, tmp_path, read_only):
    code, data, _ = cli("skills", "list")  # a new home: the seeds
    assert code == 0 and data["skills"]
    db = cli.home / DB_NAME
    read_only(db)
    before = digest(db)

    code, data, _ = cli("skills", "list")
    assert code == 0 and "pick_up" in {s["name"] for s in data["skills"]}
    code, data, _ = cli("skills", "show", "pick_up")
    assert code == 0 and data["name"] == "pick_up" and "def pick_up" in data["code"]
    code, data, _ = cli("skills", "search", "pick up the red cube")
    assert code == 0 and data["results"][0]["name"] == "pick_up"
    code, data, _ = cli("runs", "list")
    assert code == 0 and data == {"runs": []}

    (tmp_path / "lift.py").write_text(SKILL)
    error = one_line_error(
        *cli("skills", "add", str(tmp_path / "lift.py"), "--name", "lift_high", "--unverified")
    )
    assert str(db) in error and "read-only" in error and "nothing was written" in error
    assert DOCTOR in error
    assert digest(db) == before
    code, data, _ = cli("skills", "list")
    assert "lift_high" not in {s["name"] for s in data["skills"]}


# -- finding 5: a damaged database ------------------------------------------------------


def damage(db: Path, pages: range) -> None:
    """Overwrite `pages` (1-based, in the middle of the file) with junk, as a bad disk would."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        size = con.execute("PRAGMA page_size").fetchone()[0]
    with db.open("r+b") as f:
        for page in pages:
            f.seek((page - 1) * size)
            f.write(b"\xde\xad\xbe\xef" * (size // 4))


def test_a_damaged_database_is_one_line_naming_it_and_doctor_salvages_it(cli, tmp_path):
    assert cli("skills", "list")[0] == 0
    for i in range(6):  # more pages: skills of their own
        (tmp_path / f"s{i}.py").write_text(SKILL.replace("lift_high", f"lift_{i}"))
        assert (
            cli("skills", "add", str(tmp_path / f"s{i}.py"), "--name", f"lift_{i}", "--unverified")[
                0
            ]
            == 0
        )
    db = cli.home / DB_NAME
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        roots = max(r[0] for r in con.execute("SELECT rootpage FROM sqlite_master"))
    middle = (roots + pages) // 2
    assert roots < middle < pages
    damage(db, range(middle, middle + 2))  # pages of rows in the middle, past the tables' roots

    failed = []
    (tmp_path / "new.py").write_text(SKILL)
    for args in (
        ("skills", "list"),
        ("skills", "show", "lift_3"),
        ("runs", "list"),
        ("skills", "add", str(tmp_path / "new.py"), "--name", "lift_high", "--unverified"),
        ("skills", "search", "lift the cube"),
    ):
        code, data, err = cli(*args)
        if code != 0:  # a command that touches a damaged page: one line, the file, the next step
            error = one_line_error(code, data, err)
            assert str(db) in error and "damaged" in error and DOCTOR in error, error
            failed.append(args[:2])
    assert ("skills", "list") in failed

    code, report, _ = cli("skills", "doctor")
    assert code == 0 and report["salvaged"] is not None and not report["ok"]
    kept = Path(report["salvaged"]["damaged_copy"])
    assert kept.exists() and kept.parent == cli.home  # nothing thrown away
    code, data, _ = cli("skills", "list")
    assert code == 0
    names = {s["name"] for s in data["skills"]}
    assert names and not names & set(report["salvaged"]["lost_skills"])
    code, again, _ = cli("skills", "doctor")
    assert code == 0 and again["ok"]  # the salvaged file and its index agree


def test_a_damaged_row_is_one_line(cli):
    assert cli("skills", "list")[0] == 0
    with contextlib.closing(sqlite3.connect(cli.home / DB_NAME)) as con, con:
        con.execute("UPDATE skill_versions SET examples = '[\"unterminated' WHERE name = 'pick_up'")
    error = one_line_error(*cli("skills", "show", "pick_up"))
    assert str(cli.home / DB_NAME) in error and "damaged" in error and "'pick_up' v1" in error
    assert DOCTOR in error


def test_a_damaged_run_record_is_one_line(cli):
    from agent.run.records import SCHEMA

    assert cli("runs", "list")[0] == 0
    with contextlib.closing(sqlite3.connect(cli.home / DB_NAME)) as con, con:
        con.execute(SCHEMA)
        con.execute(
            "INSERT INTO runs VALUES ('r1', 1.0, 'x', '', 'words', 0, 0, 'FAILED', '{\"run_id\":')"
        )
    error = one_line_error(*cli("runs", "list"))  # the record's own schema says which run
    assert str(cli.home / DB_NAME) in error and "'r1'" in error and "cannot be read" in error


# -- finding 6: a write the index missed -------------------------------------------------


class BreakableIndex(MemoryIndex):
    """A memory index whose writes fail while `broken` (an unwritable index directory)."""

    broken = False

    def upsert(self, entries) -> None:
        if self.broken:
            raise PermissionError(13, "Permission denied", "index/chroma.sqlite3")
        super().upsert(entries)

    def delete(self, ids) -> None:
        if self.broken:
            raise PermissionError(13, "Permission denied", "index/chroma.sqlite3")
        super().delete(ids)


def test_an_index_that_misses_a_write_does_not_undo_or_fail_it_and_is_repaired(tmp_path):
    index = BreakableIndex()
    lib = SkillLibrary(tmp_path / "home", HashEmbedder(), index)
    lib.ensure_index()
    index.broken = True

    v = lib.add("lift_high", SKILL, verified=False)  # the store commits: the write happened
    assert lib.get("lift_high").version == v.version == 1
    (warning,) = lib.warnings
    assert (
        warning.startswith("lift_high v1 is stored, but the search index")
        and "Permission denied" in warning
    )
    assert "repaired before the next search" in warning and "skills doctor" in warning
    assert lib.store.meta(INDEX_STALE) is not None

    # a new version with as many examples: the entry counts agree, the mark still repairs it
    lib.add("lift_high", SKILL.replace("Pick an object up", "Grab an object"), verified=False)
    assert index.count() != lib.store.entry_count()
    index.broken = False
    lib.ensure_index()
    assert index.entries()["lift_high::0"][1] == 2  # the latest version is what is indexed
    assert lib.store.meta(INDEX_STALE) is None and lib.doctor().ok

    index.broken = True
    assert lib.remove("lift_high") == 2  # removed from the store: said so, index repaired later
    assert lib.warnings[-1].startswith("lift_high is removed, but the search index")
    index.broken = False
    lib.ensure_index()
    assert not any(name == "lift_high" for name, _, _ in index.entries().values())
    assert lib.doctor().ok
    lib.close()


def test_skills_add_with_an_unreachable_index_says_stored_and_exits_0(cli, tmp_path):
    """The index on a Chroma server that is not there: the skill is stored, and the
    command says so (exit 0, a warning that the index is repaired later)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens here
    (tmp_path / "lift.py").write_text(SKILL)
    code, data, err = cli(
        "skills",
        "--library-url",
        url,
        "add",
        str(tmp_path / "lift.py"),
        "--name",
        "lift_high",
        "--unverified",
    )
    assert code == 0 and data["name"] == "lift_high" and data["version"] == 1
    (warning,) = data["warnings"]
    assert "lift_high v1 is stored" in warning and url in warning and "repaired" in warning
    assert err.strip().splitlines() == [f"warning: {warning}"]
    assert "lift_high" in {s["name"] for s in cli("skills", "list")[1]["skills"]}
    code, found, _ = cli("skills", "search", "lift the red cube high")  # the local index: repaired
    assert code == 0 and found["results"][0]["name"] == "lift_high"


def test_salvage_keeps_rows_beyond_a_damaged_page(tmp_path):
    """Rows after a damaged page are still copied (a scan would stop at the damage)."""
    from skills.store import salvage

    lib = SkillLibrary(tmp_path / "home", HashEmbedder(), MemoryIndex())
    for i in range(30):
        lib.add(f"lift_{i}", SKILL.replace("lift_high", f"lift_{i}") + "#" * 3000, verified=False)
    lib.close()
    db = tmp_path / "home" / DB_NAME
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = con.execute("PRAGMA page_count").fetchone()[0]
    damage(db, range(pages // 2, pages // 2 + 1))
    report = salvage(db)
    with contextlib.closing(sqlite3.connect(db)) as con:
        names = {r[0] for r in con.execute("SELECT name FROM skill_versions")}
        assert con.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    assert len(names) >= 28 and {"lift_0", "lift_29"} <= names  # before and after the damage
    assert set(report["lost_skills"]).isdisjoint(names)
    assert Path(report["damaged_copy"]).exists()
    (tmp_path / "junk.db").write_bytes(b"not sqlite" * 500)
    with pytest.raises(SkillError, match="damaged beyond salvage"):
        salvage(tmp_path / "junk.db")
    assert (tmp_path / "junk.db").read_bytes() == b"not sqlite" * 500  # left as it was
