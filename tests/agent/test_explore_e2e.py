"""`skillgrove learn --explore` end to end, offline, no LLM: the goal planner's composite
skills, real PyBullet, the real sandbox and SQLite.

One home goes through three sessions: the first is killed (SIGKILL) once its first
episode is stored, the second is interrupted (KeyboardInterrupt, as Ctrl-C) in its
second episode, the third runs its budget with `--train-policy`. Nothing learned is
lost, each session goes on from the history, every skill exploration wrote passes
`skills verify`, and the UI's learning page shows it (TestClient and headless Chromium).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from agent.cli import main
from agent.explore.store import read_home

ARGS = ["learn", "--explore", "--episodes", "1", "--seed", "5"]


def sg(home: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--home", str(home), *args])
    return code, out.getvalue(), err.getvalue()


def episodes(home: Path) -> list[dict]:
    return [r for r in read_home(home)[1] if r["kind"] == "episode"]


def _killed_session(home: Path) -> None:
    """Session 1: `learn --explore` in its own process, killed -9 after one episode."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--home", str(home), *ARGS, "--budget", "6"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its sandbox workers die with it
    )
    deadline = time.monotonic() + 240
    try:
        while not episodes(home):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no episode stored in 240 s"
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def explored(tmp_path_factory):
    from agent.loop import Agent

    home = tmp_path_factory.mktemp("explore") / "home"
    home.mkdir()
    _killed_session(home)
    first = episodes(home)

    calls: list[int] = []
    real_run = Agent.run

    def interrupted_on_the_second(self, *a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_run(self, *a, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(Agent, "run", interrupted_on_the_second)
    try:
        code2, out2, _ = sg(home, *ARGS, "--budget", "3", "--json")
    finally:
        mp.undo()
    code3, out3, err3 = sg(home, *ARGS, "--budget", "1", "--train-policy", "--json")
    assert code3 == 0, err3
    return {
        "home": home,
        "first": first,
        "second": (code2, json.loads(out2)),
        "third": json.loads(out3),
    }


def test_an_interrupted_session_keeps_what_it_learned_and_the_next_goes_on(explored):
    home, first = explored["home"], explored["first"]
    assert len(first) >= 1  # the killed session's episode was committed
    code, second = explored["second"]
    assert code == 130 and second["status"] == "interrupted"
    assert len(second["episodes"]) == 1  # the one before the interrupt
    third = explored["third"]
    assert third["status"] == "done" and third["stopped"] == "budget"
    assert len(third["episodes"]) == 1  # the budget is per session
    rows = episodes(home)
    assert len(rows) == len(first) + 2 == third["history"]["episodes"]
    assert len({r["seed"] for r in rows}) == len(rows)  # each session draws new scenes
    sessions = {s["id"]: s["status"] for s in read_home(home)[0]}
    # -9 left no summary; the next session found its process gone and closed it as killed
    assert sorted(sessions.values()) == ["done", "interrupted", "killed"]


def test_each_episode_says_what_was_practised_why_and_the_verdict(explored):
    rows = episodes(explored["home"])
    for r in rows:
        assert r["rule"] in ("never tried", "learning progress", "revisit") and r["why"]
        assert r["goal"] and r["objects"] and r["run_id"] and r["status"]
        assert r["success"] or r["false_atoms"] or r["reason"]
    # the first episode of an empty home explores: nothing has been tried yet
    assert rows[0]["rule"] == "never tried"
    comp = {c["template"]: c for c in explored["third"]["competence"]}
    for r in rows:
        assert comp[r["template"]]["attempts"] >= 1
    assert sum(c["attempts"] for c in comp.values()) == len(rows)


def test_the_policy_step_runs_or_says_why_not(explored):
    third = explored["third"]
    (step,) = third["policy"]
    held = sum(e["success"] for e in third["episodes"])
    # every run goes to the self-supervised fine-tune (a failure's steps practised first),
    # the failures also to the queue
    assert step["finetune"]["runs"] == 1 and step["queue"]["runs"] == 1 - held
    assert step["finetune"]["status"] in ("done", "skipped", "failed")
    if step["finetune"]["status"] != "done":
        assert step["finetune"]["reason"]  # e.g. no checkpoint yet: said, and the session ran


def test_every_skill_exploration_wrote_passes_skills_verify(explored):
    home = explored["home"]
    code, out, err = sg(home, "skills", "list", "--json")
    assert code == 0, err
    new = [s["name"] for s in json.loads(out)["skills"] if s["author"] != "seed"]
    assert new, "exploration wrote no skill"
    for name in new:
        code, out, err = sg(home, "skills", "verify", name, "--episodes", "2", "--json")
        assert code == 0, (name, out, err)
        assert json.loads(out)["summary"]["failed"] == 0


def test_the_learning_page_shows_the_exploration(explored):
    from fastapi.testclient import TestClient

    from agent.ui.app import create_app

    home = explored["home"]
    rows = episodes(home)
    app = create_app(home)
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        page = client.get("/learning").text
    assert 'id="exploration"' in page and f"{len(rows)} episodes practised" in page
    for r in rows:
        assert r["template"] in page or r["template"].replace(">", "&gt;") in page
        assert f'href="/runs/{r["run_id"]}"' in page
    assert "library-line" in page and "success-line" in page


def test_usage_errors_and_bad_objects_write_nothing(tmp_path):
    assert sg(tmp_path, "learn", "--budget", "3")[0] == 2
    assert sg(tmp_path, "learn", "--suite", "basic", "--explore")[0] == 2
    assert sg(tmp_path, "learn", "--no-practice")[0] == 2  # needs --explore
    assert sg(tmp_path, "learn", "--explore", "--no-practice")[0] == 2  # and policy training
    code, out, err = sg(tmp_path, "learn", "--explore", "--objects", "red spaceship")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "spaceship" in err
    assert read_home(tmp_path) == ([], [])


def test_the_learning_page_draws_the_exploration_in_chromium(explored):
    from agent.ui.app import create_app
    from agent.ui.chromium import open_page, playwright_missing
    from agent.ui.server import serve

    if playwright_missing() is not None:
        pytest.skip(playwright_missing())
    home = explored["home"]
    rows = episodes(home)
    app = create_app(home)
    with serve(app) as url, open_page() as (page, errors):
        page.goto(url + "/learning")
        # the charts are SVG drawn under the CSP: no inline style, no script
        assert page.locator("#explore-chart polyline").count() == 2
        assert page.locator("#explore-competence svg.timeline rect").count() == len(rows)
        box = page.locator("#explore-chart svg").bounding_box()
        assert box["width"] > 300 and box["height"] > 100
        assert page.locator("#explore-episodes a[href^='/runs/']").count() == len(rows)
        assert errors == []
