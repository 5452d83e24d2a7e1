"""`skillgrove bench tune`: every strategy's hyperparameters, searched the same way.

Each strategy gets the same budget: `trials` optuna trials (TPE sampler, seed 0; the
first trial is the strategy's defaults, so tuning never ends below them on validation).
A trial is a run of the goal stream (`agent.policy.goal_stream`) in the DEV order, with
the dev seeds (100, ...: never the reported ones), scored by the final success on the
VALIDATION scenes (`splits`: a range of their own), the mean over the dev seeds. No test
scene is read for a choice. The reported table (`bench continual --stream goals --tuned`)
then runs the chosen values on the held-out order "A" with seeds 0, 1, 2.

The search spaces are `SPACES`, written down here (a combination "a+b" searches the
union). Not searched: the buffer capacity of replay, DER++ and A-GEM (200 rows each: an
equal memory budget; a larger memory would always win), LoRA's alpha (16; its rank and
learning-rate factor are), and the base experience (shared by every strategy).
The choice goes to `<home>/policy/bench/tuned/<strategy>.json` with every trial.
"""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path

import numpy as np

from agent.errors import AgentError

LR = ("float", 3e-4, 6e-3, "log")  # Adam's learning rate of the later experiences
# strategy -> parameter -> (kind, low, high[, "log"]); "lr" is the loop's, the others
# "<plugin>.<constructor argument>"
SPACES: dict[str, dict[str, tuple]] = {
    "naive": {"lr": LR},
    "cumulative": {"lr": LR},
    "joint": {"lr": LR},
    "replay": {"lr": LR, "replay.mix": ("float", 0.05, 0.2)},
    "der": {
        "lr": LR,
        "der.alpha": ("float", 0.03, 1.0, "log"),
        "der.beta": ("float", 0.1, 1.0),
        "der.mix": ("float", 0.05, 0.2),
    },
    "lwf": {
        "lr": LR,
        "lwf.weight": ("float", 0.01, 10.0, "log"),
        "lwf.rot_weight": ("float", 1.0, 30.0, "log"),
    },
    "ewc": {"lr": LR, "ewc.lam": ("float", 1.0, 1e4, "log"), "ewc.gamma": ("float", 0.5, 1.0)},
    "agem": {"lr": LR, "agem.rows": ("int", 8, 32)},
    "spg": {"lr": LR, "spg.steepness": ("float", 0.1, 10.0, "log")},
    "lora": {
        "lr": LR,
        "lora.r": ("int", 2, 16, "log"),
        "lora.lr_scale": ("float", 1.0, 8.0, "log"),
    },
    "ema": {"lr": LR, "ema.decay": ("float", 0.9, 0.999)},
}
DEV_SEEDS = (100, 101)
SAMPLER_SEED = 0


def space_of(strategy: str) -> dict[str, tuple]:
    """The search space of a strategy or a combination ("replay+lwf": the union)."""
    out: dict[str, tuple] = {}
    for part in (p.strip() for p in strategy.split("+")):
        if part not in SPACES:
            raise AgentError(f"no search space for {part!r} (known: {', '.join(SPACES)})")
        out |= SPACES[part]
    return out


def defaults(strategy: str) -> dict:
    """The current defaults of the space's parameters (the first trial)."""
    from agent.policy.settings import Optim
    from agent.policy.stream import make_plugins

    out = {}
    plugins = {p.name: p for p in make_plugins(strategy)}
    for key in space_of(strategy):
        if key == "lr":
            out[key] = Optim().lr
            continue
        name, arg = key.split(".", 1)
        out[key] = inspect.signature(type(plugins[name]).__init__).parameters[arg].default
    return out


def suggest(trial, key: str, spec: tuple):
    kind, low, high, *log = spec
    if kind == "int":
        return trial.suggest_int(key, low, high, log=bool(log))
    return trial.suggest_float(key, low, high, log=bool(log))


def tuned_path(home: Path, strategy: str) -> Path:
    return Path(home) / "policy" / "bench" / "tuned" / f"{strategy}.json"


def load_tuned(home: Path, strategy: str) -> dict:
    """The tuning record of a strategy in this home; AgentError if it was never tuned."""
    path = tuned_path(home, strategy)
    if not path.exists():
        raise AgentError(
            f"{strategy!r} was not tuned in this home: run `skillgrove bench tune --strategy "
            f"{strategy}` first"
        )
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AgentError(f"cannot read {path}: {exc}") from None


