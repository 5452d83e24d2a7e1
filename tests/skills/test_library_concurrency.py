"""Writers at once: 3 processes add 20 skills each to one library, some names shared so
their versions interleave; then every skill is there, found first by a search for its
own description, versions unique and gapless per name, and the index in step with the
store without any repair (`skills doctor --check` clean).

On the default local home (3 processes on one home: the file lock, SQLite's
BEGIN IMMEDIATE, the home's index file) and on Postgres + a Chroma server (3 homes, as 3
machines: the advisory lock, one shared collection)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from agent.cli import main
from skills.embed import HashEmbedder

ROOT = Path(__file__).resolve().parents[2]
PROCESSES, EACH, SHARED = 3, 20, 8  # per process: 8 shared names, 12 of its own
WRITER = """
import sys, time, json
from pathlib import Path
sys.path.insert(0, {root!r})
from skills.embed import HashEmbedder
from skills.library import open_library

home, chroma, store, p, go = sys.argv[1:6]
lib = open_library(home, chroma or None, store_url=store or None, embedder=HashEmbedder(1024))
Path(go + f".ready{{p}}").touch()
while not Path(go).exists():
    time.sleep(0.01)
for name, description in json.loads(sys.argv[6]):
    lib.add(name, CODE.format(name=name, description=description))
assert not lib.warnings, lib.warnings
lib.close()
"""
CODE = '''def {name}(robot, obj):
    """{description}"""
    robot.pick(robot.find(obj))
'''


def plan(p: int) -> list[tuple[str, str]]:
    """What process `p` adds: (name, description), shared names first."""
    out = []
    for i in range(EACH):
        name = f"shared_{i}" if i < SHARED else f"own_{p}_{i}"
        words = " ".join(f"w{p}x{i}y{k}" for k in range(4))  # unique to this version
        out.append((name, f"Carry the object past {words}."))
    return out


def run_writers(tmp_path: Path, backend) -> None:
    go = tmp_path / "go"
    homes = [tmp_path / "home"] * PROCESSES
    if backend.store_url:  # one home per process: three machines sharing the store
        homes = [tmp_path / f"home{p}" for p in range(PROCESSES)]
    script = WRITER.format(root=str(ROOT)).replace("CODE", repr(CODE))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                script,
                str(homes[p]),
                backend.chroma_url or "",
                backend.store_url or "",
                str(p),
                str(go),
                json.dumps(plan(p)),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(PROCESSES)
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(Path(f"{go}.ready{p}").exists() for p in range(PROCESSES)):
            assert all(pr.poll() is None for pr in procs), [pr.communicate() for pr in procs]
            assert time.monotonic() < deadline, "the writers did not start"
            time.sleep(0.05)
        go.touch()  # all at once
        for pr in procs:
            _, err = pr.communicate(timeout=120)
            assert pr.returncode == 0, err
    finally:
        for pr in procs:
            if pr.poll() is None:
                pr.kill()
                pr.wait()


def test_three_writers_at_once(tmp_path, backend, monkeypatch):
    home = tmp_path / "home"
    lib = backend.open(home, embedder=HashEmbedder(1024))
    lib.ensure_index()  # the seeds' entries: from here on every write keeps the index in step
    lib.close()

    run_writers(tmp_path, backend)

    lib = backend.open(home, embedder=HashEmbedder(1024))
    store = lib.store
    latest = {}
    for p in range(PROCESSES):
        for name, description in plan(p):
            latest.setdefault(name, []).append(description)
    assert set(latest) <= set(store.names())
    for name, descriptions in latest.items():
        history = lib.history(name)
        assert [v.version for v in history] == list(range(1, len(descriptions) + 1)), name
        assert sorted(v.description for v in history) == sorted(descriptions)  # none lost
    # every write moved the index along with the store: nothing to repair
    assert lib.index.built_at() == store.generation()
    report = lib.doctor(repair=False)
    assert report.ok, report
    for name in latest:
        found = lib.search(lib.get(name).description).matches[0]
        assert (found.name, found.version) == (name, len(latest[name])), name
    lib.close()

    import skills.embed

    monkeypatch.setattr(skills.embed, "default_embedder", lambda: HashEmbedder(1024))
    monkeypatch.delenv("SKILLGROVE_STORE_URL", raising=False)
    monkeypatch.delenv("SKILLGROVE_LIBRARY_URL", raising=False)
    assert main(["--home", str(home), "skills", *backend.options, "doctor", "--check"]) == 0
