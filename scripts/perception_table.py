"""Success of `skillgrove run` with oracle vs policy perception, per family, as a markdown table.

Usage: python scripts/perception_table.py [--home DIR] [--families pick,place,...]
           [--episodes 20] [--policy-version N] [--json]

For each family and each of the first N held-out seeds (odd: the policy never trained on
them) it runs the family's own instruction with `--task FAMILY --seed S`, once with
`--perception oracle` and once with `--perception policy`, through the same agent as
`skillgrove run` (`agent.factory.build_agent` + `Agent.run`, one agent per perception
instead of one process per run). Skills are verified with oracle poses either way; the
runs are recorded in the data home. Families default to those the checkpoint learned.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path


def measure(home: Path, families: list[str], seeds: list[int], version: str | None) -> dict:
    """{family: {"oracle", "policy" (success rates), "episodes", "policy_failed" and
    "oracle_failed" ({seed: reason}, where any failed)}}."""
    from agent.factory import AgentOptions, build_agent
    from agent.run.scenes import Scenes

    scenes = Scenes()
    jobs = [(f, s, scenes.scene(f, s).instruction) for f in families for s in seeds]
    scenes.close()
    out = {f: {"episodes": len(seeds)} for f in families}
    for perception in ("oracle", "policy"):
        opts = replace(AgentOptions(), perception=perception, policy_version=version)
        with build_agent(home, opts) as agent:
            for fam, seed, text in jobs:
                rec = agent.run(text, fam, seed)
                row = out[fam]
                row[perception] = row.get(perception, 0) + rec.success
                if not rec.success:
                    row.setdefault(f"{perception}_failed", {})[seed] = rec.reason or rec.status
    for row in out.values():
        for perception in ("oracle", "policy"):
            row[perception] = row.get(perception, 0) / len(seeds)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default=os.environ.get("SKILLGROVE_HOME", "~/.skillgrove"))
    ap.add_argument("--families", default=None, help="comma-separated (default: the checkpoint's)")
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--policy-version", default=None)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = ap.parse_args()
    from agent.policy.checkpoint import resolve
    from agent.policy.data import split_seeds

    home = Path(args.home).expanduser()
    info = resolve(home, args.policy_version)
    families = args.families.split(",") if args.families else list(info.manifest["families"])
    seeds = split_seeds("test", args.episodes)
    t0 = time.perf_counter()
    rows = measure(home, families, seeds, str(info.version))
    result = {
        "version": info.version,
        "seeds": seeds,
        "families": rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"policy checkpoint v{info.version:04d}, held-out seeds {seeds[0]}..{seeds[-1]} (odd)\n")
    print("| family | oracle | policy | episodes |")
    print("|---|---|---|---|")
    for fam, r in rows.items():
        print(f"| {fam} | {r['oracle']:.0%} | {r['policy']:.0%} | {r['episodes']} |")
    print(f"\n{result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
