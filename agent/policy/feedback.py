"""Corrective feedback, SC-MLLM style: predict, execute, diagnose, correct, fine-tune.

One round:

1. the policy acts on fresh scenes of the task (training seeds, executed in sim);
2. each failure is diagnosed against the expert's pose (position, orientation or both);
3. the expert supplies the corrected pose: `SimulatedExpert` is the privileged oracle,
   optionally with Gaussian noise (a person uses `skillgrove policy correct`);
4. the corrected sample is stored (`corrections.CorrectionStore`, like any correction);
5. after the round, the policy is fine-tuned on the corrections so far with a
   continual-learning strategy (replay of the earlier demonstrations by default), saved
   as a new checkpoint version, and re-evaluated in sim on held-out scenes: validation
   scenes decide when to stop (the first round at or above `target`), test scenes give
   the reported success (`splits.SCENE_RANGES`: the two never overlap, nor do the
   correction scenes and the demonstrations).

Each round trains on every row so far, but only the round's new rows are offered to the
strategy's memory (`fit(new_data=...)`): a replay buffer sees each correction once.

Attempts that succeeded are kept as training rows too (`keep_successes`): their poses are
the policy's own, executed and verified by the simulator, so they cost the expert nothing;
they confirm what the policy already does right while the corrections fix the rest.
Every row is seen turned and shifted (`augment`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from agent.errors import AgentError
from agent.policy.corrections import CorrectionStore, clip_to_workspace, diagnose, make_correction
from agent.policy.settings import Optim
from agent.policy.splits import SCENE_RANGES, scene_seeds

# scenes for corrections: even seeds far from the demonstrations' (`splits`)
CORRECTION_SEED_BASE = SCENE_RANGES["corrections"].start


class SimulatedExpert:
    """The scripted oracle's poses, with optional Gaussian noise.

    Args:
        pos_noise: standard deviation of the position noise in meters (x, y, z).
        yaw_noise: standard deviation of the yaw noise in degrees.
        seed: seed of the noise.
    """

    def __init__(self, pos_noise: float = 0.0, yaw_noise: float = 0.0, seed: int = 0) -> None:
        if (
            not (math.isfinite(pos_noise) and math.isfinite(yaw_noise))
            or pos_noise < 0
            or yaw_noise < 0
        ):
            raise AgentError("expert noise must be finite and >= 0")
        self.pos_noise, self.yaw_noise = pos_noise, yaw_noise
        self._rng = np.random.default_rng(seed)
        noisy = pos_noise > 0 or yaw_noise > 0
        self.name = f"oracle+noise({pos_noise * 100:g}cm,{yaw_noise:g}deg)" if noisy else "oracle"

    def correct(self, pose) -> tuple[float, float, float, float] | None:
        """The expert's version of an oracle pose (None stays None)."""
        if pose is None:
            return None
        p = np.asarray(pose, dtype=float).copy()
        if self.pos_noise:
            p[:3] += self._rng.normal(0.0, self.pos_noise, 3)
            p[2] = max(p[2], 0.0)
        if self.yaw_noise:
            p[3] = math.remainder(
                p[3] + math.radians(self._rng.normal(0.0, self.yaw_noise)), 2 * math.pi
            )
        return tuple(float(v) for v in p)


@dataclass(frozen=True)
class FeedbackConfig:
    """Settings of the correction loop.

    Attributes:
        family: the task to learn from corrections.
        rounds: most correction rounds.
        attempts: scenes the policy tries per round (failures get corrected).
        eval_episodes: held-out scenes executed after each round, of the validation
            range (for the stopping rule) and of the test range (reported) each.
        steps: fine-tuning steps per round.
        strategy: continual-learning strategy of the fine-tuning ("replay" by default).
        target: stop once validation success reaches this.
        augment: train on random table turns and shifts of each row (`augment.Augment`).
        keep_successes: also train on the attempts that succeeded (their own poses).
        optim: learning rate, batch size, seed, threads (`settings.Optim`).
    """

    family: str
    rounds: int = 5
    attempts: int = 20
    eval_episodes: int = 30
    steps: int = 150
    strategy: str = "replay"
    target: float = 0.9
    augment: bool = True
    keep_successes: bool = True
    optim: Optim = field(default_factory=Optim)


