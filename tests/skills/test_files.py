"""Writing user-named files (issue 19, finding 1): nothing overwritten, faked or half-written.

`skills.files.safe_write` is the one rule; the commands that write a path given on the
command line (`skills export`, `policy corrections export`, `oracle --gif`) all go
through it, so each gets a regression test here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from agent.cli import main
from skills.errors import SkillError
from tests.fakes import FastEmbedder


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    import skills.embed

    monkeypatch.setattr(skills.embed, "MiniLMEmbedder", FastEmbedder)
    home = tmp_path / "home"

    def run(*args: str, ok: bool = True) -> dict:
        code = main(["--home", str(home), *args, "--json"])
        out, err = capsys.readouterr()
        data = json.loads(out.strip().splitlines()[-1])
        assert (code == 0) == ok, (code, out, err)
        if not ok:
            assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
        return data

    run.home = home
    return run


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _no_temp_left(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.startswith(".") and ".tmp" in p.name]


# -- the helper ------------------------------------------------------------------------------
def test_a_new_file_is_written_and_an_existing_one_needs_force(tmp_path):
    from skills.files import write_bytes

    out = tmp_path / "a.txt"
    write_bytes(out, b"one")
    assert out.read_bytes() == b"one"
    with pytest.raises(SkillError, match="exists: pass --force"):
        write_bytes(out, b"two")
    assert out.read_bytes() == b"one"
    write_bytes(out, b"two", force=True)
    assert out.read_bytes() == b"two" and _no_temp_left(tmp_path)


def test_what_is_not_a_regular_file_is_refused_even_with_force(tmp_path):
    from skills.files import check_target, write_bytes

    (tmp_path / "dir").mkdir()
    os.symlink(tmp_path / "dir", tmp_path / "to-dir")
    os.mkfifo(tmp_path / "fifo")
    cases = {
        tmp_path / "dir": "a directory",
        tmp_path / "to-dir": "a symlink to a directory",
        tmp_path / "fifo": "a pipe",
    }
    if Path("/dev/null").exists():
        cases[Path("/dev/null")] = "a device"
    for path, kind in cases.items():
        with pytest.raises(SkillError, match=kind) as err:
            write_bytes(path, b"x", force=True)
        assert "\n" not in str(err.value)
    assert (tmp_path / "dir").is_dir() and not list((tmp_path / "dir").iterdir())
    with pytest.raises(SkillError, match="names a directory"):
        check_target(f"{tmp_path}/new/")
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(SkillError, match="is not a directory"):
        check_target(tmp_path / "a-file" / "x.zip")
    with pytest.raises(SkillError, match="no file name"):
        check_target("")


def test_a_symlink_to_a_file_is_replaced_not_followed(tmp_path):
    from skills.files import write_bytes

    (tmp_path / "real.txt").write_bytes(b"keep me")
    os.symlink(tmp_path / "real.txt", tmp_path / "link.txt")
    with pytest.raises(SkillError, match="exists"):
        write_bytes(tmp_path / "link.txt", b"new")
    write_bytes(tmp_path / "link.txt", b"new", force=True)
    assert (tmp_path / "real.txt").read_bytes() == b"keep me"
    assert not (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "link.txt").read_bytes() == b"new"


def test_nothing_is_written_inside_a_data_home(tmp_path):
    from skills.files import write_bytes

    home = tmp_path / "home"
    (home / "policy" / "checkpoints").mkdir(parents=True)
    (home / "skillgrove.db").write_bytes(b"the library")
    other = tmp_path / "other-home"
    other.mkdir()
    (other / "skillgrove.db").write_bytes(b"another library")
    os.symlink(home / "skillgrove.db", tmp_path / "sneaky.db")
    for target in (
        home / "skillgrove.db",
        home / "new.zip",
        home / "policy" / "checkpoints" / "x.pt",
        other / "skillgrove.db",
        other / "lib.zip",
        tmp_path / "sneaky.db",
    ):
        with pytest.raises(SkillError, match="inside the data home"):
            write_bytes(target, b"zip", force=True, home=home)
    # the command's own home, even before it holds anything
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    with pytest.raises(SkillError, match="inside the data home"):
        write_bytes(fresh / "lib.zip", b"zip", home=fresh)
    assert (home / "skillgrove.db").read_bytes() == b"the library"
    assert (other / "skillgrove.db").read_bytes() == b"another library"


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path):
    from skills.files import safe_write, write_bytes

    out = tmp_path / "lib.zip"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError), safe_write(out, force=True) as tmp:
        tmp.write_bytes(b"half a fi")
        raise RuntimeError("disk on fire")
    assert out.read_bytes() == b"old" and _no_temp_left(tmp_path)
    # missing directories are made for a write, and removed again when it fails
    with pytest.raises(RuntimeError), safe_write(tmp_path / "new" / "dir" / "x.zip") as tmp:
        raise RuntimeError("disk on fire")
    assert not (tmp_path / "new").exists()
    write_bytes(tmp_path / "new" / "dir" / "x.zip", b"ok")
    assert (tmp_path / "new" / "dir" / "x.zip").read_bytes() == b"ok"


def test_a_file_that_appears_meanwhile_is_not_overwritten(tmp_path):
    from skills.files import safe_write

    out = tmp_path / "race.txt"
    with pytest.raises(SkillError, match="exists"), safe_write(out) as tmp:
        tmp.write_bytes(b"mine")
        out.write_bytes(b"someone else's")
    assert out.read_bytes() == b"someone else's" and _no_temp_left(tmp_path)


# -- the commands ----------------------------------------------------------------------------
def test_skills_export_refuses_the_library_database_and_keeps_it(cli):
    cli("skills", "list")  # creates the home and its library
    db = cli.home / "skillgrove.db"
    before = _digest(db)
    err = cli("skills", "export", str(db), "--force", ok=False)["error"]
    assert "inside the data home" in err
    assert _digest(db) == before and cli("skills", "list")["skills"]


def test_skills_export_needs_force_for_an_existing_file(cli, tmp_path):
    out = tmp_path / "lib.zip"
    out.write_bytes(b"precious")
    assert "pass --force" in cli("skills", "export", str(out), ok=False)["error"]
    assert out.read_bytes() == b"precious"
    assert cli("skills", "export", str(out), "--force")["versions"] > 0
    assert out.read_bytes()[:2] == b"PK" and _no_temp_left(tmp_path)


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_skills_export_refuses_a_device_and_a_directory(cli, tmp_path):
    assert "a device" in cli("skills", "export", "/dev/null", "--force", ok=False)["error"]
    assert "a directory" in cli("skills", "export", str(tmp_path), "--force", ok=False)["error"]


def test_corrections_export_refuses_the_correction_store(cli, tmp_path):
    from agent.policy.corrections import CorrectionStore, store_path

    store = store_path(cli.home)
    store.parent.mkdir(parents=True)
    CorrectionStore(store)
    err = cli("policy", "corrections", "export", str(store), "--force", ok=False)["error"]
    assert "inside the data home" in err
    assert store.read_bytes()[:16] == b"SQLite format 3\x00"  # still the store, not an export
    assert CorrectionStore(store).count() == 0
    out = tmp_path / "c.jsonl"
    out.write_text("mine")
    assert "pass --force" in cli("policy", "corrections", "export", str(out), ok=False)["error"]
    assert out.read_text() == "mine"
    assert cli("policy", "corrections", "export", str(out), "--force")["count"] == 0
    assert out.read_text() == ""


def test_oracle_gif_refuses_an_existing_file_before_running(cli, tmp_path):
    gif = tmp_path / "tower.gif"
    gif.write_bytes(b"not mine to lose")
    err = cli("oracle", "tower", "--episodes", "1", "--gif", str(gif), ok=False)["error"]
    assert "pass --force" in err and gif.read_bytes() == b"not mine to lose"
