"""The Searcher's goal channel: skills whose goal template fits the request's rank higher.

A sentence model weighs the verb a request shares with a description ("place the cube
behind the tray" ~ "Place an object right beside another object") more than the
relation word that decides the skill. The product already reads words into goals: the
agent hands the Searcher a `GoalReader` (`agent.plan.goal_reader.read_template`), text
-> typed template such as `behind(?movable, ?surface)`, or None where it cannot read.

A skill's template is its `Goal:` line (`SkillVersion.goal_template`), refined by the
reading of its description when both have the same shape (the reading adds the kinds of
objects: `on(?any, ?surface)` for "Set an object down on ... a plate"), else the reading
alone. Readings are cached by the index (`LocalIndex`, `MemoryIndex`) under a hash of the
reader's version and the description, so a search only reads the query.

`fit(query, skill)` is 1 when both templates have the same conjuncts (predicates and
arities; number slots aside: "at least 20 cm from" fits `far_from(?a, ?b)`) and kinds
that agree (`?any` and untyped slots agree with every kind), `SUB` when one's conjuncts
are part of the other's, else 0. A request the reader refuses, or whose template fits no
skill, is ranked as before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any, Protocol

SUB = 0.5  # a conjunction containing the other's goal (or contained in it)
KINDS = frozenset({"movable", "container", "surface", "region", "any"})
_SLOT = re.compile(r"\?([a-z]+\d*)")
_NUMBER_ARG = re.compile(r",\s*\?n\d*(?=\))")


class GoalReader(Protocol):
    """Text -> typed goal template or None; `description=True` for a skill's description."""

    def __call__(self, text: str, description: bool = False) -> str | None: ...


Shape = tuple[tuple[str, ...], tuple[str, ...]]  # sorted conjunct shapes, slot kinds in order


def shape(template: str) -> Shape:
    """A template's conjuncts with slots erased (sorted) and its object slots' kinds.

    Slots that are not kinds (`?a` of a `Goal:` line) read as `any`; number slots are left
    out of both, so a skill's goal without a distance fits a request with one.
    """
    t = _NUMBER_ARG.sub("", template)
    parts = tuple(sorted(_SLOT.sub("?", p.strip()) for p in re.split(r"\band\b", t)))
    kinds = tuple(k if k in KINDS else "any" for k in _SLOT.findall(t) if not k.startswith("color"))
    return parts, kinds


def fit(query: Shape, skill: Shape) -> float:
    """How well a skill's template fits the request's (1, `SUB` or 0)."""
    (qp, qk), (sp, sk) = query, skill
    if qp == sp:
        agree = len(qk) == len(sk) and all(
            a == b or "any" in (a, b) for a, b in zip(qk, sk, strict=True)
        )
        return 1.0 if agree else 0.0
    if set(qp) < set(sp) or set(sp) < set(qp):
        return SUB
    return 0.0


def skill_template(goal_line: str | None, reading: str | None) -> str | None:
    """A skill's template: its `Goal:` line, with the reading's kinds where the shapes agree."""
    if goal_line and reading and shape(goal_line)[0] == shape(reading)[0]:
        return reading
    return goal_line or reading


def cache_key(reader: Callable, description: str) -> str:
    """The key a description's reading is cached under (reader version + the text)."""
    version = str(getattr(reader, "version", ""))
    return hashlib.sha1(f"{version}\0{description}".encode()).hexdigest()[:20]


def skill_templates(versions: Iterable[Any], reader: GoalReader, index: Any) -> dict[str, Shape]:
    """Skill name -> the shape of its template, for skills that have one.

    Readings of descriptions come from the index's cache where it keeps one
    (`goal_readings` / `put_goal_readings`); those not cached are read and stored.
    """
    versions = list(versions)
    keys = {v.name: cache_key(reader, v.description) for v in versions}
    get = getattr(index, "goal_readings", None)
    cached: dict[str, str | None] = get(set(keys.values())) if get else {}
    new: dict[str, str | None] = {}
    out: dict[str, Shape] = {}
    for v in versions:
        key = keys[v.name]
        if key not in cached and key not in new:
            try:
                new[key] = reader(v.description, description=True)
            except Exception:  # noqa: BLE001 - a reader bug must not break a search
                new[key] = None
        reading = cached[key] if key in cached else new[key]
        template = skill_template(v.goal_template, reading)
        if template:
            out[v.name] = shape(template)
    put = getattr(index, "put_goal_readings", None)
    if new and put:
        put(new)
    return out
