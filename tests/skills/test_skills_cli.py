"""`skillgrove skills ...`: JSON output, one-line errors, repair (fake embedder in-process)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import main
from tests.fakes import FastEmbedder
from tests.servers import start_chroma

GOOD = '''
def lift_high(robot, obj):
    """Pick an object up and raise it high above the table.

    Examples:
        lift the red cube high
    """
    robot.pick(robot.find(obj))
    x, y, z, _ = robot.pose(robot.find(obj))
    robot.move_to((x, y, 0.3))
'''


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    import skills.embed

    monkeypatch.setattr(skills.embed, "MiniLMEmbedder", FastEmbedder)
    home = tmp_path / "home"

    def run(*args: str, ok: bool = True) -> dict:
        code = main(["--home", str(home), "skills", *args, "--json"])
        out, err = capsys.readouterr()
        lines = out.strip().splitlines()
        assert len(lines) == 1, out  # exactly one JSON object
        data = json.loads(lines[0])
        assert (code == 0) == ok, (code, out, err)
        if not ok:
            assert (
                len(err.strip().splitlines()) == 1
                and err.startswith("error: ")
                and "Traceback" not in err
            )
        return data

    run.home = home
    return run


def _file(tmp_path: Path, text: str, name: str = "skill.py") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_add_list_show_history_rm(cli, tmp_path):
    f = _file(tmp_path, GOOD)
    v1 = cli("add", f, "--name", "lift_high", "--description", "Lift high.", "--unverified")
    assert (v1["name"], v1["version"], v1["verified"], v1["stage"]) == (
        "lift_high",
        1,
        False,
        "unverified",
    )
    assert [p["name"] for p in v1["params"]] == ["obj"]
    v2 = cli("add", f, "--name", "lift_high", "--unverified", "--author", "llm:tiny")
    assert v2["version"] == 2 and v2["description"].startswith("Pick an object up")
    listed = {s["name"]: s for s in cli("list")["skills"]}
    assert listed["lift_high"]["versions"] == 2 and listed["pick_up"]["author"] == "seed"
    shown = cli("show", "lift_high")
    assert shown["version"] == 2 and shown["code"] == GOOD and shown["versions"] == 2
    assert cli("show", "lift_high", "--version", "1")["description"] == "Lift high."
    hist = cli("history", "lift_high")["versions"]
    assert [(h["version"], h["author"]) for h in hist] == [(1, "human"), (2, "llm:tiny")]
    assert cli("rm", "lift_high") == {"removed": "lift_high", "versions": 2}
    assert "lift_high" not in {s["name"] for s in cli("list")["skills"]}


@pytest.mark.parametrize(
    "code, message",
    [
        ("def lift_high(robot, obj):\n    robot.pick(\n", "syntax error"),
        ("def other(robot):\n    pass\n", "no entry function"),
        ("import os\n\ndef lift_high(robot, obj):\n    os.remove('x')\n", "not allowed"),
        ("", "empty"),
    ],
)
def test_add_bad_code_is_one_line_error(cli, tmp_path, code, message):
    out = cli(
        "add", _file(tmp_path, code), "--name", "lift_high", "-d", "x", "--unverified", ok=False
    )
    assert message in out["error"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("show", "nope"), "no skill named 'nope'"),
        (("history", "nope"), "no skill named 'nope'"),
        (("rm", "nope"), "no skill named 'nope'"),
        (("show", "pick_up", "--version", "9"), "no version 9"),
        (("add", "/no/such/file.py", "--name", "x", "--unverified"), "cannot read"),
        (("import", "/no/such/bundle.zip"), "no bundle file"),
        (("search", "  "), "empty"),
    ],
)
def test_bad_input_is_one_line_error(cli, args, message):
    assert message in cli(*args, ok=False)["error"]


def test_add_verifies_in_simulation_unless_unverified(cli, tmp_path, monkeypatch):
    from agent.cli import skills_cmd

    calls = []

    def fake_verify(code, entry, params, families):
        calls.append((entry, tuple(families)))
        ok = "robot.pick" in code
        return skills_cmd.Verification(
            "success" if ok else "runtime",
            {f: (3, 3 if ok else 0) for f in families},
            None if ok else "pick 0/3 episodes succeeded",
        )

    monkeypatch.setattr(skills_cmd, "verify_skill", fake_verify)
    out = cli("add", _file(tmp_path, GOOD), "--name", "lift_high")
    assert calls == [("lift_high", ("pick",))]  # inferred from the parameters (obj)
    assert out["verified"] and out["stage"] == "success" and out["stats"]["pick"]["episodes"] == 3
    bad = GOOD.replace("    robot.pick(robot.find(obj))\n", "")
    err = cli(
        "add", _file(tmp_path, bad, "b.py"), "--name", "lift_high", "--task", "stack", ok=False
    )["error"]
    assert "failed verification" in err and calls[-1] == ("lift_high", ("stack",))
    assert cli("show", "lift_high")["version"] == 1  # nothing stored
    odd = GOOD.replace("(robot, obj)", "(robot, when, where)")
    assert (
        "no task family"
        in cli("add", _file(tmp_path, odd, "c.py"), "--name", "lift_high", ok=False)["error"]
    )
    assert (
        "unknown task family"
        in cli("add", _file(tmp_path, GOOD), "--name", "lift_high", "--task", "juggle", ok=False)[
            "error"
        ]
    )


def test_verify_skill_runs_a_seed_in_the_sandbox():
    from agent.cli.skills_cmd import families_for, verify_skill
    from skills.seed import seed_sources
    from skills.store import parse_source

    code = dict(seed_sources())["stack"]
    assert families_for(parse_source(code, "stack").params) == ["stack"]
    params = parse_source(code, "stack").params
    check = verify_skill(code, "stack", params, ["stack"])
    assert check.verified and check.stats == {"stack": (5, 5)}
    broken = code.replace(
        "    upper = robot.find(top)", "    raise ValueError('broken on purpose')\n    upper = 1"
    )
    check = verify_skill(broken, "stack", params, ["stack"])
    assert check.stage == "syntax" and not check.verified and "broken on purpose" in check.reason


def test_search_export_import_doctor_and_deleted_index(cli, tmp_path):
    res = cli("search", "pick up the red cube", "-k", "3")
    assert res["decision"] == "reuse" and len(res["results"]) == 3
    assert (
        set(res["results"][0]) >= {"name", "score", "version"}
        and res["results"][0]["name"] == "pick_up"
    )
    assert cli("doctor")["ok"]

    shutil.rmtree(cli.home / "index")  # deleted by hand: the next search repairs it
    assert cli("search", "pick up the red cube")["results"][0]["name"] == "pick_up"
    assert cli("doctor")["ok"]

    cli("add", _file(tmp_path, GOOD), "--name", "lift_high", "-d", "Lift high.", "--unverified")
    exported = cli("export", str(tmp_path / "lib.zip"))
    assert exported["versions"] == len(cli("list")["skills"])
    cli("rm", "lift_high")
    imported = cli("import", str(tmp_path / "lib.zip"))
    assert imported["skills"] == ["lift_high"] and imported["added"] == 1
    (tmp_path / "bad.zip").write_bytes(b"garbage")
    assert "not a readable bundle" in cli("import", str(tmp_path / "bad.zip"), ok=False)["error"]


def test_library_url_uses_a_chroma_server(cli, tmp_path):
    server = start_chroma(tmp_path / "srv")  # `chroma run`, chromadb's own server command
    try:
        url = server.url
        res = cli("--library-url", url, "search", "pick up the red cube")
        assert res["results"][0]["name"] == "pick_up"
        assert cli("--library-url", url, "doctor")["ok"]
        assert not (cli.home / "index").exists()  # nothing indexed locally
    finally:
        server.stop()
    err = cli("--library-url", url, "search", "pick up the red cube", ok=False)["error"]
    assert "Chroma server" in err


def test_console_script_prints_one_json_object(tmp_path):
    """The real command: packaged model, Chroma directory, nothing but JSON on stdout."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "--home",
            str(tmp_path / "h"),
            "skills",
            "search",
            "grab the blue block",
            "--json",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["decision"] == "reuse" and data["results"][0]["name"] == "pick_up"
