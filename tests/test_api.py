"""The Python API (`import skillgrove`): the README's example as written, records with the
fields of the CLI's `--json`, and the CLI's one-line errors as exceptions."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import skillgrove
from agent.cli import main

ROOT = Path(__file__).resolve().parents[1]
RUN = ("put the red cube left of the blue bowl", "red cube, blue bowl, green cube")
BROKEN = "def broken(robot, obj):\n    return (\n"


def readme_example() -> str:
    """The first Python block of the README's "From Python" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## From Python\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def cli(tmp_path, capsys):
    """Run `skillgrove --home HOME ARGS --json`: (exit code, JSON object, stderr)."""
    home = tmp_path / "home"

    def run(*args: str) -> tuple[int, dict, str]:
        code = main(["--home", str(home), *args, "--json"])
        out, err = capsys.readouterr()
        return code, json.loads(out), err

    run.home = home
    return run


def test_readme_example_runs_as_written(tmp_path):
    code = readme_example()
    assert "skillgrove.open(" in code and len(code.splitlines()) <= 20
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # its temporary home lands here
    p = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("True left_of(red cube, blue bowl) ")
    assert lines[1].startswith("  left_of(red cube, blue bowl): True (margin ")
    assert lines[-1].startswith("refused: no 'purple bowl' in the scene (it has: red cube, ")
    assert any((tmp_path / d / "skillgrove.db").exists() for d in os.listdir(tmp_path))


def test_run_record_has_the_fields_of_run_json(cli):
    code, data, _ = cli("run", RUN[0], "--objects", RUN[1])
    assert code == 0
    assert skillgrove.RunResult.from_dict(data).to_dict() == data  # every field, typed
    r = skillgrove.open(cli.home).run(RUN[0], objects=RUN[1])
    assert isinstance(r, skillgrove.RunResult)
    assert isinstance(r.atoms[0], skillgrove.Atom)
    assert isinstance(r.decisions[0], skillgrove.Decision)
    got = r.to_dict()
    assert list(got) == list(data)  # same keys, same order
    for key in ("success", "goal", "family", "family_source", "planner", "perception", "steps"):
        assert got[key] == data[key], key
    assert [(a["atom"], a["value"]) for a in got["atoms"]] == [
        (a["atom"], a["value"]) for a in data["atoms"]
    ]
    assert got["run_id"] != data["run_id"]  # a run of its own, stored
    code, shown, _ = cli("runs", "show", r.run_id)
    assert code == 0


def test_search_matches_skills_search_json(cli):
    lib = skillgrove.open(cli.home)
    hits = lib.search("put the cube in the bowl", k=3)
    code, data, _ = cli("skills", "search", "put the cube in the bowl", "-k", "3")
    assert code == 0
    assert hits.to_dict() == data
    assert isinstance(hits.results[0], skillgrove.Match) and hits.results[0].name == "put_in"


def test_add_skill_record_and_errors_match_the_cli(cli, tmp_path):
    good = (ROOT / "skills" / "seed").glob("*.py")
    src = next(p for p in sorted(good) if p.stem != "__init__")
    name = src.stem
    code, data, _ = cli("skills", "add", str(src), "--name", name, "--unverified")
    assert code == 0
    v = skillgrove.open(cli.home).add_skill(name, src.read_text(), unverified=True)
    assert isinstance(v, skillgrove.SkillVersion) and not v.verified
    assert list(v.to_dict()) == list(data)
    assert v.version == data["version"] + 1 and v.stage == data["stage"] == "unverified"

    bad = tmp_path / "broken.py"
    bad.write_text(BROKEN)
    code, err_json, err = cli("skills", "add", str(bad), "--name", "broken", "--unverified")
    assert code == 1
    with pytest.raises(skillgrove.SkillError) as exc:
        skillgrove.open(cli.home).add_skill("broken", BROKEN, unverified=True)
    assert str(exc.value) == err_json["error"] and "\n" not in str(exc.value)


def test_errors_are_the_cli_one_line_errors(cli, tmp_path):
    lib = skillgrove.open(cli.home)
    code, data, _ = cli("run", RUN[0], "--policy-version", "1")
    assert code == 1
    with pytest.raises(skillgrove.AgentError, match="^--policy-version needs") as exc:
        lib.run(RUN[0], policy_version="1")
    assert str(exc.value) == data["error"]

    goal = "in(red cube, purple bowl)"
    code, data, _ = cli("run", "tidy up", "--objects", "red cube, blue bowl", "--goal", goal)
    assert code == 1
    with pytest.raises(skillgrove.SimError) as exc:
        lib.run("tidy up", objects="red cube, blue bowl", goal=goal)
    assert str(exc.value) == data["error"]

    with pytest.raises(skillgrove.AgentError, match="seed 3000000000 is out of range"):
        lib.run(RUN[0], seed=3_000_000_000)  # an evaluation seed, refused as by --seed
    afile = tmp_path / "a-file"
    afile.write_text("")
    with pytest.raises(skillgrove.AgentError, match="cannot be written"):
        skillgrove.open(afile)


def test_policy_train_evaluate_and_correct(cli):
    lib = skillgrove.open(cli.home)
    tr = lib.train_policy(["pick"], n_train=6, n_test=3, steps=5, threads=1)
    assert isinstance(tr, skillgrove.TrainResult) and tr.version == 1 and tr.families == ["pick"]
    ev = lib.evaluate_policy(episodes=2, mode="proxy", threads=1)
    code, data, _ = cli("policy", "eval", "--episodes", "2", "--mode", "proxy")
    assert code == 0
    assert list(ev.to_dict()) == list(data) and ev.version == data["version"] == 1
    assert list(ev.results["pick"]) == list(data["results"]["pick"])

    with pytest.raises(skillgrove.AgentError, match="nothing to correct"):
        lib.correct("pick", seed=1)
    c = lib.correct("pick", seed=1, pixel=(100, 100), angle=30)
    code, data, _ = cli("policy", "correct", "--family", "pick", "--pixel", "90", "90")
    assert code == 0
    assert list(c.to_dict()) == list(data) and c.stored and c.id == 1 and data["id"] == 2
    code, listed, _ = cli("policy", "corrections", "list")
    assert listed["total"] == 2


def test_public_surface_is_documented_and_light():
    for name in skillgrove.__all__:
        obj = getattr(skillgrove, name)
        assert obj.__doc__, name
        if dataclasses.is_dataclass(obj):
            assert obj.from_dict.__doc__ and obj.to_dict.__doc__
    for name, fn in vars(skillgrove.Library).items():
        if callable(fn) and not name.startswith("_"):
            assert fn.__doc__, f"Library.{name}"
    code = "import sys, skillgrove; print(sorted({'torch', 'pybullet', 'chromadb'} & set(sys.modules)))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout.strip() == "[]"
