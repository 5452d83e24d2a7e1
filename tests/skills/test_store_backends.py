"""One library on both backends (tests/skills/conftest.py `backend`): the data home's SQLite
file, and a Postgres store (real server) with a Chroma server index; machines sharing a
store; the store's errors and settings."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from agent.cli import main
from agent.evaluate.evidence import Evidence
from skills.bundle import export_bundle, import_bundle
from skills.embed import HashEmbedder
from skills.errors import SkillError
from skills.library import open_library
from skills.store import SkillStore

NUDGE = '''
def nudge(robot, obj):
    """Push an object a little to the side.

    Examples:
        nudge the red cube to the left
        shove the blue block a bit
    """
    robot.push(robot.find(obj), (0.0, 0.02))
'''


def _cli(home, *args: str) -> tuple[int, dict, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--home", str(home), "skills", *args, "--json"])
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err.getvalue(), (out.getvalue(), err.getvalue())
    return code, json.loads(lines[0]), err.getvalue()


@pytest.fixture(autouse=True)
def fast_embedder(monkeypatch):
    import skills.embed

    monkeypatch.setattr(skills.embed, "default_embedder", HashEmbedder)
    for var in ("SKILLGROVE_LIBRARY_URL", "SKILLGROVE_STORE_URL", "SKILLGROVE_LIBRARY_STORE_URL"):
        monkeypatch.delenv(var, raising=False)


def test_add_versions_search_doctor_remove_and_bundle_import(tmp_path, backend):
    lib = backend.open(tmp_path / "a")
    v1 = lib.add("nudge", NUDGE, stats={"push": (4, 3)})
    v2 = lib.add("nudge", NUDGE.replace("0.02", "0.03"), parent=("nudge", 1))
    assert (v1.version, v2.version) == (1, 2)
    assert [(v.version, v.parent) for v in lib.history("nudge")] == [(1, None), (2, ("nudge", 1))]
    assert lib.get("nudge", 1).stats == {"push": (4, 3)}
    assert lib.get("nudge").created == v2.created  # a time stamp keeps its full precision
    found = lib.search("nudge the red cube to the left").matches[0]
    assert (found.name, found.version) == ("nudge", 2)
    assert lib.doctor().ok
    export_bundle(lib, tmp_path / "lib.zip")
    assert lib.remove("nudge") == 2
    assert "nudge" not in lib.store.names() and lib.doctor().ok
    got = import_bundle(lib, tmp_path / "lib.zip")
    assert got["added"] == 2 and [v.version for v in lib.history("nudge")] == [1, 2]
    assert lib.search("shove the blue block a bit").matches[0].name == "nudge"
    lib.close()


def test_the_index_follows_a_write_it_did_not_see(tmp_path, backend):
    """A new version with as many examples, written behind the index's back (another
    process, another machine): same entry count, and still found stale and repaired."""
    lib = backend.open(tmp_path / "a")
    lib.add("nudge", NUDGE)
    assert lib.search("nudge the red cube").matches[0].version == 1
    other = backend.open(tmp_path / "a")
    other.index = type("Blind", (), {"upsert": lambda *a: None, "delete": lambda *a: None})()
    other.add("nudge", NUDGE.replace("a little", "slightly"))  # its index update is lost
    assert lib.index.count() == lib.store.entry_count()  # the counts cannot tell
    check = lib.doctor(repair=False)
    assert check.stale and not check.ok  # doctor reports the difference...
    assert lib.search("nudge the red cube").matches[0].version == 2  # ...a search repairs it
    assert lib.doctor(repair=False).ok
    other.store.close()
    lib.close()


def test_machines_sharing_a_store_see_the_same_skills(tmp_path, pg_database, chroma_fresh):
    """Two homes on one Postgres store: with a Chroma server they share one collection;
    without one, each home's index file is rebuilt from the shared store."""
    a = open_library(tmp_path / "a", store_url=pg_database, embedder=HashEmbedder())
    b = open_library(tmp_path / "b", store_url=pg_database, embedder=HashEmbedder())
    assert a.store.library_id() == b.store.library_id()
    a.add("nudge", NUDGE)
    assert b.search("nudge the red cube").matches[0].name == "nudge"
    a.add("nudge", NUDGE.replace("a little", "slightly"))  # as many examples
    assert b.search("nudge the red cube").matches[0].version == 2
    assert b.get("nudge").code == a.get("nudge").code
    shared = [
        open_library(tmp_path / h, chroma_fresh, store_url=pg_database, embedder=HashEmbedder())
        for h in ("c", "d")
    ]
    assert shared[0].index.name == shared[1].index.name  # one collection on the server
    shared[0].add("nudge", NUDGE.replace("a little", "a bit"))
    assert shared[1].search("nudge the red cube").matches[0].version == 3
    assert b.search("nudge the red cube").matches[0].version == 3
    assert not a.doctor(repair=False).ok  # `a` has not searched since: its index is behind
    for lib in (a, b, *shared):
        lib.ensure_index()
        assert lib.doctor(repair=False).ok
    for lib in (a, b, *shared):
        lib.close()


