"""Upgrades lose nothing: a data home written by an earlier release opens with this code.

`tests/fixtures/home_v1/` was written by `scripts/make_fixture_home.py` with the release
of issue 19 (before versioned migrations): skills and versions (a goal-template skill,
lineage, stats), run records, a correction, a queued failure, a checkpoint manifest and
the config file; `expected.json` holds what the read commands printed then. Each test
opens a copy with the current code and finds all of it again, through the CLI's --json.
Never rewrite the fixture: a new release adds `home_v2/` beside it.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "home_v1"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())


def cli(home: Path, *args: str) -> dict:
    """`skillgrove --home HOME ARGS --json` in process; its JSON, with HOME as `<home>`."""
    from agent.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--home", str(home), *args, "--json"])
    assert code == 0, (args, err.getvalue(), out.getvalue())
    return json.loads(out.getvalue().replace(str(home), "<home>"))


def kept(old, new, where: str = "") -> None:
    """Everything `old` printed is in `new` unchanged (new keys may have been added)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        for key, value in old.items():
            assert key in new, f"{where}.{key} is gone"
            kept(value, new[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), where
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            kept(a, b, f"{where}[{i}]")
    else:
        assert new == old, f"{where}: {old!r} became {new!r}"


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    shutil.copytree(FIXTURE, h)
    (h / "expected.json").unlink()
    return h


def test_the_fixture_is_what_the_old_release_wrote():
    """The fixture predates migrations: no schema version, tables as they were then."""
    with sqlite3.connect(f"{(FIXTURE / 'skillgrove.db').as_uri()}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"skills", "skill_versions", "skill_stats", "library_meta", "runs"} <= tables
    assert len(EXPECTED["skills show"]) == 14 and len(EXPECTED["runs show"]) == 2


def test_skills_versions_stats_and_lineage_are_intact(home):
    kept(EXPECTED["skills list"], cli(home, "skills", "list"), "skills list")
    for name, shown in EXPECTED["skills show"].items():
        kept(shown, cli(home, "skills", "show", name), f"show {name}")
        kept(EXPECTED["skills history"][name], cli(home, "skills", "history", name), name)
    goal = cli(home, "skills", "show", "put_left_of")
    assert (
        goal["goal_template"] == "left_of(?a, ?b)"
        and goal["stats"]["left_of(?a, ?b)"]["episodes"] == 4
    )
    assert cli(home, "skills", "show", "nudge_far")["parent"] == ["nudge", 3]
    assert [v["author"] for v in cli(home, "skills", "history", "nudge")["versions"]] == [
        "human",
        "human",
        "llm:fixture",
    ]


def test_search_finds_old_skills_by_their_description(home):
    found = cli(home, "skills", "search", "Push {obj} a bit along x.")
    assert found["results"][0]["name"] == "nudge" and found["results"][0]["version"] == 3
    found = cli(home, "skills", "search", "put the red cube to the left of the blue cube")
    assert "put_left_of" in [r["name"] for r in found["results"]]


def test_runs_corrections_queue_and_checkpoints_are_intact(home):
    kept(EXPECTED["runs list"], cli(home, "runs", "list"), "runs list")
    for run_id, shown in EXPECTED["runs show"].items():
        kept(shown, cli(home, "runs", "show", run_id), f"runs show {run_id}")
        assert (home / "runs" / f"{run_id}.gif").is_file()
    kept(
        EXPECTED["policy corrections list"],
        cli(home, "policy", "corrections", "list"),
        "corrections",
    )
    kept(EXPECTED["policy checkpoints"], cli(home, "policy", "checkpoints"), "checkpoints")

    from agent.policy.corrections import store_path
    from agent.policy.queue import PendingQueue

    waiting = PendingQueue(store_path(home)).waiting()
    assert [
        {"id": p.id, "family": p.scene.family, "seed": p.scene.seed, "diagnosis": p.diagnosis}
        for p in waiting
    ] == EXPECTED["pending"]


def test_an_upgraded_home_takes_new_writes_and_opens_again(home, tmp_path):
    """After the upgrade the home is written by the new code and read again."""
    src = tmp_path / "grab.py"
    src.write_text('def grab(robot, obj):\n    """Grab {obj}."""\n    robot.pick_up(obj)\n')
    assert cli(home, "skills", "add", str(src), "-n", "grab", "--unverified")["version"] == 1
    names = [s["name"] for s in cli(home, "skills", "list")["skills"]]
    assert names == sorted([*EXPECTED["skills show"], "grab"])
    kept(EXPECTED["skills show"]["nudge"], cli(home, "skills", "show", "nudge"), "nudge")
    assert len(cli(home, "runs", "list")["runs"]) == 2
