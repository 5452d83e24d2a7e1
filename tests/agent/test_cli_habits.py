"""CLI habits (issue 21): --version, click's shell completion, plain output off a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

EXE = os.path.join(os.path.dirname(sys.executable), "skillgrove")


def sg(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [EXE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_version_is_the_installed_packages():
    out = sg("--version")
    assert (
        out.returncode == 0 and out.stdout.strip() == f"skillgrove, version {version('skillgrove')}"
    )


def test_shell_completion_is_clicks_and_completes_commands():
    script = sg(env={"_SKILLGROVE_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "_skillgrove_completion()" in script.stdout
    words = {"_SKILLGROVE_COMPLETE": "bash_complete", "COMP_WORDS": "skillgrove skills s"}
    done = sg(env={**words, "COMP_CWORD": "2"})
    assert done.stdout.split() == ["plain,search", "plain,show"]


def test_output_off_a_terminal_has_no_escape_codes_even_when_color_is_forced(tmp_path):
    for env in ({}, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, {"TERM": "dumb"}):
        out = sg("--home", str(tmp_path), "skills", "show", "stack", env=env)
        assert out.returncode == 0 and "def " in out.stdout, out.stderr
        assert "\x1b" not in out.stdout + out.stderr
