"""Base training from scripted-oracle demonstrations, and loading a trained policy.

`train_policy` makes (or reads from the cache) demonstrations of the chosen families,
trains a fresh `PoseNet` on all of them with the one loop (`loop.fit`, no strategy),
scores it on held-out scenes and saves a new checkpoint version. `load_policy` loads a
checkpoint (hash-checked) with the instruction encoder it was trained with.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent.errors import AgentError
from agent.policy.data import check_families
from agent.policy.geometry import ImageSpec
from agent.policy.settings import Optim


def encoder_for(home: Path, embedder=None):
    """The instruction encoder, its cache in the data home (one file per embedder);
    MiniLM unless told otherwise."""
    from agent.policy.embed import InstructionEncoder, default_embedder

    embedder = embedder or default_embedder()
    return InstructionEncoder(embedder, Path(home) / "policy" / f"embeddings-{embedder.name}.npz")


def load_policy(home: Path, version: int | str | None = None, embedder=None, threads: int = 2):
    """The `Policy` of a checkpoint (latest by default).

    Raises:
        AgentError: no checkpoint, a corrupt one, or an embedder other than the one it
            was trained with.
    """
    from agent.policy.checkpoint import load_checkpoint
    from agent.policy.policy import Policy

    model, spec, payload = load_checkpoint(home, version)
    encoder = encoder_for(home, embedder)
    if encoder.name != payload["encoder"]:
        raise AgentError(
            f"checkpoint was trained with embeddings {payload['encoder']!r}, not {encoder.name!r}"
        )
    return Policy(model, spec, encoder, threads, info=payload["manifest"])


@dataclass(frozen=True)
class TrainSettings:
    """What `train_policy` does.

    Attributes:
        families: task families to learn (single-action ones).
        n_train, n_test: demonstrations per family for training and held-out scoring.
        steps: optimizer steps.
        optim: learning rate, batch size, seed, threads (`settings.Optim`).
        sim_episodes: episodes per family executed in the simulator after training (0: none).
        dataset: a LeRobot dataset (`agent.policy.lerobot`) to train on instead of
            demonstrations; `n_train` is then unused.
    """

    families: tuple[str, ...]
    n_train: int = 400
    n_test: int = 50
    steps: int = 2000
    optim: Optim = field(default_factory=Optim)
    sim_episodes: int = 0
    dataset: Path | None = None


def train_policy(
    home: Path,
    settings: TrainSettings,
    embedder=None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Train a policy from demonstrations, score it and save it as a new version.

    Returns:
        {"version", "checkpoint", "families", "seconds", "train_seconds", "steps",
         "eval": {family: {"success", "pos_cm", "rot_deg", "mode", "n"}}, "sim": {...},
         "logdir": the run's TensorBoard directory}
    """
    import torch

    from agent.policy.checkpoint import save_checkpoint
    from agent.policy.curves import Curves
    from agent.policy.data import load_demos, split_seeds
    from agent.policy.evaluate import evaluate_proxy, evaluate_sim
    from agent.policy.loop import FitConfig, fit
    from agent.policy.model import PoseNet
    from agent.policy.policy import Policy
    from agent.policy.prepare import Prepared, prepare

    say = progress or (lambda _m: None)
    fams = check_families(settings.families)
    spec = ImageSpec()
    encoder = encoder_for(home, embedder)
    t0 = time.perf_counter()
    say(f"demonstrations for {', '.join(fams)}")
    if settings.dataset is not None:  # rows of a LeRobot dataset, split by family
        from agent.policy.lerobot import dataset_by_family

        train = dataset_by_family(settings.dataset, fams)
    else:
        train = [load_demos(home, f, "train", settings.n_train, spec) for f in fams]
    test = [load_demos(home, f, "test", settings.n_test, spec) for f in fams]
    data = Prepared.cat([prepare(s, spec, encoder, i) for i, s in enumerate(train)])
    torch.manual_seed(settings.optim.seed)
    model = PoseNet()
    curves = Curves.open(home, "train")
    say(f"training {settings.steps} steps on {len(data)} samples")
    res = fit(
        model,
        data,
        FitConfig(settings.steps, settings.optim),
        name="+".join(fams),
        log=curves.loss(),
    )
    policy = Policy(res.model, spec, encoder, settings.optim.threads)
    scores = {f: evaluate_proxy(policy, t, f).to_dict() for f, t in zip(fams, test, strict=True)}
    sim = {}
    if settings.sim_episodes:
        say("executing in the simulator")
        seeds = split_seeds("test", settings.sim_episodes)
        sim = {f: evaluate_sim(policy, f, seeds).to_dict() for f in fams}
    meta = {
        "kind": "base",
        "families": list(fams),
        "steps": settings.steps,
        "n_train": settings.n_train if settings.dataset is None else sum(map(len, train)),
        "dataset": None if settings.dataset is None else str(settings.dataset),
        "seed": settings.optim.seed,
        "eval": scores,
        "sim": sim,
        "parent": None,
    }
    for f in fams:
        curves.scalar(f"success/{f}", scores[f]["success"], settings.steps)
        curves.scalar(f"sim_success/{f}", (sim.get(f) or {}).get("success"), settings.steps)
    curves.close()
    info = save_checkpoint(home, res.model, spec, encoder.name, meta)
    return {
        "version": info.version,
        "checkpoint": str(info.path),
        "families": list(fams),
        "seconds": time.perf_counter() - t0,
        "train_seconds": res.seconds,
        "steps": settings.steps,
        "eval": scores,
        "sim": sim,
        "logdir": str(curves.logdir),
    }
