"""N corrections chosen by the queue against N chosen at random, under `--perception policy`.

    .venv/bin/python scripts/bench_queue.py --home H [--n 20] [--seed 0] [--out FILE] [--limit N]

H is a home that explored with `--perception policy` (`learn --explore`, or
`scripts/bench_explore.py --keep H`): its failed runs' steps wait in the policy's queue,
scored by informativeness (`agent.policy.step_queue`). On three copies of H:

- none: no correction (the reference);
- queue: the simulated expert (the oracle's poses) corrects the N waiting steps the queue
  ranks first (the order the UI's Corrections page shows);
- random: it corrects N waiting steps drawn at random (seeded);

then each corrected copy runs `policy finetune` (its new corrections, the default
strategy) and every copy `bench open --suite test --perception policy`, same scene seeds.
JSON on stdout and in `--out`: success among the meant tasks, false successes, the steps
corrected and the fine-tune's figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_explore import sg  # noqa: E402  (the same CLI helper)


def waiting_steps(home: Path) -> list[tuple[str, int, float | None]]:
    """(run id, step, score) of every run step waiting in the queue, in the queue's order."""
    from agent.policy.queue import open_queue

    items = open_queue(home).waiting(limit=100_000)
    return [(p.scene.run_id, p.scene.step, p.score) for p in items if p.scene.run_id]


def correct(home: Path, steps: list[tuple[str, int, float | None]]) -> list[dict]:
    from agent.policy.step_queue import expert_correct_step

    out = []
    for run_id, step, score in steps:
        c = expert_correct_step(home, run_id, step)
        out.append({"run_id": run_id, "step": step, "score": score, "diagnosis": c["diagnosis"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--limit", type=int, default=None, help="Only the first N test tasks.")
    a = ap.parse_args()
    queued = waiting_steps(a.home)
    if not queued:
        raise SystemExit(f"{a.home}: no run step waits in the policy's queue")
    n = min(a.n, len(queued))
    rng = np.random.default_rng(a.seed)
    picks = {
        "none": [],
        "queue": queued[:n],
        "random": [queued[i] for i in sorted(rng.choice(len(queued), n, replace=False))],
    }
    result: dict = {"waiting": len(queued), "n": n}
    with tempfile.TemporaryDirectory(prefix="sg-queue-") as tmp:
        for way, steps in picks.items():
            home = Path(tmp) / way
            shutil.copytree(a.home, home)
            row: dict = {"corrected": correct(home, steps)}
            if steps:
                ft = sg(home, "policy", "finetune")
                row["finetune"] = {k: ft.get(k) for k in ("version", "strategy", "steps")}
            args = ["--suite", "test", "--perception", "policy"]
            args += ["--limit", str(a.limit)] if a.limit else []
            report = sg(home, "bench", "open", *args, ok=(0, 3))
            row |= {k: report[k] for k in ("tasks", "success_rate_of_meant", "false_successes")}
            result[way] = row
            print(way, row["success_rate_of_meant"], file=sys.stderr)
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
