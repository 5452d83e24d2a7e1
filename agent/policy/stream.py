"""A task stream: experiences in order, one strategy trained through them, the R matrix.

The default stream has five experiences with real distribution shift:

    place        pick a block, put it on a tray / plate / pad
    stack        a block on another block (a new kind of target, a new height)
    put-in-bowl  a new shape (bowls), a new relation ("in")
    rotate       orientation-critical, the turn read from the instruction
    align        orientation-critical, the turn read from an outline's yaw

The first experience trains the base from scratch (shared by all strategies of a run,
so that they differ only where they act); each later one fine-tunes for `steps` steps
with the strategy's plugins. After each experience every task's held-out scenes are
scored (proxy success, position and yaw errors, see `evaluate`), filling row i of R:
the test scenes for what is reported, the validation scenes (`splits`: a range of their
own) for R of validation success, the one to tune and choose on.

"joint" is the multi-task bound, not a stream: from the base, one model trains on every
experience's data at once for the stream's total fine-tuning budget and is scored once
(`train_joint`; its matrices have only the final row). "cumulative" is the stream that
fine-tunes on all data so far.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.data import Samples, load_demos
from agent.policy.geometry import ImageSpec
from agent.policy.settings import Optim

STREAM = ("place", "stack", "put-in-bowl", "rotate", "align")
ORDERS: dict[str, tuple[str, ...]] = {
    "A": STREAM,
    "B": ("align", "rotate", "put-in-bowl", "stack", "place"),
}


@dataclass(frozen=True)
class StreamConfig:
    """Sizes of a stream run.

    Attributes:
        families: the experiences, in order.
        n_train, n_test: demonstrations per experience for training / evaluation.
        n_valid: validation scenes per experience (`splits`: scored like the test ones,
            for tuning; None: as many as n_test).
        base_steps: steps of the first experience (from scratch).
        steps: steps of every later experience.
        optim: learning rate, batch size, seed (model initialisation and batch sampling)
            and torch threads (`settings.Optim`).
        sim_episodes: episodes per task of the sim-executed check after the last experience.
    """

    families: tuple[str, ...] = STREAM
    n_train: int = 400
    n_test: int = 50
    n_valid: int | None = None
    base_steps: int = 1000
    steps: int = 300
    optim: Optim = field(default_factory=Optim)
    sim_episodes: int = 0

    def to_dict(self) -> dict:
        return {**asdict(self), "families": list(self.families), "optim": self.optim.model_dump()}

    @classmethod
    def from_dict(cls, d: dict) -> StreamConfig:
        """The config from its `to_dict` form (as it travels to a worker process)."""
        optim = Optim.model_validate(d.get("optim") or {})
        return cls(**{**d, "families": tuple(d["families"]), "optim": optim})


@dataclass(frozen=True)
class StreamResult:
    """One strategy through one stream: matrices (rows: after experience i; cols: task j)."""

    strategy: str
    families: tuple[str, ...]
    success: list[list[float]]
    pos_cm: list[list[float]]
    rot_deg: list[list[float]]
    baseline: dict[str, list[float]]
    seconds: float
    train_seconds: list[float]
    trainable_params: int
    buffer_size: int
    sim: dict = field(default_factory=dict)
    valid_success: list[list[float]] = field(default_factory=list)
    total_params: int = 0
    routing_accuracy: float | None = None

    def to_dict(self) -> dict:
        return {**asdict(self), "families": list(self.families)}


@dataclass(frozen=True)
class StreamData:
    """Training tensors, held-out test and validation demonstrations of each experience."""

    train: list  # list[Prepared]
    test: list[Samples]
    valid: list[Samples] = field(default_factory=list)


def load_stream(home: Path, config: StreamConfig, spec: ImageSpec, encoder) -> StreamData:
    """Demonstrations of every experience (cached in the data home) as training tensors,
    and its test and validation scenes (`splits.SCENE_RANGES`)."""
    from agent.policy.prepare import prepare
    from agent.policy.splits import drawn_as

    n_valid = config.n_test if config.n_valid is None else config.n_valid
    split, start = drawn_as("valid")
    train, test, valid = [], [], []
    for i, fam in enumerate(config.families):
        train.append(
            prepare(load_demos(home, fam, "train", config.n_train, spec), spec, encoder, task=i)
        )
        test.append(load_demos(home, fam, "test", config.n_test, spec))
        valid.append(load_demos(home, fam, split, n_valid, spec, start=start))
    return StreamData(train, test, valid)


def evaluate_row(policy, test: list[Samples]) -> tuple[list[float], list[float], list[float]]:
    """Proxy success, position error (cm) and yaw error (deg) on every task's test set."""
    from agent.policy.evaluate import evaluate_proxy

    res = [evaluate_proxy(policy, t) for t in test]
    return [r.success for r in res], [r.pos_cm for r in res], [r.rot_deg for r in res]


def new_model(seed: int):
    """A freshly initialised `PoseNet` (seeded)."""
    import torch

    from agent.policy.model import PoseNet

    torch.manual_seed(seed)
    return PoseNet()


