"""Continual-learning strategies as plugins of the one fine-tuning loop (`loop.fit`).

`make_strategies("replay+lwf")` builds the plugin list for a name; "+" combines plugins
through the same interface. Known names: see `STRATEGIES`.
"""

from __future__ import annotations

from agent.errors import AgentError
from agent.policy.strategies.base import StepContext, Strategy, TaskContext, TaskOutcome, TaskPlan

# name -> (module of this package and class, one-line description); imported when used.
STRATEGIES: dict[str, tuple[str, str]] = {
    "naive": ("base:Strategy", "plain fine-tuning (lower bound)"),
    "cumulative": ("cumulative:Cumulative", "fine-tune on all data so far, from the last model"),
    "joint": ("joint:Joint", "multi-task bound: all experiences at once, the stream's budget"),
    "replay": ("replay:Replay", "experience replay, reservoir buffer, 20% of each step"),
    "der": ("der:DER", "DER++ output replay"),
    "lwf": ("lwf:LwF", "LwF distillation: L2 position + geodesic yaw"),
    "ewc": ("ewc:OnlineEWC", "online EWC"),
    "agem": ("agem:AGEM", "A-GEM gradient projection"),
    "spg": ("spg:SPG", "SPG soft-masking of gradients by importance"),
    "lora": ("lora:LoRA", "per-task LoRA adapters (peft), routed by instruction"),
    "ema": ("ema:EMA", "EMA of weights"),
}


def _build(name: str) -> Strategy:
    from importlib import import_module

    module, cls = STRATEGIES[name][0].split(":")
    return getattr(import_module(f"{__name__}.{module}"), cls)()


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
    if "joint" in names and len(names) > 1:
        raise AgentError("joint is the multi-task bound: it does not combine with other strategies")
    plugins = [_build(n) for n in names]
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
