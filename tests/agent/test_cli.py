"""The command line: JSON shapes of DESIGN.md, one-line errors, light start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sim.families import FAMILIES


def cli(*args: str, home=None) -> subprocess.CompletedProcess:
    extra = ["--home", str(home)] if home else []
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *extra, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_imports_nothing_heavy():
    code = (
        "import sys\nfrom agent.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'pybullet', 'chromadb', 'sentence_transformers') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    ).stdout
    assert "HEAVY []" in out
    assert "oracle" in out and "tasks" in out


def test_tasks_list_json_shape():
    res = cli("tasks", "list", "--json")
    assert res.returncode == 0, res.stderr
    fams = json.loads(res.stdout)["families"]
    assert [f["id"] for f in fams] == list(FAMILIES)
    for f in fams:
        assert set(f) == {"id", "env_id", "template", "slots"}
        assert f["env_id"].startswith("skillgrove/") and f["env_id"].endswith("-v0")
        for slot in f["slots"]:
            assert "{" + slot + "}" in f["template"]


def test_tasks_show_json_and_determinism():
    a = cli("tasks", "show", "put-in-bowl", "--seed", "4", "--json")
    b = cli("tasks", "show", "put-in-bowl", "--seed", "4", "--json")
    assert a.returncode == 0, a.stderr
    da = json.loads(a.stdout)  # stdout holds exactly one JSON object: no PyBullet banner
    assert {"family", "seed", "instruction", "params"} <= set(da)
    assert da["instruction"] == f"put the {da['params']['obj']} in the {da['params']['bowl']}"
    assert a.stdout == b.stdout


def test_oracle_json_shape_and_gif(tmp_path):
    gif = tmp_path / "stack.gif"
    res = cli("oracle", "stack", "--episodes", "2", "--seed", "3", "--gif", str(gif), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert {"family", "episodes", "success_rate", "seconds"} <= set(data)
    assert data["family"] == "stack" and data["episodes"] == 2 and data["success_rate"] == 1.0
    assert gif.read_bytes()[:6] in (b"GIF89a", b"GIF87a")


@pytest.mark.parametrize(
    "args",
    [
        ("oracle", "nope", "--episodes", "1"),
        ("oracle", "stack", "--episodes", "-3"),
        ("oracle", "stack", "--seed", "-1"),
        ("oracle", "stack", "--seed", "abc"),
        ("tasks", "show", "unknown-family"),
    ],
)
def test_bad_input_is_one_line_nonzero(args):
    res = cli(*args)
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip() and "pybullet build time" not in ln]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr


def test_unwritable_home_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    res = cli("demo", "--json", home=blocker / "home")
    assert res.returncode != 0
    assert "cannot be written" in json.loads(res.stdout)["error"]
    assert "Traceback" not in res.stderr


def test_learn_runs_a_suite_and_writes_report_and_plots(tmp_path):
    suite = tmp_path / "tiny.json"
    suite.write_text(
        json.dumps({"name": "tiny", "passes": 2, "tasks": [{"family": "pick", "seed": 1}]})
    )
    res = cli("learn", "--suite", str(suite), "--episodes", "1", "--json", home=tmp_path / "home")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert [p["pass"] for p in data["passes"]] == [1, 2]
    assert all(t["success"] for t in data["tasks"])
    assert data["passes"][1]["reuse_rate"] == 1.0  # the second pass reuses what the first verified
    out = tmp_path / "home" / "learn"
    (report_dir,) = list(out.iterdir())
    for name in ("report.json", "report.md", "library_growth.png", "success.png"):
        assert (report_dir / name).stat().st_size > 0
    runs = cli("runs", "list", "--json", home=tmp_path / "home")
    assert len(json.loads(runs.stdout)["runs"]) == 2


def test_run_rejects_unknown_suite_and_empty_instruction(tmp_path):
    res = cli("learn", "--suite", "no-such-suite", home=tmp_path)
    assert res.returncode != 0 and "unknown suite" in res.stderr
    res = cli("run", "   ", "--task", "stack", home=tmp_path)
    assert res.returncode != 0 and "empty" in res.stderr
