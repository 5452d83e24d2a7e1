"""Crash safety: a writer SIGKILLed at random moments never loses a completed add.

A "zygote" process imports chromadb and the library once, then forks one writer child
per round. Each child opens the library (SQLite + a real Chroma directory), runs
`ensure_index` (every fourth round is killed around then: inside the open or the
repair of the previous round's damage), and adds skills and new
versions in a loop, appending "name version hash" to a log after each `add` returns.
The test kills the child with SIGKILL after a random delay, many times, then opens the
library, runs `doctor`, and checks that every logged version is present and intact and
that the index agrees with SQLite.

Run as a script (`python -m tests.skills.test_library_crash zygote HOME`) it is the zygote.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = 16
COLLECTION = "skills-hash256"


def _code(name: str, n: int) -> str:
    return (
        f'def {name}(robot, obj):\n    """Lift the object {n} millimeters.\n\n    Examples:\n'
        f'        lift the red cube by {n} millimeters\n    """\n'
        f"    x, y, z, _ = robot.pose(robot.find(obj))\n    robot.move_to((x, y, z + {n} / 1000))\n"
    )


def _writer(home: Path, log: Path, seed: int) -> None:  # pragma: no cover - runs in the child
    from skills.embed import HashEmbedder
    from skills.index import ChromaIndex
    from skills.library import SkillLibrary

    rng = random.Random(seed)
    with open(log, "a") as out:  # first: a kill while opening the library leaves an empty log
        lib = SkillLibrary(home, HashEmbedder(), ChromaIndex(COLLECTION, path=home / "index"))
        lib.ensure_index()  # repairs what the previous kill left behind (and may be killed itself)
        out.write("ready\n")
        out.flush()
        mine: list[str] = []
        for i in range(10_000):
            if mine and rng.random() < 0.3:
                name = rng.choice(mine)  # a new version of one of ours
            else:
                name = f"s{seed}_{i}"
                mine.append(name)
            n = rng.randrange(1, 999)
            v = lib.add(
                name, _code(name, n), f"Lift by {n} mm, round {seed}.", author="synthesizer"
            )
            out.write(f"{v.name} {v.version} {v.content_hash}\n")
            out.flush()


def _zygote(home: Path) -> None:  # pragma: no cover - a helper process
    import chromadb  # noqa: F401 - imported once, before forking

    import skills.library  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    for line in sys.stdin:
        log, seed = line.split()
        pid = os.fork()
        if pid == 0:
            try:
                _writer(home, Path(log), int(seed))
            finally:
                os._exit(0)
        print(pid, flush=True)


def _wait_for(path: Path, text: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.01)
    raise AssertionError(f"writer never logged {text!r}")


def test_sigkill_never_loses_a_completed_add(tmp_path):
    from skills.embed import HashEmbedder
    from skills.index import ChromaIndex
    from skills.library import SkillLibrary
    from skills.store import content_hash

    home = tmp_path / "home"
    root = Path(__file__).resolve().parents[2]
    zygote = subprocess.Popen(
        [sys.executable, "-m", "tests.skills.test_library_crash", "zygote", str(home)],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    rng = random.Random(7)
    logs = []
    try:
        for r in range(ROUNDS):
            log = tmp_path / f"log{r}.txt"
            logs.append(log)
            zygote.stdin.write(f"{log} {r}\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            if r % 4 == 3:
                time.sleep(rng.uniform(0.0, 0.5))  # while opening or repairing
            else:
                _wait_for(log, "ready")
                time.sleep(rng.uniform(0.0, 0.8))  # while adding
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=30)

    done = [
        line.split() for log in logs for line in log.read_text().splitlines() if line != "ready"
    ]
    assert len(done) > ROUNDS  # the kills landed between many completed adds
    lib = SkillLibrary(home, HashEmbedder(), ChromaIndex(COLLECTION, path=home / "index"))
    try:
        assert lib.store.integrity() is None
        report = lib.doctor()
        print(f"{len(done)} completed adds over {ROUNDS} kills; final doctor: {report}")
        for name, version, h in done:
            v = lib.get(name, int(version))
            assert v.content_hash == h == content_hash(v.code, v.description, *v.examples)
            assert v.code.startswith(f"def {name}(robot, obj):")
        assert lib.doctor().ok
        assert lib.index.entries() == lib.expected_entries()
        name, version, _ = done[-1]
        assert lib.search(f"lift the cube, {name}").matches
    finally:
        lib.close()


if __name__ == "__main__" and sys.argv[1:2] == ["zygote"]:
    _zygote(Path(sys.argv[2]))
