"""A correction session on a saved policy: load it, run the feedback loop, save versions.

`feedback_session` is what `skillgrove policy feedback` runs: the latest (or a given)
checkpoint learns a family from the simulated expert's corrections; the families it was
trained on are replayed (their demonstrations) and scored after every round; each round
is saved as a new checkpoint version, and the success-vs-corrections curve is drawn.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from agent.errors import AgentError
from agent.policy.feedback import FeedbackConfig


def feedback_session(
    home: Path,
    config: FeedbackConfig,
    version=None,
    noise_pos: float = 0.0,
    noise_yaw: float = 0.0,
    n_old: int = 200,
    progress=None,
) -> dict:
    """Run the correction loop on a checkpoint and return its curve (see `feedback.run_feedback`).

    Args:
        home: the data home (checkpoints, corrections, the curve's plot and JSON).
        config: the loop's settings (family, rounds, strategy, optimisation, ...).
        version: the checkpoint to start from (default: the newest).
        noise_pos, noise_yaw: the simulated expert's noise (meters, degrees).
        n_old: demonstrations per known family replayed and scored.
        progress: callable(str) for progress lines.
    """
    from agent.policy.checkpoint import save_checkpoint
    from agent.policy.corrections import CorrectionStore, store_path
    from agent.policy.curves import Curves
    from agent.policy.data import load_demos
    from agent.policy.feedback import SimulatedExpert, run_feedback
    from agent.policy.plots import correction_curve
    from agent.policy.prepare import Prepared, prepare
    from agent.policy.strategies import make_strategies
    from agent.policy.train import check_families, load_policy

    family, strategy = config.family, config.strategy
    check_families([family])
    make_strategies(strategy)  # an unknown strategy fails before any work
    policy = load_policy(home, version, threads=config.optim.threads)
    known = [f for f in (policy.info.get("families") or []) if f != family]
    old_data = None
    old_tests = {}
    if known:
        old_data = Prepared.cat(
            [
                prepare(
                    load_demos(home, f, "train", n_old, policy.spec), policy.spec, policy.encoder, 0
                )
                for f in known
            ]
        )
        old_tests = {f: load_demos(home, f, "test", 30, policy.spec) for f in known}

    def save(model, meta: dict) -> int:
        meta = {**meta, "families": sorted(set(known) | {family}), "strategy": strategy}
        return save_checkpoint(home, model, policy.spec, policy.encoder.name, meta).version

    t0 = time.perf_counter()
    curves = Curves.open(home, "feedback")
    res = run_feedback(
        policy,
        CorrectionStore(store_path(home)),
        config,
        SimulatedExpert(noise_pos, noise_yaw),
        old_data,
        old_tests,
        save,
        progress=progress,
        curves=curves,
    )
    curves.close()
    res["logdir"] = str(curves.logdir)
    res["seconds"] = time.perf_counter() - t0
    res["start_checkpoint"] = policy.info.get("version")
    out = Path(home) / "policy" / "feedback"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    res["plot"] = str(correction_curve([res], out / f"{family}-{stamp}.png", config.target))
    (out / f"{family}-{stamp}.json").write_text(json.dumps(res, indent=1, default=str))
    if not res["rounds"]:
        raise AgentError("no correction round ran")
    return res
