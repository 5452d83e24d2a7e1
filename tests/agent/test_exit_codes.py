"""Exit codes that tell the truth (issue 19, finding 4), and terminal-safe human output
(finding 13): the agent is a fake, so these run in well under a second.

0: done and, for `run`/`learn`, the goal held; 3: ran, but the goal was not reached (the
code `skills verify` gives a version that fails); 1: an error; 2: a usage error.
"""

from __future__ import annotations

import contextlib
import json
from types import SimpleNamespace

import pytest

from agent.cli import main
from agent.run.records import Decision, RunRecord


def _record(success: bool, instruction: str = "put the red cube in the blue bowl") -> RunRecord:
    return RunRecord(
        run_id="r0001",
        instruction=instruction,
        family="",
        family_source="words",
        seed=0,
        planner="offline",
        perception="oracle",
        plan=(instruction,),
        decisions=(Decision(instruction, "reuse", 0.9, "put_in", 1),),
        skills=("put_in@v1",),
        success=success,
        status="ok",
        reason=None if success else "the cube is beside the bowl",
        seconds=0.1,
        llm_calls=0,
        tokens=0,
        goal="in(red cube, blue bowl)",
        atoms=(
            {"atom": "in(red cube, blue bowl)", "value": success, "margin": 0.01, "detail": "x"},
        ),
    )


@pytest.fixture
def fake_agent(monkeypatch):
    """`agent.factory.build_agent` answering every run with the record `runs[0]`."""
    import agent.factory

    runs: list[RunRecord] = []

    @contextlib.contextmanager
    def build_agent(home, opts, log=None):
        yield SimpleNamespace(run=lambda *a, **k: runs[0])

    monkeypatch.setattr(agent.factory, "build_agent", build_agent)
    return runs


@pytest.mark.parametrize("success, code", [(True, 0), (False, 3)])
def test_run_exits_0_only_when_the_goal_holds(fake_agent, tmp_path, capsys, success, code):
    fake_agent.append(_record(success))
    assert (
        main(["--home", str(tmp_path), "run", "put the red cube in the blue bowl", "--json"])
        == code
    )
    out = json.loads(capsys.readouterr().out)
    assert out["success"] is success  # the JSON is printed either way
    assert main(["--home", str(tmp_path), "run", "put the red cube in the blue bowl"]) == code
    assert capsys.readouterr().out.startswith("SUCCESS" if success else "FAILED")


def test_errors_are_1_and_usage_errors_2(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "run", "   ", "--task", "stack"]) == 1  # refused
    assert main(["--home", str(tmp_path), "run", "x", "--distractors", "99"]) == 2
    assert main(["--home", str(tmp_path), "run"]) == 2  # no instruction
    capsys.readouterr()


def test_an_empty_home_is_a_usage_error_not_the_default_home(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))  # where ~/.skillgrove would be created
    for home in ("", "  "):
        assert main(["--home", home, "skills", "list", "--json"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --home") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / ".skillgrove").exists()


def test_learn_exits_3_when_a_task_was_not_reached(monkeypatch, tmp_path, capsys):
    from agent.cli import learn_cmd

    def report(successes):
        tasks = [
            {
                "pass": 1,
                "family": "pick",
                "seed": i,
                "success": ok,
                "decisions": ["reuse"],
                "llm_calls": 0,
                "seconds": 0.1,
            }
            for i, ok in enumerate(successes)
        ]
        return {
            "suite": "tiny",
            "passes": [],
            "success_rate": 0.5,
            "seconds": 0.2,
            "dir": "x",
            "tasks": tasks,
        }

    for successes, code in (((True, True), 0), ((True, False), 3)):
        monkeypatch.setattr(
            learn_cmd,
            "run_curriculum",
            lambda app, suite, opts, s=successes: (None, report(s), tmp_path, 1),
        )
        assert main(["--home", str(tmp_path), "learn", "--suite", "basic", "--json"]) == code
        assert [t["success"] for t in json.loads(capsys.readouterr().out)["tasks"]] == list(
            successes
        )


def test_the_codes_are_documented_in_help(capsys):
    for args in (["--help"], ["run", "--help"], ["learn", "--help"]):
        with contextlib.suppress(SystemExit):
            main(args)
        out = capsys.readouterr().out
        assert "Exit status" in out and "3" in out and "usage error" in out


# -- finding 13: control characters and bidi overrides never reach the terminal ---------
EVIL = "put the red cube\x1b]52;c;cm0gLXJmIH4=\x07 in the \u202eblue bowl\x1b[2J\r"


def test_human_output_escapes_control_characters_and_bidi_overrides(fake_agent, tmp_path, capsys):
    fake_agent.append(_record(False, EVIL))
    assert main(["--home", str(tmp_path), "run", EVIL]) == 3
    out, err = capsys.readouterr()
    for raw in ("\x1b", "\x07", "\u202e", "\r"):
        assert raw not in out and raw not in err
    assert "\\x1b]52;c;" in out and "\\u202e" in out and "\\x07" in out
    # the JSON keeps the text exactly (json.dumps escapes it already)
    assert main(["--home", str(tmp_path), "run", EVIL, "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["atoms"][0]["atom"] == "in(red cube, blue bowl)"


def test_error_lines_are_escaped_too(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "runs", "show", "no\x1b[2Jsuch\u2066run"]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u2066" not in err and "\\x1b[2J" in err and "\\u2066" in err


def test_safe_keeps_text_newlines_and_tabs():
    from agent.cli.terminal import safe

    assert safe("a\tb\nc é ü 日本") == "a\tb\nc é ü 日本"
    assert safe("\x00\x08\x7f\x9b\u200f\u2028") == "\\x00\\x08\\x7f\\x9b\\u200f\\u2028"
