"""The kill -9 crash drill (scripts/crash_drill.py): three kills in CI, 100 in RESULTS.md."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "crash_drill.py"


def _drill_module():
    spec = importlib.util.spec_from_file_location("crash_drill", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_three_kills_lose_no_acknowledged_skill(tmp_path):
    home = tmp_path / "home"
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--kills", "3", "--seed", "1", "--home", str(home), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = json.loads(res.stdout)
    assert res.returncode == 0, res.stderr
    assert out["kills"] == 3 and out["acknowledged"] > 0
    assert out["lost"] == 0
    repair = out["needed_repair"]
    assert repair["kills_leaving_store_damaged"] == 0
    assert repair["doctor"]["ok"] or repair["doctor"]["repaired"]  # `skills doctor` ran

    # the check sees a loss: a skill the writer acknowledged, then gone from the store
    from skills.library import open_library

    drill = _drill_module()
    rng = random.Random(0)
    name, description, code = drill.skill_for(99, 0, rng)
    with open_library(home) as lib:
        lib.add(name, code, description, verified=False)
    ack = {"name": name, "description": description}
    ack["sha256"] = hashlib.sha256(code.encode()).hexdigest()
    assert drill.check(home, [ack])["lost"] == 0
    with open_library(home) as lib:
        lib.remove(name)
    assert drill.check(home, [ack]) == {"lost": 1, "missing_code": [name], "not_found": []}
