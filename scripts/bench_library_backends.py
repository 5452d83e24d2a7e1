"""Library operations on both backends: SQLite + the home's index file vs Postgres + a Chroma
server (issue 16, "Measured").

Usage: python scripts/bench_library_backends.py [--skills 1000] [--adds 50] [--searches 200]
       [--hash]

For each backend: a library filled to `--skills` skills (filler as `bench/latency.py`
makes it: one `add_many`), then `--adds` single `add`s of new skills (each its own
locked write: store transaction, then the index) and `--searches` searches (the
`Searcher`, query embedding included; `embed` is the embedding alone). Postgres and
Chroma are real servers on 127.0.0.1, started and stopped by `tests/servers.py`. The
embedder is the packaged MiniLM (`--hash`: the hashing test embedder). Prints one JSON
object: per backend the fill seconds, add and search p50/p95 in ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.latency import TableEmbedder, _fill, _percentiles, _time_searches  # noqa: E402
from skills.library import open_library  # noqa: E402

CODE = '''def {name}(robot, obj):
    """{description}"""
    robot.pick(robot.find(obj))
'''


def measure(home: Path, library_url: str | None, store_url: str | None, real, args) -> dict:
    from skills.search import Searcher

    rng = np.random.default_rng(0)
    table = TableEmbedder(real)
    lib = open_library(home, library_url, store_url=store_url, embedder=table)
    try:
        lib.ensure_index()
        fill_s = _fill(lib, table, args.skills, rng)
        adds = []
        for i in range(args.adds):
            description = f"Bench skill number {i}: lift the object and hold it still."
            code = CODE.format(name=f"bench_add_{i}", description=description)
            t0 = time.perf_counter()
            lib.add(f"bench_add_{i}", code)
            adds.append((time.perf_counter() - t0) * 1000)
        lib.ensure_index()
        queries = [v.description for v in lib.store.latest_versions()[:: max(1, args.skills // 50)]]
        searcher = Searcher(lib)
        for q in queries[:5]:  # warm: the index matrix or connection, the model
            searcher.search(q, 5)
        search, embed = _time_searches(searcher, queries, args.searches)
        return {
            "skills": len(lib.store.names()),
            "fill_s": round(fill_s, 2),
            "add": _percentiles(adds),
            "search": search,
            "embed": embed,
            "doctor_ok": lib.doctor(repair=False).ok,
        }
    finally:
        lib.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--skills", type=int, default=1000)
    p.add_argument("--adds", type=int, default=50)
    p.add_argument("--searches", type=int, default=200)
    p.add_argument("--hash", action="store_true", help="the hashing embedder, not MiniLM")
    args = p.parse_args(argv)

    from skills.embed import HashEmbedder, default_embedder
    from tests.servers import create_database, start_chroma, start_postgres

    real = HashEmbedder(384) if args.hash else default_embedder()
    out: dict = {"embedder": real.name, **vars(args)}
    with tempfile.TemporaryDirectory(prefix="sg-bench-") as tmp:
        work = Path(tmp)
        out["sqlite+local_index"] = measure(work / "local", None, None, real, args)
        pg = start_postgres(work / "pg")
        chroma = start_chroma(work / "chroma")
        try:
            url = create_database(pg.url, "bench")
            out["postgres+chroma_server"] = measure(work / "shared", chroma.url, url, real, args)
        finally:
            chroma.stop()
            pg.stop()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
