"""Object lists from words: "red cube, blue bowl, green cube on yellow plate, cube in the middle".

`parse_objects(text)` reads a comma-separated list of entries
``[color] [small] shape [relation reference]``:

- color: one of `sim.objects.COLORS`, or left out (a free color is chosen when the scene
  is built, so that every description stays unique);
- shape: one of `sim.objects.SHAPES` ("small cube" is a shape; "block" means cube; the
  words a kind no family uses lists name it: "rubber duck", "sphere", "rod");
- relation (optional): `on`, `in`, `left of`, `right of`, `in front of`, `behind`,
  `next to` / `near`, `far from` followed by another object (``[color] [small] shape``;
  one not listed on its own is added to the scene), or a part of the table: `on the left
  side`, `on the right side`, `in the middle`, `in the front`, `at the back` (`of the
  table` may follow).

Entries are separated by commas (or "and"); a JSON list of entries reads the same.
`sim.scenes.build_scene` lays the `ObjectSpec`s out on the table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sim.errors import SimError
from sim.objects import COLORS, SHAPES

SYNONYMS = {"block": "cube", "blocks": "cube"} | {
    w: s.name for s in SHAPES.values() if s.novel for w in s.words
}  # a novel kind's other words ("rubber duck", "rod") name it in an object list
SMALL = ("small", "little", "tiny")
ARTICLES = ("a", "an", "the")
# relation words -> predicate (longest first where one starts another)
RELATIONS = {
    "in front of": "in_front_of",
    "to the left of": "left_of",
    "left of": "left_of",
    "to the right of": "right_of",
    "right of": "right_of",
    "next to": "next_to",
    "beside": "next_to",
    "near": "next_to",
    "far from": "far_from",
    "behind": "behind",
    "on top of": "on",
    "inside": "in",
    "on": "on",
    "in": "in",
    "at": "at",
}
REGION_WORDS = {
    "left side": "left_side",
    "left": "left_side",
    "right side": "right_side",
    "right": "right_side",
    "middle": "middle",
    "center": "middle",
    "centre": "middle",
    "front": "front",
    "back": "back",
}
_ENTRY = re.compile(
    r"^(?P<subj>.+?)\s+(?P<rel>" + "|".join(re.escape(w) for w in RELATIONS) + r")\s+(?P<ref>.+)$"
)
_REGION = re.compile(
    r"^(?:the\s+)?(?P<part>" + "|".join(REGION_WORDS) + r")(?:\s+(?:side\s+)?of\s+the\s+table)?$"
)


@dataclass(frozen=True)
class ObjectSpec:
    """One entry of an object list.

    Attributes:
        shape: a shape of `sim.objects.SHAPES`.
        color: a color of `sim.objects.COLORS`, or None (chosen when the scene is built).
        relation: a predicate ("on", "in", "left_of", ..., "left_side", "middle", ...) the
            object starts in, or None.
        ref: index, in the same list, of the object the relation refers to (None for the
            parts of the table).
        text: the words the entry was read from.
    """

    shape: str
    color: str | None = None
    relation: str | None = None
    ref: int | None = None
    text: str = ""

    @property
    def description(self) -> str | None:
        return f"{self.color} {self.shape}" if self.color else None


def _words(text: str) -> list[str]:
    return [w for w in re.sub(r"\s+", " ", text.strip().lower()).split(" ") if w]


def parse_description(text: str) -> tuple[str | None, str]:
    """(color or None, shape) of "[color] [small] shape" ("blue small cube", "small blue
    cube", "block"). Raises SimError naming the word it does not know."""
    words = [w for w in _words(text) if w not in ARTICLES]
    color, small, rest = None, False, []
    for w in words:
        if w in COLORS and color is None and not rest:
            color = w
        elif w in SMALL and not rest:
            small = True
        else:
            rest.append(w)
    noun = SYNONYMS.get(" ".join(rest), " ".join(rest))
    shape = f"small {noun}" if small and noun else noun
    if shape in SHAPES:
        return color, shape
    known = ", ".join(SHAPES)
    if not rest:
        raise SimError(f"{text.strip()!r} names no shape (known: {known})")
    tail = SYNONYMS.get(rest[-1], rest[-1])
    if len(rest) > 1 and tail in SHAPES and rest[0] not in COLORS:
        raise SimError(
            f"unknown color {rest[0]!r} in {text.strip()!r} (known: {', '.join(COLORS)})"
        )
    raise SimError(f"unknown shape {' '.join(rest)!r} in {text.strip()!r} (known: {known})")


def parse_objects(text) -> list[ObjectSpec]:
    """Read an object list (text "red cube, green cube on yellow plate", or a list of such
    entries, or its JSON text). A referenced object that is not listed on its own is added
    right after the entry naming it. Raises SimError on what it cannot read."""
    entries = _entries(text)
    if not entries:
        raise SimError("the object list is empty")
    rows = []  # (color, shape, relation, ref words, text)
    for e in entries:
        m = _ENTRY.match(" ".join(_words(e)))
        rel, ref_words = None, None
        subj = e
        if m:
            subj, rel, ref_words = m.group("subj"), RELATIONS[m.group("rel")], m.group("ref")
            region = _REGION.match(ref_words)
            if rel in ("on", "in", "at") and region:
                rel, ref_words = REGION_WORDS[region.group("part")], None
            elif rel == "at":
                raise SimError(f"{e.strip()!r}: 'at' takes a part of the table (at the back)")
        color, shape = parse_description(subj)
        ref = parse_description(ref_words) if ref_words is not None else None
        rows.append((color, shape, rel, ref, e.strip()))
    # Lay out the final list: each entry, then the objects it names that are not listed.
    final: list[tuple] = []
    explicit = [(c, s) for c, s, *_ in rows]
    placed_ref: dict[int, int] = {}  # row -> index of its reference in `final`
    row_at: dict[int, int] = {}
    pending: list[tuple[int, int]] = []  # (row, explicit row it refers to)
    implicit: dict[tuple, int] = {}  # an unlisted reference -> its index in `final`
    for i, (color, shape, rel, ref, txt) in enumerate(rows):
        row_at[i] = len(final)
        final.append((color, shape, rel, txt))
        if ref is None:
            continue
        j = _match(ref, explicit, i, txt)
        if j is None and ref[0] is None:  # "plate": the one another entry named, if one
            named = [k for k in implicit if k[1] == ref[1]]
            ref = named[0] if len(named) == 1 else ref
        if j is None:
            if ref not in implicit:
                implicit[ref] = len(final)
                final.append((ref[0], ref[1], None, " ".join(x for x in ref if x)))
            placed_ref[i] = implicit[ref]
        else:
            pending.append((i, j))
    for i, j in pending:
        placed_ref[i] = row_at[j]
    specs = [
        ObjectSpec(shape, color, rel, None, txt) for color, shape, rel, txt in final
    ]  # refs below
    for i, k in placed_ref.items():
        s = specs[row_at[i]]
        specs[row_at[i]] = ObjectSpec(s.shape, s.color, s.relation, k, s.text)
    check_specs(specs)
    return specs


def _entries(text) -> list[str]:
    if isinstance(text, str) and text.lstrip().startswith("["):
        try:
            text = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SimError(f"the object list is not valid JSON: {exc.msg}") from None
    if isinstance(text, str):
        return [e for e in re.split(r",|;|\band\b", text) if e.strip()]
    if isinstance(text, list | tuple) and all(isinstance(e, str) for e in text):
        return [e for e in text if e.strip()]
    raise SimError("objects are a text list or a JSON list of descriptions")


def _match(ref: tuple[str | None, str], explicit: list, me: int, txt: str) -> int | None:
    """Index of the listed entry a reference names, or None (not listed)."""
    color, shape = ref
    if color is not None:
        if explicit[me] == (color, shape):
            raise SimError(f"{txt!r}: an object cannot relate to itself")
        hits = [j for j, e in enumerate(explicit) if e == (color, shape)]
        return hits[0] if hits else None
    hits = [j for j, e in enumerate(explicit) if e[1] == shape and j != me]
    if len(hits) > 1:
        raise SimError(f"{txt!r}: which {shape}? the list has {len(hits)} (give its color)")
    return hits[0] if hits else None


def check_specs(specs: list[ObjectSpec]) -> None:
    seen: dict[str, str] = {}
    for s in specs:
        if s.shape not in SHAPES:
            raise SimError(f"unknown shape {s.shape!r} (known: {', '.join(SHAPES)})")
        if s.color is not None and s.color not in COLORS:
            raise SimError(f"unknown color {s.color!r} (known: {', '.join(COLORS)})")
        d = s.description
        if d is not None:
            if d in seen:
                raise SimError(
                    f"two objects are both the {d} ({seen[d]!r} and {s.text!r}): descriptions must differ"
                )
            seen[d] = s.text
        if s.ref is not None and not 0 <= s.ref < len(specs):
            raise SimError(f"{s.text!r}: its reference is not in the list")
