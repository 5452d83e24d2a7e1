"""Bind a reading to a scene: every mention resolved to one of the scene's objects.

A mention names the scene objects that `skills.naming.match` finds ("cube" is the one
cube, or the one small cube when there is no plain cube; "red object" any red object):
none or several is an AgentError naming the mention and the scene. Quantifiers stay
quantifiers (the simulator expands them), with the descriptions in their "except ..."
words resolved too, and their sets checked to pick out something. The one special form,
"<shape> of the same color" (`read_goal` writes it for "each cube in the bowl of the
same color"), is expanded here: every member of the set, with the scene object of its
color and that shape, e.g. in(red cube, red bowl) and in(blue cube, blue bowl).
"""

from __future__ import annotations

import re

from agent.errors import AgentError
from agent.understand.nouns import SAME
from agent.understand.reader import Reading
from sim.goals import And, Atom, Body, Formula, GoalError, Not, Or, Quant, State
from sim.goals.sets import members
from sim.objects import SHAPES
from skills.naming import match


def bind(reading: Reading | Formula, scene: list[str]) -> Formula:
    """The reading's formula over the scene's object descriptions (see the module doc)."""
    formula = reading.formula if isinstance(reading, Reading) else reading
    state = _state(scene)
    return _bind(formula, state, {})


def _state(scene: list[str]) -> State:
    bodies = []
    for d in scene:
        color, _, shape = d.partition(" ")
        if shape not in SHAPES:
            raise AgentError(f"the scene's object {d!r} is not '<color> <shape>'")
        bodies.append(Body(d, color, shape, (0.0, 0.0, 0.0, 0.0)))
    return State(tuple(bodies))


def resolve(mention: str, state: State) -> str:
    """The one scene description a mention names; AgentError if none or several."""
    if state.has(mention):
        return mention
    pairs = [(b.color, b.shape_name) for b in state.bodies]
    hits = match(mention, pairs)
    if mention.endswith(" object"):  # "the red one": a movable object of that color
        hits = [i for i in hits if state.bodies[i].movable]
    if not hits:
        have = ", ".join(state.descriptions) or "nothing"
        raise AgentError(f"there is no {mention} in the scene (it has: {have})")
    if len(hits) > 1:
        names = " or ".join(state.bodies[i].description for i in hits)
        raise AgentError(f"'{mention}' is ambiguous: it could mean {names}")
    return state.bodies[hits[0]].description


def _same(mention: str, subject: str, state: State) -> str:
    shape = mention[: -len(SAME)]
    color = state.get(subject).color
    want = f"{color} {shape}"
    if not state.has(want):
        raise AgentError(f"there is no {shape} of the same color as the {subject} (no {want})")
    return want


def _bind(f: Formula, state: State, env: dict[str, str]) -> Formula:
    if isinstance(f, Atom):
        args: list = []
        for a in f.args:
            if isinstance(a, float):
                args.append(a)
            elif a in env:
                args.append(env[a] if env[a] else a)
            elif a.endswith(SAME):
                if not args or args[0] in env and not env[args[0]]:
                    raise AgentError(f"{f}: '{a}' needs an object before it")
                args.append(_same(a, args[0], state))
            else:
                args.append(resolve(a, state))
        return Atom(f.pred, tuple(args))
    if isinstance(f, And | Or):
        return type(f)(tuple(_bind(p, state, env) for p in f.parts))
    if isinstance(f, Not):
        return Not(_bind(f.part, state, env))
    words = _set_words(f.set, state)
    try:
        objs = members(words, state)
    except GoalError as exc:
        raise AgentError(str(exc)) from None
    if any(a.endswith(SAME) for at in _atoms(f.body) for a in at.args if isinstance(a, str)):
        parts = tuple(_bind(f.body, state, env | {f.var: o}) for o in objs)
        if len(parts) == 1:
            return parts[0]
        return And(parts) if f.kind == "all" else Or(parts)
    return Quant(f.kind, f.var, words, _bind(f.body, state, env | {f.var: ""}))


def _set_words(words: str, state: State) -> str:
    """The set's words with each excepted description resolved where it names one object."""
    m = re.search(r"\b(except for|except|but not|other than)\b", words)
    if not m:
        return words
    items = []
    for item in re.split(r",| and | or ", words[m.end() :]):
        item = item.strip()
        if not item:
            continue
        try:
            items.append(resolve(item, state))
        except AgentError:
            items.append(item)  # words for a kind ("red ones"): the set reads them
    return words[: m.start()].strip() + " except " + ", ".join(items)


def _atoms(f: Formula) -> list[Atom]:
    from sim.goals import atoms

    return atoms(f)
