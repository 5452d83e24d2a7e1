"""Goal formulas: atoms over predicates joined by and/or/not, and quantifiers over sets.

Two forms with one meaning.

Text (what people write, `skillgrove goals check`, run records)::

    on(red cube, blue plate) and left_of(green cube, blue plate)
    not in(red cube, green bowl) or rotated_by(blue cube, 45)
    all(x in cubes except red cube: in(x, brown tray))

Object arguments are descriptions ("red cube", "blue small cube"), numbers are plain
(meters for distances, degrees for angles). `and` binds tighter than `or`; `not` tighter
than both; parentheses group. A quantifier is `all(VAR in SET: FORMULA)` or
`any(VAR in SET: FORMULA)`, where SET is picked out by words (see `sim.goals.sets`).

JSON (scripts, the wire)::

    {"and": [{"pred": "on", "args": ["red cube", "blue plate"]},
             {"not": {"pred": "left_of", "args": ["green cube", "blue plate"]}}]}
    {"all": {"var": "x", "in": "cubes except red cube", "where": {...}}}

The text grammar is a Lark grammar (a well-kept parser library; no hand-written lexer).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Union

from sim.errors import SimError


class GoalError(SimError):
    """A goal that cannot be read, names what is not there, or can never be checked."""


Arg = Union[str, float]  # noqa: UP007 - an object description / variable, or a number


@dataclass(frozen=True)
class Atom:
    """One predicate applied to its arguments, e.g. `left_of(red cube, blue bowl)`."""

    pred: str
    args: tuple[Arg, ...]

    def __str__(self) -> str:
        return f"{self.pred}({', '.join(_arg_text(a) for a in self.args)})"


@dataclass(frozen=True)
class And:
    parts: tuple[Formula, ...]

    def __str__(self) -> str:  # a nested And keeps its parentheses: parse(str(f)) == f
        return " and ".join(_wrap(p, (Or, And)) for p in self.parts)


@dataclass(frozen=True)
class Or:
    parts: tuple[Formula, ...]

    def __str__(self) -> str:
        return " or ".join(_wrap(p, (Or,)) for p in self.parts)


@dataclass(frozen=True)
class Not:
    part: Formula

    def __str__(self) -> str:
        return "not " + _wrap(self.part, (And, Or))


@dataclass(frozen=True)
class Quant:
    """`all(var in set: body)` (every member) or `any(var in set: body)` (at least one)."""

    kind: str  # "all" | "any"
    var: str
    set: str  # the set's words, e.g. "cubes except red cube"
    body: Formula

    def __str__(self) -> str:
        return f"{self.kind}({self.var} in {self.set}: {self.body})"


Formula = Union[Atom, And, Or, Not, Quant]  # noqa: UP007


def _arg_text(a: Arg) -> str:
    if isinstance(a, int | float) and not isinstance(a, bool):
        a = float(a)  # the shortest text that reads back as the same number
        text = repr(a)
        return text[:-2] if text.endswith(".0") else text
    return a


def _wrap(f: Formula, kinds: tuple[type, ...]) -> str:
    return f"({f})" if isinstance(f, kinds) else str(f)


# -- text ---------------------------------------------------------------------------------
_GRAMMAR = r"""
?start: disj
?disj: conj (_OR conj)*
?conj: unary (_AND unary)*
?unary: _NOT unary -> neg
      | "(" disj ")"
      | quant
      | atom
quant: QKIND "(" NAME _IN SETWORDS ":" disj ")"
atom: NAME "(" arg ("," arg)* ")"
arg: NUMBER -> number
   | WORDS -> words
