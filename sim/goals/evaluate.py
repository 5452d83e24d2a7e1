"""Check a goal against a scene, ground it, and evaluate it on the simulator's state.

`check(goal, state)` reads a goal (text, JSON or formula), expands its quantifiers over
the scene's objects, and refuses, with a one-line GoalError, what can never be judged
fairly: an unknown predicate or object, a wrong argument, an atom naming one object
twice (`on(a, a)`), a fixed object asked to move, or a conjunction that contradicts
itself (`left_of(a, b) and left_of(b, a)`; see `sim.goals.consistency`). It returns a
`Goal`: the formula as written and its ground form.

`evaluate(goal, state)` is the verdict: the ground formula's truth and every atom's truth
with its margin and a sentence. `explain(verdict)` puts it in lines for people.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.goals import predicates as P
from sim.goals.formula import And, Atom, Formula, GoalError, Not, Or, parse, to_json
from sim.goals.sets import members
from sim.goals.state import State


@dataclass(frozen=True)
class Goal:
    """A checked goal: as written, and ground over one scene's objects."""

    formula: Formula
    ground: Formula

    @property
    def text(self) -> str:
        return str(self.formula)

    def to_json(self) -> dict:
        return to_json(self.formula)


@dataclass(frozen=True)
class AtomResult:
    atom: str
    value: bool
    margin: float
    unit: str
    detail: str

    def to_json(self) -> dict:
        return {
            "atom": self.atom,
            "value": self.value,
            "margin": round(self.margin, 4),
            "unit": self.unit,
            "detail": self.detail,
        }

    def line(self) -> str:
        return f"{self.atom}: {'true' if self.value else 'false'}, {self.detail}"


@dataclass(frozen=True)
class Verdict:
    """The goal's truth on one state, and each ground atom's."""

    value: bool
    atoms: tuple[AtomResult, ...]


# -- grounding ------------------------------------------------------------------------------
def ground(f: Formula, state: State, env: dict[str, str] | None = None) -> Formula:
    """Expand quantifiers over the scene and resolve variables; atoms are validated."""
    env = env or {}
    if isinstance(f, Atom):
        return _atom(f, state, env)
    if isinstance(f, And | Or):
        parts = tuple(ground(p, state, env) for p in f.parts)
        return type(f)(parts)
    if isinstance(f, Not):
        return Not(ground(f.part, state, env))
    if f.var in env or state.has(f.var):
        raise GoalError(f"the variable {f.var!r} is already in use")
    objs = members(f.set, state)
    parts = tuple(ground(f.body, state, env | {f.var: o}) for o in objs)
    if len(parts) == 1:
        return parts[0]
    return And(parts) if f.kind == "all" else Or(parts)


def _atom(a: Atom, state: State, env: dict[str, str]) -> Atom:
    pred = P.get(a.pred)
    n, k = len(a.args), len(pred.kinds)
    if n < pred.min_args or (n > k and not pred.variadic):
        want = (
            f"{pred.min_args}+"
            if pred.variadic
            else " or ".join(str(i) for i in range(pred.min_args, k + 1))
        )
        raise GoalError(f"{a}: {a.pred} takes {want} arguments, {pred.signature()}")
    args = []
    for i, arg in enumerate(a.args):
        kind = pred.kinds[min(i, k - 1)]
        if kind == "num":
            if not isinstance(arg, float):
                raise GoalError(f"{a}: argument {i + 1} must be a number, not {arg!r}")
            args.append(arg)
            continue
        if isinstance(arg, float):
            raise GoalError(f"{a}: argument {i + 1} must be an object, not the number {arg:g}")
        desc = env.get(arg, arg)
        state.get(desc)  # GoalError naming what the scene has
        args.append(desc)
    args += list(pred.defaults[len(args) - (k - len(pred.defaults)) :]) if n < k else []
    objs = [x for x in args if isinstance(x, str)]
    ground_atom = Atom(a.pred, tuple(args))
    if len(set(objs)) < len(objs) and pred.name != "where_was":
        twice = next(o for o in objs if objs.count(o) > 1)
        raise GoalError(
            f"{ground_atom}: names the {twice} twice (an object cannot relate to itself)"
        )
    if pred.static is not None:
        pred.static(state, *[state.get(x) if isinstance(x, str) else x for x in args])
    return ground_atom


def check(goal, state: State) -> Goal:
    """Read, ground and validate a goal against a scene (see the module docstring)."""
    from sim.goals.consistency import contradiction

    formula = parse(goal)
    g = ground(formula, state)
    why = contradiction(g)
    if why:
        raise GoalError(f"the goal contradicts itself: {why}")
    return Goal(formula, g)


# -- evaluation -----------------------------------------------------------------------------
def evaluate(goal: Goal | Formula | str, state: State) -> Verdict:
    """The goal's truth on `state`, with every ground atom's truth, margin and reason."""
    g = goal if isinstance(goal, Goal) else check(goal, state)
    results: dict[Atom, AtomResult] = {}
    value = _value(g.ground, state, results)
    return Verdict(value, tuple(results.values()))


def _value(f: Formula, state: State, results: dict) -> bool:
    if isinstance(f, Atom):
        if f not in results:
            fn = P.get(f.pred).fn
            c = P.judge(fn(state, *[state.get(x) if isinstance(x, str) else x for x in f.args]))
            results[f] = AtomResult(str(f), c.value, c.margin, c.unit, c.detail)
        return results[f].value
    if isinstance(f, Not):
        return not _value(f.part, state, results)
    vals = [_value(p, state, results) for p in f.parts]  # every atom reported, no short cut
    return all(vals) if isinstance(f, And) else any(vals)


def explain(verdict: Verdict) -> list[str]:
    """One line per atom, e.g. 'left_of(red cube, blue cube): false, red cube is 1.2 cm
    right of blue cube, needs >= 3.0 cm left'."""
    return [a.line() for a in verdict.atoms]
