"""`skillgrove bench agent`: the offline agent on fresh libraries.

Two measurements, each on a fresh data home (a new library with only the seed skills):
- the `paraphrase` suite: every family with instructions phrased unlike the templates;
- the `basic` suite: every family on three scenes, then a second pass on new scenes,
  where verified skills should be reused with no synthesis;
- `open`: the open-world instructions (`bench.open_world`: a dev split tuned on and a
  test split only measured), two passes on new scenes: success, reuse, false successes.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from agent.factory import AgentOptions, build_agent


def run_agent_bench(
    suites: tuple[str, ...] = ("paraphrase", "basic"),
    opts: AgentOptions | None = None,
    keep: Path | None = None,
    advance=lambda n=1: None,
) -> dict:
    """Run each suite on a fresh home; return per-suite pass summaries and per-family success."""
    from agent.run.curriculum import load_suite, run_suite

    opts = opts or AgentOptions()
    out: dict = {"suites": {}}
    t0 = time.perf_counter()
    for name in suites:
        if name == "open":  # the open-world splits, two passes on one fresh library
            from bench.open_world import run_open_passes

            with tempfile.TemporaryDirectory() as tmp, build_agent(Path(tmp), opts) as agent:
                out["suites"]["open"] = run_open_passes(agent, advance=advance)
            continue
        suite = load_suite(name)
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            with build_agent(home, opts) as agent:
                report = run_suite(agent, suite, (keep or home) / f"bench-{name}", advance)
        fams: dict[str, list[int]] = {}
        for r in report["tasks"]:
            fams.setdefault(r["family"], [0, 0])
            fams[r["family"]][0] += r["success"]
            fams[r["family"]][1] += 1
        out["suites"][name] = {
            "tasks": len(report["tasks"]),
            "success_rate": report["success_rate"],
            "passes": report["passes"],
            "per_family": {f: ok / n for f, (ok, n) in fams.items()},
            "failures": [
                {k: r[k] for k in ("pass", "family", "seed", "instruction", "reason")}
                for r in report["tasks"]
                if not r["success"]
            ],
            "seconds": report["seconds"],
        }
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out