QKIND.2: /(all|any)(?=\s*\()/
_OR.2: /\bor\b/
_AND.2: /\band\b/
_NOT.2: /\bnot\b/
_IN.2: /\bin\b/
NAME: /[a-z_][a-z0-9_]*/
NUMBER.3: /[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?(?=\s*[,)])/
SETWORDS: /[^:()]+/
WORDS: /[^,()]+/
%import common.WS
%ignore WS
"""


@lru_cache(maxsize=1)
def _parser():
    from lark import Lark

    return Lark(_GRAMMAR, parser="earley", lexer="dynamic", maybe_placeholders=False)


def _build(tree) -> Formula:
    name = tree.data
    ch = tree.children
    if name == "disj":
        return Or(tuple(_build(c) for c in ch))
    if name == "conj":
        return And(tuple(_build(c) for c in ch))
    if name == "neg":
        return Not(_build(ch[0]))
    if name == "quant":
        kind, var, words, body = ch
        if not _squash(str(words)):
            raise GoalError(f"cannot read the goal: {kind}({var} in ...) has an empty set")
        return Quant(str(kind), str(var), _squash(str(words)), _build(body))
    if name == "atom":
        args = tuple(_build_arg(a) for a in ch[1:])
        if "" in args:
            raise GoalError(f"cannot read the goal: {ch[0]}(...) has an empty argument")
        return Atom(str(ch[0]), args)
    raise GoalError(f"unexpected {name!r} in a goal")  # pragma: no cover - grammar bug


def _build_arg(tree) -> Arg:
    tok = tree.children[0]
    if tree.data == "number":
        return float(tok)
    return _squash(str(tok))


def _squash(words: str) -> str:
    """Lower case, single spaces, no leading article: "The  Red Cube" -> "red cube"."""
    text = re.sub(r"\s+", " ", words.strip().lower())
    return re.sub(r"^(the|a|an) ", "", text)


def parse_text(text: str) -> Formula:
    """Read the text form. Raises GoalError with the place it stopped understanding."""
    from lark.exceptions import LarkError, UnexpectedInput

    src = text.strip()
    if not src:
        raise GoalError("the goal is empty")
    try:
        tree = _parser().parse(src.lower())
    except UnexpectedInput as exc:
        col = getattr(exc, "column", None)
        where = (
            f" at column {col}: {src[col - 1 : col + 19]!r}" if col and col > 0 else " at its end"
        )
        raise GoalError(
            f"cannot read the goal{where} (expected e.g. 'on(red cube, blue plate)')"
        ) from None
    except LarkError as exc:  # pragma: no cover - other parser failures
        raise GoalError(f"cannot read the goal: {exc}") from None
    return _build(tree)


# -- JSON ---------------------------------------------------------------------------------
def to_json(f: Formula) -> dict:
    """The JSON form of a formula."""
    if isinstance(f, Atom):
        return {"pred": f.pred, "args": list(f.args)}
    if isinstance(f, And):
        return {"and": [to_json(p) for p in f.parts]}
    if isinstance(f, Or):
        return {"or": [to_json(p) for p in f.parts]}
    if isinstance(f, Not):
        return {"not": to_json(f.part)}
    return {f.kind: {"var": f.var, "in": f.set, "where": to_json(f.body)}}


_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def from_json(data) -> Formula:
    """Read the JSON form (a dict, or a JSON string). Raises GoalError on a bad shape."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise GoalError(f"the goal is not valid JSON: {exc.msg}") from None
    return _node(data)


def _node(data) -> Formula:
    if not isinstance(data, dict) or len(data) != 1 and "pred" not in data:
        raise GoalError(f"a goal node must be one of pred/and/or/not/all/any: got {data!r:.80}")
    if "pred" in data:
        args, pred = data.get("args", []), data["pred"]
        pred = pred.strip().lower() if isinstance(pred, str) else pred
        if not isinstance(pred, str) or not _NAME.fullmatch(pred) or not isinstance(args, list):
            raise GoalError(f"bad atom {data!r:.80}")
        out: list[Arg] = []
        for a in args:
            if isinstance(a, bool) or not isinstance(a, str | int | float):
                raise GoalError(f"bad argument {a!r:.40} in {pred}")
            if isinstance(a, str) and (not _squash(a) or any(c in a for c in ",():")):
                raise GoalError(f"bad argument {a!r:.40} in {pred}: empty, or has , ( ) or :")
            if not isinstance(a, str) and not abs(a) <= sys.float_info.max:  # NaN, inf, 10**400
                raise GoalError(f"bad argument {a!r} in {pred}: not a finite number")
            out.append(_squash(a) if isinstance(a, str) else float(a))
        return Atom(pred, tuple(out))
    ((key, val),) = data.items()
    if key in ("and", "or"):
        if not isinstance(val, list) or not val:
            raise GoalError(f"'{key}' needs a non-empty list")
        parts = tuple(_node(v) for v in val)
        return parts[0] if len(parts) == 1 else (And(parts) if key == "and" else Or(parts))
    if key == "not":
        return Not(_node(val))
    if key in ("all", "any"):
        if not isinstance(val, dict) or not {"var", "in", "where"} <= set(val):
            raise GoalError(f"'{key}' needs var, in and where")
        var, words = str(val["var"]).strip().lower(), _squash(str(val["in"]))
        if not _NAME.fullmatch(var):
            raise GoalError(f"'{key}': the variable {val['var']!r:.40} is not a name like x")
        if not words or any(c in words for c in ":()"):
            raise GoalError(f"'{key}': bad set {val['in']!r:.40}")
        return Quant(key, var, words, _node(val["where"]))
    raise GoalError(f"unknown goal node {key!r} (known: pred, and, or, not, all, any)")


def parse(goal) -> Formula:
    """A formula from its text form, its JSON form (dict or JSON text), or a formula."""
    if isinstance(goal, Atom | And | Or | Not | Quant):
        return goal
    if not isinstance(goal, str | dict):
        raise GoalError(f"a goal is text or JSON, not {type(goal).__name__}")
    try:  # 'not not ... on(a, b)' 3000 deep: a one-line refusal, not a RecursionError
        json_form = isinstance(goal, dict) or goal.lstrip().startswith("{")
        f = from_json(goal) if json_form else parse_text(goal)
        if _depth(f) <= MAX_DEPTH:
            return f
    except RecursionError:
        pass
    raise GoalError(f"the goal is nested more than {MAX_DEPTH} levels deep")


MAX_DEPTH = 50  # nesting of and/or/not/all/any; every later stage recurses once per level


def _depth(f: Formula) -> int:
    if isinstance(f, Atom):
        return 1
    parts = f.parts if isinstance(f, And | Or) else (f.part if isinstance(f, Not) else f.body,)
    return 1 + max(_depth(p) for p in parts)


SLOT = re.compile(r"\?([a-z_][a-z0-9_]*)")  # a goal template's slot, e.g. ?a, ?color2


def fill(template: str, slots: dict) -> str:
    """A goal template's text ("on(?obj, ?target)") with its ?slots filled in.

    Raises KeyError naming a slot `slots` does not have.
    """
    return SLOT.sub(lambda m: str(_arg_text(slots[m.group(1)])), template)


def atoms(f: Formula) -> list[Atom]:
    """Every atom of a formula, in order (quantifier bodies included, unground)."""
    if isinstance(f, Atom):
        return [f]
    if isinstance(f, And | Or):
        return [a for p in f.parts for a in atoms(p)]
    if isinstance(f, Not):
        return atoms(f.part)
    return atoms(f.body)