def test_the_verification_log_is_shared_on_a_store(tmp_path, pg_database):
    for home in "abc":
        (tmp_path / home).mkdir()
    with Evidence(tmp_path / "a", store_url=pg_database) as ev:
        ev.log("nudge", 1, "push", 5, 5, True, [1, 2])
    with Evidence(tmp_path / "b", store_url=pg_database) as ev:
        assert ev.last_passed("nudge", 1) is not None
        assert [v["seeds"] for v in ev.verifications("nudge", 1)] == [[1, 2]]
    with Evidence(tmp_path / "c") as ev:  # the home's own log knows nothing of it
        assert ev.last_passed("nudge", 1) is None


def test_a_store_newer_than_the_code_is_refused_in_one_line(pg_database):
    SkillStore(url=pg_database).close()
    engine = sa.create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = 99 WHERE component = 'skills'"))
    engine.dispose()
    with pytest.raises(SkillError, match=r"newer skillgrove \(skills schema v99"):
        SkillStore(url=pg_database)


def test_store_server_errors_are_one_line_with_the_password_masked(tmp_path, postgres_url):
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(SkillError, match="database does not exist; create it") as e:
        SkillStore(url=missing)
    assert "\n" not in str(e.value)
    dead = "postgresql+psycopg://bob:s3cret@127.0.0.1:1/x"
    code, data, err = _cli(tmp_path / "h", "--store-url", dead, "list")
    assert code != 0 and "cannot be reached" in data["error"] and "start it" in data["error"]
    assert "s3cret" not in err + data["error"] and "bob:***@127.0.0.1:1/x" in data["error"]
    code, data, _ = _cli(tmp_path / "h", "--store-url", "mysql://x/y", "list")
    assert code != 0 and "--store-url must be a Postgres URL" in data["error"]
    assert not (tmp_path / "h" / "skillgrove.db").exists()  # nothing fell back to the home


def test_cli_store_url_flag_env_and_config(tmp_path, pg_database, monkeypatch):
    home = tmp_path / "h"
    (tmp_path / "nudge.py").write_text(NUDGE)
    add = ["add", str(tmp_path / "nudge.py"), "-n", "nudge", "--unverified"]
    code, data, _ = _cli(home, "--store-url", pg_database, *add)
    assert code == 0, data
    assert "nudge" not in {s["name"] for s in _cli(home, "list")[1]["skills"]}  # the home's own
    monkeypatch.setenv("SKILLGROVE_STORE_URL", pg_database)
    assert "nudge" in {s["name"] for s in _cli(home, "list")[1]["skills"]}
    monkeypatch.delenv("SKILLGROVE_STORE_URL")
    (home / "config.toml").write_text(f'[library]\nstore_url = "{pg_database}"\n')
    assert "nudge" in {s["name"] for s in _cli(home, "list")[1]["skills"]}
    code, data, _ = _cli(home, "doctor", "--check")
    assert code == 1 and not data["ok"] and data["missing"]  # never searched: no index yet
    code, data, _ = _cli(home, "doctor")
    assert code == 0 and data["repaired"]
    assert _cli(home, "doctor", "--check")[0] == 0


def test_library_settings_flag_over_env_over_config(tmp_path):
    from agent.config import library_settings

    (tmp_path / "config.toml").write_text(
        '[library]\nstore_url = "postgresql://c/c"\nurl = "http://config:1"\n'
    )
    env = {"SKILLGROVE_STORE_URL": "postgresql://e/e"}
    import os
    from unittest import mock

    with mock.patch.dict(os.environ, env):
        got = library_settings(tmp_path)
        assert (got.store_url, got.url) == ("postgresql://e/e", "http://config:1")
        assert library_settings(tmp_path, None, "postgresql://f/f").store_url == "postgresql://f/f"
    assert library_settings(tmp_path).store_url == "postgresql://c/c"
    assert library_settings(None).store_url is None
