"""How well a checkpoint learns a new family from N oracle demonstrations (not corrections).

Usage: python scripts/demo_ceiling.py --family push [--home DIR] [--version N] [--n 400]
           [--steps 1500] [--no-augment] [--episodes 30] [--json]

The reference point for the correction loop: the same fine-tuning (replay of the families
the checkpoint knows, 200 demonstrations each) on N oracle demonstrations of the new
family, then success in the simulator on held-out scenes. Nothing is saved.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def measure(
    home: Path, family: str, version, n: int, steps: int, augment: bool, episodes: int
) -> dict:
    from agent.policy.augment import Augment
    from agent.policy.data import load_demos, split_seeds
    from agent.policy.evaluate import evaluate_sim
    from agent.policy.loop import FitConfig, fit, observe
    from agent.policy.prepare import Prepared, prepare
    from agent.policy.settings import Optim
    from agent.policy.strategies import make_strategies
    from agent.policy.train import load_policy

    policy = load_policy(home, version, threads=1)
    known = [f for f in policy.info.get("families") or [] if f != family]
    plugins = make_strategies("replay")
    if known:
        old = Prepared.cat(
            [
                prepare(
                    load_demos(home, f, "train", 200, policy.spec), policy.spec, policy.encoder, 0
                )
                for f in known
            ]
        )
        observe(policy.model, old, plugins, 1)
    data = prepare(
        load_demos(home, family, "train", n, policy.spec), policy.spec, policy.encoder, 1
    )
    cfg = FitConfig(
        steps, Optim(seed=1, threads=1), augment=Augment(policy.spec) if augment else None
    )
    t0 = time.perf_counter()
    policy.model = fit(policy.model, data, cfg, plugins, index=1, name=family).model
    secs = time.perf_counter() - t0
    ev = evaluate_sim(policy, family, split_seeds("test", episodes))
    return {
        "family": family,
        "known": known,
        "n": n,
        "steps": steps,
        "augment": augment,
        "train_seconds": secs,
        "success": ev.success,
        "episodes": episodes,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", required=True)
    ap.add_argument(
        "--home",
        type=Path,
        default=Path(os.environ.get("SKILLGROVE_HOME", "~/.skillgrove")).expanduser(),
    )
    ap.add_argument("--version", default="latest")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--episodes", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    res = measure(a.home, a.family, a.version, a.n, a.steps, not a.no_augment, a.episodes)
    if a.json:
        print(json.dumps(res))
    else:
        print(
            f"{res['family']}: {res['n']} demonstrations, {res['steps']} steps (augment {res['augment']}) "
            f"in {res['train_seconds']:.0f} s -> success {res['success']:.2f} on {res['episodes']} held-out scenes"
        )


if __name__ == "__main__":
    main()
