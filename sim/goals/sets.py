"""Sets of objects picked out by words, for `all(x in SET: ...)` and `any(x in SET: ...)`.

    cubes                     every cube and small cube
    small cubes | large cubes small cubes only | 4 cm cubes only ("small ones" too)
    red and blue cubes        either color; "cubes and cylinders": either kind
    red objects | red things  every movable object of that color ("objects", "things",
                              "items" and "blocks" mean the movable ones)
    bowls | trays | plates    fixed objects of that kind
    both cylinders            the cylinders, which must be exactly two
    cubes except red cube     less the objects the exception names (a description, or
    every cube except the green one / except the red and blue ones / except red ones);
                              an exception that names nothing in the set is an error

A set that picks out nothing is an error, as is "both" for other than two objects.
"""

from __future__ import annotations

import re

from sim.goals.formula import GoalError
from sim.goals.state import Body, State
from sim.objects import COLORS, SHAPES

GENERIC = {"object", "thing", "item", "block"}
SMALL = {"small", "little", "tiny"}
LARGE = {"large", "big"}
LEADING = {"all", "every", "each", "the", "of", "both", "any"}


def _singular(word: str) -> str:
    if word.endswith("es") and word[:-2] in {"box"}:
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _filter(words: list[str], text: str):
    """A test on bodies from '<color>* <size>? <noun>*' words, e.g. ['red', 'small', 'cubes'].

    Several colors or nouns are a union ("red and blue cubes", "cubes and cylinders"); a
    size keeps the small cubes ("small cubes", "small ones") or all but them ("large").
    """
    colors, size, nouns = set(), None, set()
    for w in words:
        s = _singular(w)
        if w in COLORS:
            colors.add(w)
        elif w in SMALL:
            size = "small"
        elif w in LARGE:
            size = "large"
        elif s in GENERIC or s == "one":
            nouns.add("object")
        elif s in SHAPES:
            nouns.add(s)
        elif w not in ("and", "or", ","):
            raise GoalError(f"the set {text!r}: unknown word {w!r}")

    def kind_ok(b: Body, noun: str) -> bool:
        if noun == "object":
            return b.movable
        if noun == "cube":
            return b.shape_name in ("cube", "small cube")
        return b.shape_name == noun

    def test(b: Body) -> bool:
        if colors and b.color not in colors:
            return False
        if not any(kind_ok(b, n) for n in nouns or {"object"}):
            return False
        if size == "small":
            return b.shape_name == "small cube"
        if size == "large":
            return b.shape_name != "small cube"
        return True

    return test


def members(words: str, state: State) -> list[str]:
    """Descriptions of the objects a set's words pick out, in scene order."""
    text = re.sub(r"\s+", " ", words.strip().lower())
    base, sep, rest = _split(text)
    both = base.split()[:1] == ["both"]
    head = [w for w in base.replace(",", " ").split() if w not in LEADING]
    if not head:
        raise GoalError(f"the set {words!r} names no kind of object")
    picked = [b for b in state.bodies if _filter(head, text)(b)]
    base_set = {b.description for b in picked}
    for item in re.split(r",|\band\b|\bor\b", rest) if sep else []:
        toks = [w for w in item.split() if w not in LEADING]
        if not toks:
            continue
        if state.has(" ".join(toks)):
            if " ".join(toks) not in base_set:
                raise GoalError(f"the set {words!r}: the {' '.join(toks)} is not in it")
            picked = [b for b in picked if b.description != " ".join(toks)]
            continue
        drop = _filter(toks, text)
        if not any(drop(b) for b in picked):
            raise GoalError(f"the set {words!r}: nothing in it is {' '.join(toks)!r}")
        picked = [b for b in picked if not drop(b)]
    if not picked:
        raise GoalError(f"no object in the scene is one of {words!r}")
    if both and len(picked) != 2:
        raise GoalError(f"{words!r}: the scene has {len(picked)} of them, not 2")
    return [b.description for b in picked]


def _split(text: str) -> tuple[str, str, str]:
    m = re.search(r"\b(except for|except|but not|other than)\b", text)
    if not m:
        return text, "", ""
    return text[: m.start()].strip(), m.group(1), text[m.end() :].strip()