def load_all(home: Path, names) -> dict[str, dict]:
    """Each strategy's chosen parameters; refused unless every one had the same trial
    budget and data sizes (a fair comparison)."""
    records = {n: load_tuned(home, n) for n in names}
    budgets = {(r["trials"], json.dumps(r["settings"], sort_keys=True)) for r in records.values()}
    if len(budgets) > 1:
        raise AgentError(
            "the strategies were tuned with different trial budgets or settings: "
            + ", ".join(f"{n} {r['trials']} trials" for n, r in records.items())
        )
    return {n: r["best_params"] for n, r in records.items()}


def run_tune(
    home: Path,
    strategy: str,
    trials: int,
    quick: bool = False,
    seeds=None,
    workers: int = 1,
    threads: int = 1,
    progress=None,
    embedder=None,
    overrides: dict | None = None,
) -> dict:
    """Search `strategy`'s hyperparameters (see the module docstring) and save the choice.

    Args:
        home: the data home (scenes, dev bases and trial runs are cached there).
        strategy: a strategy name or a combination ("replay+lwf").
        trials: optuna trials (the same for every strategy of a comparison).
        quick: the goal stream's small sizes (`bench.continual.GOALS_QUICK`).
        seeds: dev seeds (default `DEV_SEEDS`; the quick preset only the first).
        workers: worker processes for a trial's seeds (one torch thread each).
        progress: callable(str) for progress lines.
        embedder: the sentence embedder (default: the packaged MiniLM).
        overrides: sizes replacing the preset's (n_train, n_test, n_valid, base_steps, steps).

    Returns:
        The record written to `tuned_path`: {"strategy", "trials", "space", "defaults",
        "default_valid_acc", "best_params", "best_valid_acc", "history", "dev",
        "settings", "objective", "sampler", "code", "seconds", "path"}.
    """
    import optuna

    from bench.continual import (
        GOALS_FULL,
        GOALS_QUICK,
        orders_of,
        strategy_jobs,
        stream_configs,
    )
    from bench.continual_runs import code_version, prepare_bases, run_jobs

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    space = space_of(strategy)
    first = defaults(strategy)
    if trials < 1:
        raise AgentError("tuning needs at least one trial")
    preset = {**(GOALS_QUICK if quick else GOALS_FULL), **(overrides or {})}
    seeds = tuple(seeds if seeds is not None else DEV_SEEDS[: 1 if quick else None])
    configs = stream_configs(home, "goals", preset, ("dev",), seeds, threads)
    bases = prepare_bases(Path(home), configs, workers, threads, say, embedder)
    history: list[dict] = []

    def objective(trial) -> float:
        params = {k: suggest(trial, k, v) for k, v in space.items()}
        jobs = strategy_jobs(
            home, configs, bases, (strategy,), (0.0,), {strategy: params}, threads, embedder, None
        )
        runs = run_jobs(jobs, workers, lambda _m: None)
        per_seed = [float(np.mean(r["valid_success"][-1])) for r in runs]
        value = float(np.mean(per_seed))
        history.append({"trial": trial.number, "params": params, "valid_acc": value})
        history[-1]["valid_acc_per_seed"] = per_seed
        say(f"trial {trial.number + 1}/{trials}: valid ACC {value:.3f} with {params}")
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=SAMPLER_SEED)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.enqueue_trial(first)
    study.optimize(objective, n_trials=trials)
    best = max(history, key=lambda h: h["valid_acc"])  # the first of equals: the defaults
    sizes = ("n_train", "n_test", "n_valid", "base_steps", "steps")
    record = {
        "strategy": strategy,
        "trials": trials,
        "space": {k: list(v) for k, v in space.items()},
        "defaults": first,
        "default_valid_acc": history[0]["valid_acc"],
        "best_params": best["params"],
        "best_valid_acc": best["valid_acc"],
        "history": history,
        "dev": {"order": "dev", "families": list(orders_of("goals")["dev"]), "seeds": list(seeds)},
        "settings": {k: preset.get(k) for k in sizes},
        "objective": "final validation success of the dev order, mean over the dev seeds",
        "sampler": f"optuna {optuna.__version__} TPESampler(seed={SAMPLER_SEED}), defaults first",
        "code": code_version(),
        "seconds": time.perf_counter() - t0,
    }
    path = tuned_path(home, strategy)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(path)
    return {**record, "path": str(path)}


def spaces_markdown() -> str:
    """The search spaces as a table (RESULTS.md)."""
    rows = ["| strategy | parameter | range | scale | default |", "|---|---|---|---|---|"]
    for name, space in SPACES.items():
        d = defaults(name)
        for key, (kind, low, high, *log) in space.items():
            scale = "log" if log else "linear"
            rows.append(f"| {name} | {key} | {low:g} .. {high:g} ({kind}) | {scale} | {d[key]:g} |")
    return "\n".join(rows) + "\n"