@dataclass(frozen=True)
class RoundResult:
    """One round: corrections (and kept successes) so far, test success (reported),
    validation success (the stopping rule's), timings."""

    round: int
    attempts: int
    failures: int
    corrections: int
    diagnoses: dict
    success: float
    finetune_seconds: float
    checkpoint: int | None
    old_tasks: dict = field(default_factory=dict)
    successes_kept: int = 0
    valid_success: float = 0.0
    new_rows: int = 0


def run_feedback(
    policy,
    store: CorrectionStore,
    config: FeedbackConfig,
    expert: SimulatedExpert,
    old_data=None,
    old_tests=None,
    save=None,
    world=None,
    progress=None,
    curves=None,
) -> dict:
    """Run the loop on `config.family` and return the curve of success vs corrections.

    Args:
        policy: the policy to improve (its model is fine-tuned in place).
        store: where corrections go.
        config: loop settings.
        expert: who corrects.
        old_data: `Prepared` demonstrations of what the policy already knows (the
            strategy observes them first, e.g. replay fills its buffer with them).
        old_tests: {family: Samples} held-out sets of earlier tasks, scored (proxy) after
            each round to show what was kept.
        save: callable(model, meta) -> version, to checkpoint each round (None: no saving).
        world: a sim World to reuse.
        progress: callable(str) for progress lines.
        curves: a `curves.Curves` for the fine-tuning loss and each round's corrections
            and success (step: the round), or None.
    """
    from agent.policy.augment import Augment
    from agent.policy.data import Samples
    from agent.policy.evaluate import attempt, evaluate_proxy, evaluate_sim
    from agent.policy.loop import FitConfig, fit, observe
    from agent.policy.prepare import Prepared, prepare
    from agent.policy.strategies import make_strategies
    from sim.world import World

    say = progress or (lambda _m: None)
    plugins = make_strategies(config.strategy)
    own = world is None
    world = world or World(image_size=(policy.spec.render, policy.spec.render))
    eval_seeds = scene_seeds("test", config.eval_episodes)
    valid_seeds = scene_seeds("valid", config.eval_episodes)
    rounds: list[RoundResult] = []
    try:
        if old_data is not None:
            observe(policy.model, old_data, plugins, config.optim.threads)
        start = evaluate_sim(policy, config.family, eval_seeds, world)
        start_valid = evaluate_sim(policy, config.family, valid_seeds, world)
        say(f"round 0: success {start.success:.2f} before any correction")
        if curves is not None:
            curves.scalar("corrections/success", start.success, 0)
        ids: list[int] = []
        kept: list[Samples] = []
        trained = None  # every row so far, prepared (a `Prepared`)
        version = policy.info.get("version")
        for r in range(1, config.rounds + 1):
            if rounds and rounds[-1].valid_success >= config.target:
                break
            seeds = scene_seeds("corrections", config.attempts, start=(r - 1) * config.attempts)
            n_ids, n_kept = len(ids), len(kept)
            failures, diags = 0, {}
            for s in seeds:
                a = attempt(policy, world, config.family, s)
                if a.success:
                    if config.keep_successes:
                        place = None if a.expert_place is None else a.prediction.place
                        kept.append(
                            Samples.single(
                                a.rgb,
                                a.depth,
                                a.instruction,
                                a.family,
                                s,
                                a.primitive,
                                a.prediction.pick,
                                place,
                                a.symmetry,
                            )
                        )
                    continue
                failures += 1
                diag = diagnose(
                    a.prediction.pick,
                    a.prediction.place,
                    a.expert_pick,
                    a.expert_place,
                    a.symmetry,
                    a.primitive,
                    a.family,
                )
                diags[diag] = diags.get(diag, 0) + 1
                c = make_correction(
                    family=a.family,
                    seed=s,
                    instruction=a.instruction,
                    primitive=a.primitive,
                    rgb=a.rgb,
                    depth=a.depth,
                    predicted_pick=clip_to_workspace(a.prediction.pick),
                    predicted_place=None
                    if a.expert_place is None
                    else clip_to_workspace(a.prediction.place),
                    corrected_pick=clip_to_workspace(expert.correct(a.expert_pick)),
                    corrected_place=None
                    if a.expert_place is None
                    else clip_to_workspace(expert.correct(a.expert_place)),
                    expert=expert.name,
                    diagnosis=diag,
                    symmetry=a.symmetry,
                    checkpoint=version,
                    round=r,
                )
                ids.append(store.add(c))
            secs, fresh = 0.0, None
            if len(ids) > n_ids or len(kept) > n_kept:
                new_ids = ids[n_ids:]
                rows = Samples.concat(([store.samples(new_ids)] if new_ids else []) + kept[n_kept:])
                fresh = prepare(rows, policy.spec, policy.encoder, task=1)
                trained = fresh if trained is None else Prepared.cat([trained, fresh])
                fc = FitConfig(
                    config.steps,
                    config.optim.but(seed=config.optim.seed + r),
                    augment=Augment(policy.spec) if config.augment else None,
                )
                t0 = time.perf_counter()
                log = None if curves is None else curves.loss(offset=(r - 1) * config.steps)
                res = fit(
                    policy.model,
                    trained,
                    fc,
                    plugins,
                    index=r,
                    name=config.family,
                    log=log,
                    new_data=fresh,
                )
                secs = time.perf_counter() - t0
                policy.model = res.model
            ev = evaluate_sim(policy, config.family, eval_seeds, world)
            ev_valid = evaluate_sim(policy, config.family, valid_seeds, world)
            old = {f: evaluate_proxy(policy, t, f).success for f, t in (old_tests or {}).items()}
            if save is not None and (ids or kept):
                version = save(
                    policy.model,
                    {
                        "kind": "correction",
                        "family": config.family,
                        "round": r,
                        "corrections": len(ids),
                        "success": ev.success,
                        "parent": version,
                        "successes_kept": len(kept),
                        "augment": config.augment,
                    },
                )
            rounds.append(
                RoundResult(
                    r,
                    len(seeds),
                    failures,
                    len(ids),
                    diags,
                    ev.success,
                    secs,
                    version,
                    old,
                    len(kept),
                    ev_valid.success,
                    0 if fresh is None else len(fresh),
                )
            )
            if curves is not None:
                curves.scalar("corrections/used", len(ids), r)
                curves.scalar("corrections/failures", failures, r)
                curves.scalar("corrections/success", ev.success, r)
                for f, v in old.items():
                    curves.scalar(f"old_tasks/{f}", v, r)
            say(
                f"round {r}: {failures}/{len(seeds)} failed, {len(ids)} corrections and {len(kept)} successes so far, "
                f"success {ev.success:.2f} (validation {ev_valid.success:.2f}), "
                f"fine-tune {secs:.0f} s"
            )
    finally:
        if own:
            world.close()
    reached = next((x.round for x in rounds if x.valid_success >= config.target), None)
    info: dict = {}
    for p in plugins:
        info.update(p.info())
    return {
        "family": config.family,
        "strategy": config.strategy,
        "augment": config.augment,
        "keep_successes": config.keep_successes,
        "expert": expert.name,
        "start_success": start.success,
        "start_valid_success": start_valid.success,
        "stopping": "validation scenes",
        "rounds": [x.__dict__ for x in rounds],
        "reached_target_round": reached,
        "target": config.target,
        "final_success": rounds[-1].success if rounds else start.success,
        "max_finetune_seconds": max((x.finetune_seconds for x in rounds), default=0.0),
        "strategy_info": info,
    }
