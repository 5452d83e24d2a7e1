"""Each offline-synthesizer candidate program of some families, run in-process on many scenes.

Usage: python scripts/offline_candidates.py FAMILY[,FAMILY...] [--episodes 20] [--seed 100]
A developer's tool for the building blocks in agent/synth/programs/: it executes trusted,
generated code directly (no sandbox) and prints each recipe's success count and failures.
"""

from __future__ import annotations

import argparse

from agent.plan.parse import parse
from agent.synth.offline import candidates
from sim.runner import reset_task
from sim.world import World
from skills.errors import SkillError
from skills.robot import Robot


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("families")
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=100)
    args = ap.parse_args()
    world = World()
    for family in args.families.split(","):
        stats: dict[str, list] = {}
        for seed in range(args.seed, args.seed + args.episodes):
            task = reset_task(world, family, seed)
            intent = parse(task.instruction, [o.description for o in world.objects])
            for cand in candidates(intent):
                task = reset_task(world, family, seed)
                namespace: dict = {}
                exec(compile(cand.code, "<candidate>", "exec"), namespace)  # noqa: S102 - our own programs
                error = None
                try:
                    namespace[cand.name](Robot(world), **intent.args)
                except SkillError as exc:
                    error = str(exc)
                world.settle()
                ok = task.is_success()
                row = stats.setdefault(cand.recipe, [0, 0, []])
                row[0] += ok
                row[1] += 1
                if not ok:
                    row[2].append((seed, error))
        for recipe, (ok, n, fails) in stats.items():
            print(f"{family:12s} {recipe:50s} {ok}/{n}  {fails[:3] if fails else ''}", flush=True)
    world.close()


if __name__ == "__main__":
    main()
