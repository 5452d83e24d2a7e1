"""Words -> a typed goal template, for the Searcher's goal channel (`skills.search`).

`read_template(text)` reads an instruction or a skill's description with the product's
own goal reader (`agent.understand.read_goal`), lifts the goal to its template
(`sim.goals.template.lift`) and writes each object slot as the kind of object it names::

    "place the cube behind the tray"        -> behind(?movable, ?surface)
    "put the red block on the blue block"   -> on(?movable, ?movable)
    "Move an object so that it ends up to the left of a reference object."
                                            -> left_of(?any, ?any)
    "pour milk into the cup"                -> None (the reader refuses: no boost)

Kinds come from the scene's object classes (`sim.objects`): movable (`MOVABLE`),
container (bowl), surface (`TARGETS`), region (zone, outline). A description names roles,
not objects ("an object", "another block", "two objects", "a container such as a
bowl"): when the reader refuses the words as written, role phrases become placeholder
objects of kind `any` ("a block" stays movable), and the longest readable prefix of the
first sentence, cut at a comma or a clause word ("with", "so", "without"...), is read.
Only English description conventions are rewritten; the reader's lexicon is untouched.
"""

from __future__ import annotations

import re

VERSION = "1"  # bump when the output for a text can change: cached templates are recomputed
_PLACEHOLDERS = ("red cube", "blue cube", "green cube", "yellow cube", "purple cube", "orange cube")
_GENERIC = r"(object|block|item|thing|piece)"
_ROLE_ADJ = r"(?:other|reference|target|second|third|given|different|single|specific|chosen|marked)"
# "an object", "another block", "a reference object", "the other object"
_ROLE = re.compile(
    r"\b(?:an?|one|another|the other|some|any|the first|the second|a second|a third)\s+"
    rf"(?:{_ROLE_ADJ}\s+)*{_GENERIC}\b",
    re.I,
)
# "two objects", "three other blocks"
_COUNTED = re.compile(rf"\b(two|three|2|3)\s+(?:other\s+|more\s+)?{_GENERIC}s\b", re.I)
# "a container such as a bowl" -> "a bowl"; "a flat target (a tray, plate or pad)" -> "a tray"
_SUCH_AS = re.compile(r"\b(?:an?|the)\s+(?:[a-z-]+\s+){0,3}?such as\s+", re.I)
_PAREN = re.compile(
    r"\b(?:an?|the)\s+(?:[a-z-]+\s+){0,3}?\(((?:an?|the)\s+)?([^),]+?)(?:,[^)]*|\s+or\s+[^)]*)?\)",
    re.I,
)
# "all objects of one color" -> "all red objects"
_COLOR_ROLE = re.compile(
    r"\b(every|all|each|all the)\s+(objects?|things?|items?|blocks?|cubes?)\s+of\s+"
    r"(?:one|a|a given|a single|the same|a chosen)\s+colou?r\b",
    re.I,
)
_ADJ = re.compile(rf"\b{_ROLE_ADJ}\s+(?=[a-z])", re.I)
_CUTS = re.compile(
    r"\s*(?:[,;:(]|\b(?:and|or|with|without|while|so|by|using|until|then|from|which|that)\b)"
)
_SLOT = re.compile(r"\?([a-z]+\d*)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def read_template(text: str, description: bool = False) -> str | None:
    """The typed goal template of `text`, or None where the reader cannot read it.

    Args:
        text: an instruction ("place the cube behind the tray") or a skill description.
        description: `text` describes a skill: its first sentence's longest readable
            prefix counts too (a request is read whole or not at all).

    Returns:
        The template with object slots written as kinds (`behind(?movable, ?surface)`);
        numbers stay `?n`, colors `?color`.
    """
    got = _read(text, frozenset())
    if got is not None:
        return got
    first = _SENTENCE.split(text.strip())[0].rstrip(".!? ")
    rewritten, generic = placeholders(first)
    if rewritten != first or description:  # else: the same words were already refused
        got = _read(rewritten, generic)
    if got is not None or not description:
        return got
    cuts = sorted({m.start() for m in _CUTS.finditer(rewritten) if m.start() > 0}, reverse=True)
    for c in cuts:
        got = _read(rewritten[:c].rstrip(" ,;:"), generic)
        if got is not None:
            return got
    return None


read_template.version = VERSION  # type: ignore[attr-defined]  # the Searcher's cache key


def placeholders(text: str) -> tuple[str, frozenset[str]]:
    """`text` with role phrases replaced by placeholder objects, and the placeholders that
    stand for any object (those from "object", "item", "thing"; "block" is a cube)."""
    names = iter(_PLACEHOLDERS * 2)
    generic: set[str] = set()

    def one(word: str) -> str:
        v = next(names)
        if not word.lower().startswith("block"):
            generic.add(v)
        return f"the {v}"

    def counted(m: re.Match) -> str:
        n = 2 if m.group(1).lower() in ("two", "2") else 3
        parts = [one(m.group(2)) for _ in range(n)]
        return ", ".join(parts[:-1]) + " and " + parts[-1]

    text = _PAREN.sub(lambda m: f"{m.group(1) or 'a '}{m.group(2)}", _SUCH_AS.sub("", text))
    text = _ADJ.sub("", _COLOR_ROLE.sub(r"\1 red \2", text))
    text = _ROLE.sub(lambda m: one(m.group(1)), _COUNTED.sub(counted, text))
    return text, frozenset(generic)


def _read(text: str, generic: frozenset[str]) -> str | None:
    from agent.understand import read_goal
    from sim.goals.template import lift

    try:
        template = lift(read_goal(text).formula)
    except Exception:  # noqa: BLE001 - refused (AgentError) or a reader edge case: no boost
        return None
    kinds = {slot: _kind(v, generic) for slot, v in template.slots if not slot.startswith("color")}
    return _SLOT.sub(lambda m: "?" + kinds.get(m.group(1), m.group(1)), template.text)


def _kind(value: str | float, generic: frozenset[str]) -> str:
    from sim.objects import MOVABLE, TARGETS

    if not isinstance(value, str):
        return "n"
    if value in generic:
        return "any"
    words = value.split()
    if any(w in words for b in MOVABLE for w in b.split()[-1:]) or "object" in words:
        return "movable"
    if "bowl" in words:
        return "container"
    if any(t in words for t in TARGETS):
        return "surface"
    if "zone" in words or "outline" in words:
        return "region"
    return "any"
