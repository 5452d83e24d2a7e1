"""A read-only data home (issue 19, finding 5): the read commands work on it, a write is
one line and writes nothing.

Read-only means the whole home, folders included (SQLite's WAL journal needs a writable
folder, so a read-only database file alone is the easier case, see test_store_errors.py).
Root ignores file permissions, so as root the home is bind-mounted read-only in a mount
namespace of its own (`unshare -m`): the kernel refuses every write, root's included. As
another user, `chmod -R a-w` does it. The commands run in a child process, which first
checks that it really cannot create a file in the home: the test proves its premise.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_upgrade import EXPECTED, FIXTURE, kept

ROOT = Path(__file__).resolve().parents[2]
RUNNER = """
import io, json, sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
sys.path.insert(0, {root!r})
from agent.cli import main

home, commands = Path(sys.argv[1]), json.loads(sys.argv[2])
try:
    (home / "probe").write_text("x")
    writable = True
except OSError:
    writable = False
out = []
for args in commands:
    o, e = io.StringIO(), io.StringIO()
    with redirect_stdout(o), redirect_stderr(e):
        code = main(["--home", str(home), *args, "--json"])
    out.append([code, o.getvalue().replace(str(home), "<home>"), e.getvalue()])
pages = []
if len(sys.argv) > 3:  # the web UI's pages on the same read-only home
    from fastapi.testclient import TestClient
    from agent.ui.app import create_app
    with TestClient(create_app(home), base_url="http://127.0.0.1:8000") as client:
        for url in json.loads(sys.argv[3]):
            r = client.get(url)
            pages.append([r.status_code, r.text])
print(json.dumps({{"writable": writable, "results": out, "pages": pages}}))
"""


def tree_digest(home: Path) -> dict[str, str]:
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


def run_read_only(
    home: Path, commands: list[list[str]], tmp_path: Path, pages: list[str] = ()
) -> dict:
    """Run `commands` (skillgrove ARGS --json) in a child for which `home` is read-only."""
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER.format(root=str(ROOT)))
    argv = [sys.executable, str(runner), str(home), json.dumps(commands)]
    if pages:
        argv.append(json.dumps(list(pages)))
    env = {**os.environ, "SKILLGROVE_LIBRARY_URL": ""}
    if os.geteuid() != 0:
        for p in [home, *home.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
        finally:
            for p in [home, *home.rglob("*")]:
                p.chmod(p.stat().st_mode | 0o200)
    else:
        if not shutil.which("unshare"):
            pytest.skip("root, and no unshare to mount the home read-only")
        mount = f'mount --bind "{home}" "{home}" && mount -o remount,bind,ro "{home}"'
        shell = f'{mount} || exit 97; exec "$@"'
        done = subprocess.run(
            ["unshare", "-m", "sh", "-c", shell, "sh", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        if done.returncode == 97 or "unshare failed" in done.stderr:
            pytest.skip(f"root, and no read-only bind mount here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["writable"] is False  # the premise: nothing in the home can be written
    return got


def test_read_commands_work_on_a_read_only_home_and_a_write_is_one_line(tmp_path):
    home = tmp_path / "home"
    shutil.copytree(FIXTURE, home)
    (home / "expected.json").unlink()
    before = tree_digest(home)
    run_id = EXPECTED["runs list"]["runs"][0]["run_id"]
    (tmp_path / "grab.py").write_text(
        'def grab(robot, obj):\n    """Grab."""\n    robot.pick(obj)\n'
    )
    reads = {
        "skills list": ["skills", "list"],
        "skills show": ["skills", "show", "nudge"],
        "skills history": ["skills", "history", "put_left_of"],
        "skills search": ["skills", "search", "Push {obj} a bit along x."],
        "runs list": ["runs", "list"],
        "runs show": ["runs", "show", run_id],
        "policy corrections list": ["policy", "corrections", "list"],
        "policy checkpoints": ["policy", "checkpoints"],
    }
    writes = [["skills", "add", str(tmp_path / "grab.py"), "-n", "grab", "--unverified"]]
    got = run_read_only(home, [*reads.values(), *writes], tmp_path)["results"]

    shown = {}
    for (what, args), (code, out, err) in zip(reads.items(), got, strict=False):
        assert code == 0 and "Traceback" not in err, (args, err)
        shown[what] = json.loads(out)
    kept(EXPECTED["skills list"], shown["skills list"], "skills list")
    kept(EXPECTED["skills show"]["nudge"], shown["skills show"], "show nudge")
    kept(EXPECTED["skills history"]["put_left_of"], shown["skills history"], "history")
    assert shown["skills search"]["results"][0]["name"] == "nudge"
    kept(EXPECTED["runs list"], shown["runs list"], "runs list")
    kept(EXPECTED["runs show"][run_id], shown["runs show"], "runs show")
    kept(EXPECTED["policy corrections list"], shown["policy corrections list"], "corrections")
    kept(EXPECTED["policy checkpoints"], shown["policy checkpoints"], "checkpoints")

    code, out, err = got[-1]  # the write: refused in one line, nothing written
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 1 and len(lines) == 1 and "Traceback" not in err, err
    assert "nothing was written" in lines[0] and "<home>" in out
    assert tree_digest(home) == before


def test_the_web_ui_shows_a_read_only_home(tmp_path):
    """The UI only reads: its library and runs pages work on a home nobody can write."""
    home = tmp_path / "home"
    shutil.copytree(FIXTURE, home)
    (home / "expected.json").unlink()
    before = tree_digest(home)
    run_id = EXPECTED["runs list"]["runs"][0]["run_id"]
    got = run_read_only(
        home, [], tmp_path, pages=["/", "/skills/nudge", "/runs", f"/runs/{run_id}"]
    )
    for (status, text), url in zip(
        got["pages"], ["/", "/skills/nudge", "/runs", "/runs/x"], strict=True
    ):
        assert status == 200, (url, text[-500:])
    assert "nudge" in got["pages"][0][1] and run_id in got["pages"][2][1]
    assert tree_digest(home) == before
