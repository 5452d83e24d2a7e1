"""Bind a skill's parameters to what an instruction names.

Parameters named like the intent's roles take those values; the rest take the
remaining values in the order the roles appear. A skill whose required parameters
cannot all be filled, or that would leave a named object unused, does not fit.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.plan.parse import Intent


def bind_args(params: Sequence[tuple[str, bool]], intent: Intent) -> dict[str, str] | None:
    """Keyword arguments for a skill with `params` [(name, required)], or None if it does not fit.

    Args:
        params: the entry function's parameters after `robot` (a `**kwargs` one is skipped).
        intent: the parsed instruction.
    """
    named = [(n, req) for n, req in params if not n.startswith("*")]
    values = dict(intent.args)
    out: dict[str, str] = {}
    for name, _ in named:
        if name in values:
            out[name] = values.pop(name)
    rest = list(values.values())
    for name, required in named:
        if name in out:
            continue
        if rest:
            out[name] = rest.pop(0)
        elif required:
            return None
    if rest:  # the instruction names something the skill has no place for
        return None
    return out


def scene_binder(scenes, params: Sequence[tuple[str, bool]]):
    """An Evaluator binder: a skill's arguments on an evaluation scene, read from that
    scene's instruction and objects the way the planner reads a run's (None if unfit)."""
    from agent.errors import AgentError
    from agent.plan.parse import parse

    def bind(family: str, seed: int) -> dict | None:
        scene = scenes.scene(family, seed)
        try:
            intent = parse(scene.instruction, list(scene.objects))
        except AgentError:
            return None
        return bind_args(params, intent)

    return bind
