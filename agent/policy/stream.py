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

`StreamConfig.stream` "goals" runs the open-world stream instead (`goal_stream`: nine
experiences of goal templates, later ones learnt from correction rows of which a share
`noise` is wrong, scored by the goal-holding proxy, seen and unseen combinations apart).
`StreamConfig.params` sets a strategy's hyperparameters ("lr" for the fine-tuning rounds,
"<strategy>.<argument>" for a plugin's constructor, e.g. "replay.mix"), as the tuner
(`bench/tune.py`) chooses them.
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
        sim_episodes: episodes per task of the sim-executed check after the last experience
            (families only).
        stream: "families" (task families, `STREAM`) or "goals" (goal templates,
            `goal_stream.GROUPS`; families then holds the groups).
        noise: share of wrong labels in the correction rows of the goal stream.
        params: strategy hyperparameters ({"lr": ..., "<strategy>.<argument>": ...}).
    """

    families: tuple[str, ...] = STREAM
    n_train: int = 400
    n_test: int = 50
    n_valid: int | None = None
    base_steps: int = 1000
    steps: int = 300
    optim: Optim = field(default_factory=Optim)
    sim_episodes: int = 0
    stream: str = "families"
    noise: float = 0.0
    params: dict = field(default_factory=dict)

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
    noise: float = 0.0
    params: dict = field(default_factory=dict)
    final_split: dict = field(default_factory=dict)
    round_params: list[int] = field(default_factory=list)
    round_state_mb: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None

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
    and its test and validation scenes (`splits.SCENE_RANGES`); the goal stream's from
    `goal_stream.load_goal_stream`."""
    if config.stream == "goals":
        from agent.policy.goal_stream import load_goal_stream

        return load_goal_stream(home, config, spec, encoder)
    if config.stream != "families":
        raise AgentError(f"unknown stream {config.stream!r} (families or goals)")
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


def score_task(policy, t) -> dict:
    """{"success", "pos_cm", "rot_deg"} of one task's held-out set (a goal stream's
    `GoalSet` scores itself and adds "seen" and "unseen")."""
    if hasattr(t, "evaluate"):
        return t.evaluate(policy)
    from agent.policy.evaluate import evaluate_proxy

    r = evaluate_proxy(policy, t)
    return {"success": r.success, "pos_cm": r.pos_cm, "rot_deg": r.rot_deg}


def evaluate_row(policy, test: list) -> tuple[list[float], list[float], list[float]]:
    """Proxy success, position error (cm) and yaw error (deg) on every task's test set."""
    res = [score_task(policy, t) for t in test]
    return [r["success"] for r in res], [r["pos_cm"] for r in res], [r["rot_deg"] for r in res]


def make_plugins(strategy: str, params: dict | None = None) -> list:
    """The plugins of `strategy` ("replay+lwf"), each built with its "<name>.<argument>"
    entries of `params` ("lr" is the loop's, not a plugin's); unknown keys are refused."""
    from agent.policy.strategies import make_strategies

    plugins = make_strategies(strategy)
    params = params or {}
    names = {p.name for p in plugins}
    bad = [k for k in params if k != "lr" and k.split(".", 1)[0] not in names]
    if bad:
        raise AgentError(f"parameter {bad[0]!r} belongs to no plugin of {strategy!r}")
    out = []
    for p in plugins:
        kw = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith(f"{p.name}.")}
        try:
            out.append(type(p)(**kw) if kw else p)
        except TypeError as exc:
            raise AgentError(f"bad parameters for {p.name}: {exc}") from None
    return out


def state_mb(plugins, model) -> float:
    """Megabytes of tensors held by the model and the strategies (weights, buffers,
    Fisher and anchors, teacher copies, EMA shadows, importances), each storage once."""
    import torch
    from torch import nn

    seen: set[int] = set()

    def walk(x, depth: int) -> int:
        if isinstance(x, torch.Tensor):
            st = x.untyped_storage()
            if st.data_ptr() in seen:
                return 0
            seen.add(st.data_ptr())
            return st.nbytes()
        if depth > 4 or isinstance(x, (str, bytes, int, float, np.ndarray)) or x is None:
            return 0
        if isinstance(x, nn.Module):
            return sum(walk(v, depth + 1) for v in x.state_dict(keep_vars=True).values())
        if isinstance(x, dict):
            return sum(walk(v, depth + 1) for v in x.values())
        if isinstance(x, (list, tuple)):
            return sum(walk(v, depth + 1) for v in x)
        if hasattr(x, "__dict__"):
            return sum(walk(v, depth + 1) for v in vars(x).values())
        return 0

    return (walk(model, 0) + sum(walk(p, 0) for p in plugins)) / 2**20


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (MB; a worker's, over all its runs)."""
    import resource
    import sys

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (2**20 if sys.platform == "darwin" else 2**10)


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
    from agent.policy.strategies.joint import Joint

    plugins = make_plugins(strategy, config.params)
    model = new_model(config.optim.seed)
    model.load_state_dict(base_state)
    threads = config.optim.threads
    lr = config.params.get("lr")
    t0 = time.perf_counter()
    split: dict = {}
    round_params, round_mb = [], []

    def score(m) -> tuple[tuple, list[float]]:
        policy = Policy(m, spec, encoder, threads)
        valid = evaluate_row(policy, data.valid)[0] if data.valid else []
        res = [score_task(policy, t) for t in data.test]
        split.update({k: [r.get(k) for r in res] for k in ("seen", "unseen")})
        round_params.append(count_parameters(m, trainable_only=False))
        round_mb.append(state_mb(plugins, m))
        row = tuple([r[k] for r in res] for k in ("success", "pos_cm", "rot_deg"))
        return row, valid

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
            fc = FitConfig(config.steps, config.optim.but(seed=config.optim.seed * 1000 + i, lr=lr))
            log = None if curves is None else curves.loss(offset=(i - 1) * config.steps)
            res = fit(model, data.train[i], fc, plugins, index=i, name=config.families[i], log=log)
            model = res.model
            train_s.append(res.seconds)
            trainable = max(trainable, res.trainable_params)
            r, v = score(model)
            rows.append(r)
            valid.append(v)
    sim = {}
    if config.sim_episodes and config.stream == "families":
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
        config.noise,
        dict(config.params),
        split if any(v is not None for vs in split.values() for v in vs) else {},
        round_params,
        round_mb,
        peak_rss_mb(),
    )


def train_joint(model, data: StreamData, config: StreamConfig, curves=None):
    """The multi-task bound: `model` (the base) trained on every experience's data at once
    for the stream's total fine-tuning budget, (T - 1) x config.steps steps (a `FitResult`)."""
    from agent.policy.loop import FitConfig, fit
    from agent.policy.prepare import Prepared

    steps = config.steps * (len(config.families) - 1)
    lr = config.params.get("lr")
    fc = FitConfig(steps, config.optim.but(seed=config.optim.seed * 1000 + 1, lr=lr))
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
