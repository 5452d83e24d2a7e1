"""Issue 19, finding 8: a stored run record is validated when it is read; a damaged or
hand-edited one is one line naming the run and the field (CLI exit 1, UI 422), never a
traceback, and the other runs still read."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest
from fastapi.testclient import TestClient

from agent.cli import main
from agent.run.records import DamagedRecord, RunRecord, RunStore

BASE = "http://127.0.0.1:8765"
GOOD = RunRecord(
    "good",
    "pick up the red cube",
    "pick",
    "given",
    0,
    "offline",
    "oracle",
    ("pick up the red cube",),
    (),
    ("pick_up@v1",),
    True,
    "ok",
    None,
    0.1,
    0,
    0,
)


def _home(tmp_path, damage: str):
    store = RunStore(tmp_path)
    store.save(GOOD)
    store.save(dataclasses.replace(GOOD, run_id="bad", created=GOOD.created + 1))
    store.close()
    db = sqlite3.connect(tmp_path / "skillgrove.db")
    db.execute(f"UPDATE runs SET record = {damage} WHERE run_id = 'bad'")
    db.commit()
    db.close()
    return tmp_path


DAMAGE = [
    ("json_set(record, '$.seed', 'one')", "'seed'"),
    ("json_set(record, '$.success', 1)", "'success'"),
    ("json_remove(record, '$.decisions')", "'decisions'"),
    ("json_set(record, '$.plan', json('[1, 2]'))", "'plan.0'"),
    ("json_set(record, '$.decisions', json('[{\"step\": 5}]'))", "'decisions.0.step'"),
    ("'[1, 2, 3]'", "not an object"),
    ("'{\"run_id\": '", "not valid JSON"),
    ("replace(record, '\"seconds\": 0.1', '\"seconds\": Infinity')", "'seconds'"),
]


@pytest.mark.parametrize("damage, field", DAMAGE)
def test_a_damaged_record_is_one_line_naming_run_and_field(tmp_path, capsys, damage, field):
    home = _home(tmp_path, damage)
    store = RunStore(home)
    with pytest.raises(DamagedRecord, match=f"run 'bad' .*{field}"):
        store.get("bad")
    assert store.get("good").run_id == "good"  # the others are unaffected
    store.close()
    for argv in (["runs", "show", "bad"], ["runs", "list"], ["runs", "show", "bad", "--json"]):
        assert main(["--home", str(home), *argv]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "bad" in err and field in err, err
        assert "Traceback" not in err
    assert main(["--home", str(home), "runs", "show", "good", "--json"]) == 0


def test_the_ui_answers_422_with_the_same_line(tmp_path):
    from agent.ui.app import create_app
    from skills.embed import HashEmbedder
    from skills.index import MemoryIndex
    from skills.library import SkillLibrary
    from tests.agent.test_ui import FakeQueue

    home = _home(tmp_path, "json_set(record, '$.seed', 'one')")
    lib = SkillLibrary(home, HashEmbedder(), MemoryIndex(), install_seeds=False)
    app = create_app(home, library=lib, corrections=FakeQueue())
    with TestClient(app, base_url=BASE) as c:
        for url in ("/runs/bad", "/runs", "/runs/bad/replay.gif"):
            r = c.get(url)
            assert r.status_code == 422 and "seed" in r.text, url
        assert c.get("/runs/good").status_code == 200
    lib.close()


def test_records_of_older_releases_still_read(tmp_path):
    """Fields an older release did not write take their defaults; unknown ones are ignored."""
    home = _home(
        tmp_path,
        "json_set(json_remove(record, '$.goal', '$.atoms', '$.objects', '$.scene'), "
        "'$.future_field', 7)",
    )
    store = RunStore(home)
    rec = store.get("bad")
    assert rec.goal == "" and rec.atoms == () and rec.scene == ()
    store.close()
