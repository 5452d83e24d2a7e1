"""Continual-learning strategies as plugins of the one fine-tuning loop (`loop.fit`).

`make_strategies("replay+lwf")` builds the plugin list for a name; "+" combines plugins
through the same interface. Known names: see `STRATEGIES`.
"""

from __future__ import annotations

from collections.abc import Callable

from ...errors import AgentError
from .base import StepContext, Strategy, TaskContext, TaskOutcome, TaskPlan


def _naive() -> Strategy:
    return Strategy()


def _joint() -> Strategy:
    from .joint import Joint

    return Joint()


def _replay() -> Strategy:
    from .replay import Replay

    return Replay()


def _der() -> Strategy:
    from .der import DER

    return DER()


def _lwf() -> Strategy:
    from .lwf import LwF

    return LwF()


def _ewc() -> Strategy:
    from .ewc import OnlineEWC

    return OnlineEWC()


def _agem() -> Strategy:
    from .agem import AGEM

    return AGEM()


def _spg() -> Strategy:
    from .spg import SPG

    return SPG()


def _lora() -> Strategy:
    from .lora import LoRA

    return LoRA()


def _ema() -> Strategy:
    from .ema import EMA

    return EMA()


# name -> (factory, one-line description)
STRATEGIES: dict[str, tuple[Callable[[], Strategy], str]] = {
    "naive": (_naive, "plain fine-tuning (lower bound)"),
    "joint": (_joint, "retrain on all data so far (upper bound)"),
    "replay": (_replay, "experience replay, reservoir buffer, 20% of each step"),
    "der": (_der, "DER++ output replay"),
    "lwf": (_lwf, "LwF distillation: L2 position + geodesic yaw"),
    "ewc": (_ewc, "online EWC"),
    "agem": (_agem, "A-GEM gradient projection"),
    "spg": (_spg, "SPG soft-masking of gradients by importance"),
    "lora": (_lora, "per-task LoRA adapters (peft), routed by instruction"),
    "ema": (_ema, "EMA of weights"),
}


def make_strategies(spec: str) -> list[Strategy]:
    """Plugins for a strategy name such as "ewc" or a combination such as "replay+lwf"."""
    names = [n.strip() for n in str(spec).split("+") if n.strip()]
    if not names:
        raise AgentError("no strategy given")
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise AgentError(
            f"unknown strategy {unknown[0]!r} (known: {', '.join(STRATEGIES)}; combine with '+')"
        )
    plugins = [STRATEGIES[n][0]() for n in names]
    return [p for p in plugins if type(p) is not Strategy] or plugins[:1]


__all__ = [
    "STRATEGIES",
    "StepContext",
    "Strategy",
    "TaskContext",
    "TaskOutcome",
    "TaskPlan",
    "make_strategies",
]
