"""Goal templates: a goal with its objects, colors and numbers lifted out into slots.

`lift(goal)` turns a checked goal into a `Template`::

    left_of(red cube, blue bowl)              -> left_of(?a, ?b)   a=red cube, b=blue bowl
    all(x in cubes except green cube: in(x, brown tray))
                                              -> all(x in cubes except ?a: in(x, ?b))
    all(x in red things: on_table(x))         -> all(x in ?color things: on_table(x))
    rotated_by(red cube, 45)                  -> rotated_by(?a, ?n)

Slots are named in order of first appearance: objects `?a`, `?b`, ... (skipping the
quantifiers' own variables), numbers `?n`, `?n2`, ..., colors left in a quantifier's set
words `?color`, `?color2`, ... Two goals of the same shape lift to the same text, so the
text is what a skill made for one of them is filed under (`agent.plan.skills`); `fill`
(`sim.goals.formula.fill`) puts values back in. `recolor` renames colors throughout a
text (a permutation keeps every description unique and every color group together):
scenes for evaluating a template are the run's scene recolored and laid out again.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass

from sim.goals.formula import And, Atom, Formula, Not, Or, Quant, fill, parse
from sim.objects import COLORS

_COLOR = re.compile(r"\b(" + "|".join(COLORS) + r")\b")
NAME_LIMIT = 64  # skill names (skills.store.NAME_RE)


@dataclass(frozen=True)
class Template:
    """A goal template: its text, the values of its slots, and a skill name made from it."""

    text: str
    slots: tuple[tuple[str, str | float], ...]
    name: str

    @property
    def values(self) -> dict[str, str | float]:
        return dict(self.slots)

    def fill(self, values: dict | None = None) -> str:
        """The goal with the slots filled in (default: the values it was lifted from)."""
        return fill(self.text, values if values is not None else self.values)


def lift(goal) -> Template:
    """The template of a goal (text, JSON, a formula or a checked `Goal`)."""
    formula = parse(getattr(goal, "text", goal))
    lifter = _Lifter(_vars(formula))
    out = lifter.formula(formula)
    return Template(str(out), tuple(lifter.slots.items()), skill_name(out))


def recolor(text: str, mapping: dict[str, str]) -> str:
    """`text` with every color word renamed by `mapping` (all at once)."""
    return _COLOR.sub(lambda m: mapping.get(m.group(1), m.group(1)), text)


def skill_name(formula: Formula) -> str:
    """A skill name from a template's shape: `put_left_of`, `put_all_in`,
    `put_on_and_left_of`, `put_not_in` (at most 64 characters)."""
    name = "put_" + _words(formula)
    if len(name) > NAME_LIMIT:
        digest = hashlib.sha1(name.encode()).hexdigest()[:6]
        name = name[: NAME_LIMIT - 7].rstrip("_") + "_" + digest
    return name


def _words(f: Formula) -> str:
    if isinstance(f, Atom):
        return f.pred
    if isinstance(f, Not):
        return "not_" + _words(f.part)
    if isinstance(f, Quant):
        return f"{f.kind}_" + _words(f.body)
    joiner = "_and_" if isinstance(f, And) else "_or_"
    return joiner.join(_words(p) for p in f.parts)


def _vars(f: Formula) -> set[str]:
    if isinstance(f, Quant):
        return {f.var} | _vars(f.body)
    if isinstance(f, And | Or):
        return {v for p in f.parts for v in _vars(p)}
    if isinstance(f, Not):
        return _vars(f.part)
    return set()


class _Lifter:
    def __init__(self, variables: set[str]) -> None:
        self.variables = variables
        self.slots: dict[str, str | float] = {}
        self._by_value: dict[tuple[str, str | float], str] = {}
        self._letters = iter(c for c in string.ascii_lowercase if c not in variables)

    def formula(self, f: Formula) -> Formula:
        if isinstance(f, Atom):
            return Atom(f.pred, tuple(self.arg(a) for a in f.args))
        if isinstance(f, And):
            return And(tuple(self.formula(p) for p in f.parts))
        if isinstance(f, Or):
            return Or(tuple(self.formula(p) for p in f.parts))
        if isinstance(f, Not):
            return Not(self.formula(f.part))
        body = self.formula(f.body)  # first: what the body names is an object slot
        return Quant(f.kind, f.var, self.set_words(f.set), body)

    def arg(self, a):
        if isinstance(a, str) and a in self.variables:
            return a
        if isinstance(a, str):
            return "?" + self.slot("object", a)
        return "?" + self.slot("number", float(a))

    def set_words(self, words: str) -> str:
        """Descriptions already lifted become their slots; other color words, color slots."""
        for value, name in sorted(self._by_value.items(), key=lambda kv: -len(str(kv[0][1]))):
            if value[0] == "object":
                words = re.sub(rf"\b{re.escape(value[1])}\b", "?" + name, words)
        return _COLOR.sub(lambda m: "?" + self.slot("color", m.group(1)), words)

    def slot(self, kind: str, value) -> str:
        key = (kind, value)
        if key not in self._by_value:
            if kind == "object":
                name = next(self._letters)
            else:
                base = "n" if kind == "number" else "color"
                count = sum(k[0] == kind for k in self._by_value)
                name = base if count == 0 else f"{base}{count + 1}"
            self._by_value[key] = name
            self.slots[name] = value
        return self._by_value[key]
