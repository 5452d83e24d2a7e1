"""Issue 19, finding 13: numpy warnings in a skill's output name no install path."""

from __future__ import annotations

import json
import sys

from agent.cli import main
from agent.evaluate.paths import scrub

WARNS = '''import numpy as np


def s(robot, obj):
    """Warn twice."""
    print(np.mean(np.array([])))
    robot.find("nothing here")
'''


def test_sandbox_run_output_hides_the_install_path(tmp_path, capsys):
    skill = tmp_path / "w.py"
    skill.write_text(WARNS)
    argv = ["--home", str(tmp_path / "h"), "sandbox", "run", str(skill), "--task", "pick"]
    try:
        code = main([*argv, "--json"])
    except SystemExit as exc:  # `sandbox run` exits 1 itself when the code did not run through
        code = exc.code
    assert code == 1
    out = json.loads(capsys.readouterr().out)
    assert "RuntimeWarning: Mean of empty slice" in out["output"]
    assert "<site-packages>/numpy/" in out["output"]
    for text in (out["output"], out["reason"]):
        assert "site-packages/" not in text.replace("<site-packages>/", "")
        assert sys.prefix not in text


def test_scrub_replaces_every_install_prefix():
    text = (
        f"{sys.prefix}/lib/python3.11/site-packages/numpy/a.py:1: RuntimeWarning: x\n"
        "/opt/venv/lib/python3.12/dist-packages/scipy/b.py:2\n"
        f"{sys.base_prefix}/lib/x.py"
    )
    got = scrub(text)
    assert got.count("<site-packages>/") == 2 and "/opt/venv" not in got
    assert sys.base_prefix not in got or len(sys.base_prefix) <= 1
    assert scrub(None) is None and scrub("plain <skill>:6 text") == "plain <skill>:6 text"
