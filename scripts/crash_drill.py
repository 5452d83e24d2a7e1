"""The kill -9 crash drill: a library writer SIGKILLed at random moments loses nothing it
acknowledged (issue 19).

Usage: python scripts/crash_drill.py [--kills 100] [--seed 0] [--home DIR] [--json]

Each round starts a writer process on the data home (the real library: `open_library`,
the packaged MiniLM embedder and the local index file, as `skillgrove skills add
--unverified` uses them). The writer adds new skills in a loop and, after each `add`
returns, prints the skill's name, its code's sha256 and its description: that line is
the acknowledgement. The drill kills the writer with SIGKILL at a seeded random moment
(one round in four while it starts up, opens the library and repairs its index, the
others while it adds)
and, before the next round, checks read-only whether the store passes SQLite's check and
the index agrees with it. After the last kill it runs `skillgrove skills doctor --json`
(the repair a user would run) and checks every acknowledged skill: its code is in the
store, and a search for its own description returns it first.

Prints the figures (kills, acknowledged, lost, what needed repair) as text, or as one
JSON object with --json; exits 1 if any acknowledged skill was lost.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ADJECTIVES = ("amber", "brisk", "crooked", "dusty", "eager", "fuzzy", "gentle", "hollow")
NOUNS = ("walnut", "trombone", "lantern", "pebble", "kettle", "saddle", "compass", "thimble")


def skill_for(round_: int, i: int, rng: random.Random) -> tuple[str, str, str]:
    """(name, description, code) of the writer's i-th skill in a round."""
    name = f"drill_r{round_}_{i}"
    a, n, m = rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(NOUNS)
    description = f"Nudge the {a} {n} past the {m}, drill round {round_} item {i}."
    lift = rng.randrange(1, 99)
    code = (
        f'def {name}(robot, obj):\n    """{description}"""\n'
        f"    x, y, z, _ = robot.pose(robot.find(obj))\n"
        f"    robot.move_to((x, y, z + {lift} / 1000))\n"
    )
    return name, description, code


def writer(home: Path, round_: int, seed: int) -> None:  # pragma: no cover - the killed child
    """Add skills until killed; one acknowledgement line after each `add` returns."""
    from skills.library import open_library

    rng = random.Random(seed)
    lib = open_library(home)
    lib.ensure_index()  # builds the index of a new home, repairs one a kill left behind
    lib.embedder.embed(["warm up"])  # loads the model: the adds are what gets killed
    print("ready", flush=True)
    for i in range(1_000_000):
        name, description, code = skill_for(round_, i, rng)
        lib.add(name, code, description, author="human", verified=False)
        sha = hashlib.sha256(code.encode()).hexdigest()
        print(json.dumps({"name": name, "sha256": sha, "description": description}), flush=True)


def _reader(stream, lines: list[str]) -> None:
    for line in stream:
        lines.append(line)


def one_round(home: Path, round_: int, rng: random.Random, max_delay: float) -> list[dict]:
    """Start a writer, SIGKILL it at a random moment; the acknowledgements it printed."""
    child = subprocess.Popen(
        [sys.executable, __file__, "writer", str(home), str(round_), str(rng.randrange(2**31))],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    reading = threading.Thread(target=_reader, args=(child.stdout, lines), daemon=True)
    reading.start()
    if round_ % 4 == 3:  # while it starts: imports, opening the store, the seeds, the index
        time.sleep(rng.uniform(0.0, 1.5))
    else:
        end = time.monotonic() + 120
        while not lines and child.poll() is None and time.monotonic() < end:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, max_delay))
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    reading.join(timeout=10)
    acks = []
    for line in lines:
        if line.endswith("\n") and line.startswith("{"):  # a whole line: the add returned
            acks.append(json.loads(line))
    return acks


def consistency(home: Path) -> dict:
    """Read-only: does the store pass SQLite's check, and does the index agree with it?"""
    from skills.embed import default_embedder
    from skills.library import open_library
    from skills.store import DB_NAME, SkillStore

    if not (home / DB_NAME).exists():
        return {"integrity": None, "missing": 0, "stale": 0, "orphaned": 0}
    store = SkillStore(home / DB_NAME)
    try:
        if store.meta("library_id") is None:  # killed before the library was first opened
            return {"integrity": store.integrity(), "missing": 0, "stale": 0, "orphaned": 0}
    finally:
        store.close()
    with open_library(home, embedder=default_embedder(), install_seeds=False) as lib:
        bad = lib.store.integrity()
        try:
            have = lib.index.entries()
        except Exception:  # noqa: BLE001 - a damaged index file: doctor resets it
            have = {}
        want = lib.expected_entries()
    return {
        "integrity": bad,
        "missing": sum(1 for i in want if i not in have),
        "stale": sum(1 for i in want if i in have and have[i] != want[i]),
        "orphaned": sum(1 for i in have if i not in want),
    }


def check(home: Path, acks: list[dict]) -> dict:
    """Every acknowledged skill: its code in the store, found first by its description."""
    from skills.errors import SkillError
    from skills.library import open_library

    missing_code, not_found = [], []
    with open_library(home) as lib:
        for a in acks:
            try:
                v = lib.get(a["name"])
            except SkillError:
                missing_code.append(a["name"])
                continue
            if hashlib.sha256(v.code.encode()).hexdigest() != a["sha256"]:
                missing_code.append(a["name"])
                continue
            matches = lib.search(a["description"], k=5).matches
            if not matches or matches[0].name != a["name"]:
                not_found.append(a["name"])
    lost = sorted(set(missing_code) | set(not_found))
    return {"lost": len(lost), "missing_code": missing_code, "not_found": not_found}


def drill(home: Path, kills: int, seed: int, max_delay: float) -> dict:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    acks: list[dict] = []
    behind = damaged = 0
    for r in range(kills):
        acks += one_round(home, r, rng, max_delay)
        state = consistency(home)
        damaged += state["integrity"] is not None
        behind += bool(state["missing"] or state["stale"] or state["orphaned"])
    before = consistency(home)
    doctor = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--home", str(home), "skills", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(doctor.stdout) if doctor.returncode == 0 else {"error": doctor.stderr}
    checked = check(home, acks)
    return {
        "kills": kills,
        "seed": seed,
        "acknowledged": len(acks),
        "lost": checked["lost"],
        "missing_code": checked["missing_code"][:20],
        "not_found": checked["not_found"][:20],
        "needed_repair": {
            "kills_leaving_store_damaged": damaged,
            "kills_leaving_index_behind": behind,
            "before_doctor": before,
            "doctor": report,
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    if sys.argv[1:2] == ["writer"]:
        writer(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--home", type=Path, help="data home to drill (default: a temporary one)")
    ap.add_argument("--max-delay", type=float, default=2.0, help="seconds a writer may add")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    if args.kills < 1:
        ap.error("--kills must be at least 1")
    with tempfile.TemporaryDirectory(prefix="crash-drill-") as tmp:
        out = drill(args.home or Path(tmp) / "home", args.kills, args.seed, args.max_delay)
    if args.json:
        print(json.dumps(out))
    else:
        rep = out["needed_repair"]
        print(
            f"{out['kills']} kills, {out['acknowledged']} acknowledged skills, {out['lost']} lost; "
            f"after {rep['kills_leaving_index_behind']} kills the index was behind the store, "
            f"after {rep['kills_leaving_store_damaged']} the store failed its check; "
            f"doctor at the end: {rep['doctor']} ({out['seconds']} s)"
        )
    sys.exit(1 if out["lost"] else 0)


if __name__ == "__main__":
    main()