def train_base(config: StreamConfig, data: StreamData, spec: ImageSpec, encoder, curves=None):
    """The model after the first experience (from scratch) and the untrained scores
    (its loss to `curves`, a `curves.Curves`, when given)."""
    from agent.policy.loop import FitConfig, fit
    from agent.policy.policy import Policy

    model = new_model(config.optim.seed)
    b = evaluate_row(Policy(model, spec, encoder, config.optim.threads), data.test)
    fit(
        model,
        data.train[0],
        FitConfig(config.base_steps, config.optim),
        index=0,
        name=config.families[0],
        log=None if curves is None else curves.loss(),
    )
    return model, {"success": b[0], "pos_cm": b[1], "rot_deg": b[2]}


def run_strategy(
    strategy: str,
    config: StreamConfig,
    data: StreamData,
    spec: ImageSpec,
    encoder,
    base_state: dict,
    baseline: dict,
    world=None,
    curves=None,
) -> StreamResult:
    """Train `strategy` through the stream from the shared base and fill the matrices.

    The strategy first observes the base experience without training (its hooks run
    with zero steps: buffers fill, Fisher and importance are measured), then trains on
    each later experience. `curves` (a `curves.Curves`), when given, gets the loss of
    every step, experience i's at steps (i - 1) * config.steps on. "joint" trains the
    multi-task bound instead (`train_joint`).
    """
    from agent.policy.loop import FitConfig, fit
    from agent.policy.model import count_parameters
    from agent.policy.policy import Policy
    from agent.policy.strategies import make_strategies
    from agent.policy.strategies.joint import Joint

    plugins = make_strategies(strategy)
    model = new_model(config.optim.seed)
    model.load_state_dict(base_state)
    threads = config.optim.threads
    t0 = time.perf_counter()

    def score(m) -> tuple[tuple, list[float]]:
        policy = Policy(m, spec, encoder, threads)
        valid = evaluate_row(policy, data.valid)[0] if data.valid else []
        return evaluate_row(policy, data.test), valid

    train_s, trainable = [], 0
    if isinstance(plugins[0], Joint):
        res = train_joint(model, data, config, curves)
        model, train_s, trainable = res.model, [res.seconds], res.trainable_params
        rows, valid = zip(*[score(model)], strict=True)
    else:
        fit(
            model,
            data.train[0],
            FitConfig(0, config.optim),
            plugins,
            index=0,
            name=config.families[0],
        )
        r, v = score(model)
        rows, valid = [r], [v]
        for i in range(1, len(config.families)):
            fc = FitConfig(config.steps, config.optim.but(seed=config.optim.seed * 1000 + i))
            log = None if curves is None else curves.loss(offset=(i - 1) * config.steps)
            res = fit(model, data.train[i], fc, plugins, index=i, name=config.families[i], log=log)
            model = res.model
            train_s.append(res.seconds)
            trainable = max(trainable, res.trainable_params)
            r, v = score(model)
            rows.append(r)
            valid.append(v)
    sim = {}
    if config.sim_episodes:
        sim = sim_check(Policy(model, spec, encoder, threads), config, world)
    buffer = sum(int(p.info().get("buffer_size", 0)) for p in plugins)
    return StreamResult(
        strategy,
        tuple(config.families),
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        baseline,
        time.perf_counter() - t0,
        train_s,
        trainable or count_parameters(model),
        buffer,
        sim,
        [list(v) for v in valid] if data.valid else [],
        count_parameters(model, trainable_only=False),
        routing(plugins, model, data, encoder),
    )


def train_joint(model, data: StreamData, config: StreamConfig, curves=None):
    """The multi-task bound: `model` (the base) trained on every experience's data at once
    for the stream's total fine-tuning budget, (T - 1) x config.steps steps (a `FitResult`)."""
    from agent.policy.loop import FitConfig, fit
    from agent.policy.prepare import Prepared

    steps = config.steps * (len(config.families) - 1)
    fc = FitConfig(steps, config.optim.but(seed=config.optim.seed * 1000 + 1))
    log = None if curves is None else curves.loss()
    return fit(model, Prepared.cat(list(data.train)), fc, index=1, name="joint", log=log)


def routing(plugins, model, data: StreamData, encoder) -> float | None:
    """A task-aware plugin's routing accuracy (LoRA: instructions of each task's test
    scenes sent to the adapter that learnt the task), or None."""
    import torch

    for p in plugins:
        if hasattr(p, "routing_accuracy"):
            embs = {
                i: torch.as_tensor(encoder(list(t.instruction))) for i, t in enumerate(data.test)
            }
            return p.routing_accuracy(model, embs)
    return None


def sim_check(policy, config: StreamConfig, world=None) -> dict:
    """Execute the final policy in the simulator on each task's first test seeds.

    Returns per-task sim success, and how often the proxy agreed with the simulator on
    those same episodes.
    """
    from agent.policy.data import split_seeds
    from agent.policy.evaluate import attempt, within_tolerance
    from sim.world import World

    own = world is None
    world = world or World(image_size=(policy.spec.render, policy.spec.render))
    per_task, agree, total = {}, 0, 0
    try:
        for fam in config.families:
            runs = [
                attempt(policy, world, fam, s) for s in split_seeds("test", config.sim_episodes)
            ]
            per_task[fam] = float(np.mean([r.success for r in runs]))
            agree += sum(within_tolerance(r.error, fam) == r.success for r in runs)
            total += len(runs)
    finally:
        if own:
            world.close()
    if not total:
        raise AgentError("no sim episodes")
    return {
        "success": per_task,
        "acc": float(np.mean(list(per_task.values()))),
        "proxy_agreement": agree / total,
        "episodes": total,
    }
