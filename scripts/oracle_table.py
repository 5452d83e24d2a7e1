"""Scripted-oracle success over many seeds for every family, as a markdown table.

Usage: python scripts/oracle_table.py [--episodes 50] [--seed 0] [--workers 2]
Prints the table (and a JSON line with the raw figures) for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time

from sim.families import FAMILIES

_WORLD = None


def _init() -> None:
    global _WORLD
    from sim.world import World

    _WORLD = World()


def _run(job: tuple[str, int]) -> tuple[str, int, bool, float, str | None]:
    from sim.runner import run_oracle

    ep = run_oracle(_WORLD, *job)
    return job[0], job[1], ep.success, ep.seconds, ep.error


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    jobs = [(f, args.seed + i) for f in FAMILIES for i in range(args.episodes)]
    t0 = time.perf_counter()
    with mp.get_context("spawn").Pool(args.workers, initializer=_init) as pool:
        results = pool.map(_run, jobs, chunksize=4)
    wall = time.perf_counter() - t0
    rows = {}
    for fam, seed, ok, secs, _err in results:
        r = rows.setdefault(fam, {"ok": 0, "n": 0, "secs": 0.0, "failed": []})
        r["ok"] += ok
        r["n"] += 1
        r["secs"] += secs
        if not ok:
            r["failed"].append(seed)
    print("| family | success | episodes | s/episode | failed seeds |")
    print("|---|---|---|---|---|")
    for fam, r in rows.items():
        failed = ", ".join(map(str, r["failed"])) or "-"
        print(
            f"| {fam} | {r['ok'] / r['n']:.0%} | {r['n']} | {r['secs'] / r['n']:.2f} | {failed} |"
        )
    total = sum(r["ok"] for r in rows.values()) / sum(r["n"] for r in rows.values())
    print(
        f"\nall families: {total:.1%} over {len(results)} episodes, {wall:.0f} s wall on {args.workers} workers"
    )
    print(json.dumps({f: r["ok"] / r["n"] for f, r in rows.items()}))


if __name__ == "__main__":
    main()
