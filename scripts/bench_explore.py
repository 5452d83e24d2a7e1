"""Open-world success before and after a session of `learn --explore`, from the seed library.

    .venv/bin/python scripts/bench_explore.py [--minutes 30] [--perception oracle|policy]
        [--from-home DIR] [--out benchmarks/explore/result.json] [--no-verify] [--limit N]
        [--keep DIR]

What a user would run, as subprocesses of the `skillgrove` CLI, on throwaway homes:

1. a fresh home (the seed library), or a copy of `--from-home` (one holding a policy
   checkpoint, for `--perception policy`);
2. "before": on a *copy* of it (a benchmark must not teach the home it measures),
   `bench open --suite test` (the open-world test split) and `bench open` on
   `benchmarks/explore/unknown_objects.json` (kinds no family uses: duck, mug, bar, ...);
3. `learn --explore --minutes M` on the home itself;
4. "after": the same two benchmarks on a copy of the explored home, same scene seeds;
5. `skills verify` on a copy of the explored home: every skill exploration wrote must
   pass again (the count rejected is reported; it must be 0).

Per split: success among the tasks meant to be done, the share solved by reuse alone
(no synthesis, no composition), false successes. JSON on stdout and in `--out`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SG = str(Path(sys.executable).with_name("skillgrove"))
UNKNOWN = ROOT / "benchmarks" / "explore" / "unknown_objects.json"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def sg(home: Path, *args: str, ok=(0,)) -> dict:
    """`skillgrove --home HOME --json ARGS`, its JSON output (stderr passes through)."""
    cmd = [SG, "--home", str(home), "--json", *args]
    proc = subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE, text=True)
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stdout[-500:]}")
    return json.loads(proc.stdout)


def measure(home: Path, work: Path, tag: str, perception: str, limit: int | None) -> dict:
    """Both splits on a copy of `home` (the copy learns, `home` does not)."""
    from bench.open_world import _pass_summary

    out = {}
    for split, suite in (("test", "test"), ("unknown", str(UNKNOWN))):
        copy = work / f"{tag}-{split}"
        shutil.copytree(home, copy)
        # exit 3 only when a false success was found: that is a figure, not a crash
        args = ["--suite", suite, "--perception", perception]
        args += ["--limit", str(limit)] if limit else []
        report = sg(copy, "bench", "open", *args, ok=(0, 3))
        s = _pass_summary(1, report)
        out[split] = {k: s[k] for k in ("tasks", "success_rate", "reuse_rate", "false_successes")}
        out[split]["solved_by"] = s["solved_by"]
        shutil.rmtree(copy)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--perception", choices=("oracle", "policy"), default="oracle")
    ap.add_argument("--from-home", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--limit", type=int, default=None, help="Only the first N tasks of each suite.")
    ap.add_argument("--keep", type=Path, default=None, help="Copy the explored home here.")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="sg-explore-") as tmp:
        work = Path(tmp)
        home = work / "home"
        if a.from_home:
            shutil.copytree(a.from_home, home)
        skills0 = len(sg(home, "skills", "list")["skills"])
        result = {"minutes": a.minutes, "perception": a.perception, "skills_before": skills0}
        result["before"] = measure(home, work, "before", a.perception, a.limit)
        t0 = time.perf_counter()
        session = sg(
            home,
            "learn",
            "--explore",
            "--minutes",
            str(a.minutes),
            "--seed",
            str(a.seed),
            "--perception",
            a.perception,
        )
        result["explore_seconds"] = round(time.perf_counter() - t0, 1)
        result["episodes"] = len(session.get("episodes", []))
        result["episode_successes"] = sum(
            bool(e.get("success")) for e in session.get("episodes", [])
        )
        result["skills_after"] = len(sg(home, "skills", "list")["skills"])
        result["after"] = measure(home, work, "after", a.perception, a.limit)
        if a.keep:
            shutil.copytree(home, a.keep)
        if not a.no_verify:
            copy = work / "verify"
            shutil.copytree(home, copy)
            result["verify"] = sg(copy, "skills", "verify", ok=(0, 3))["summary"]
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
