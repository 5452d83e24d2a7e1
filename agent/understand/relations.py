"""Relation phrases: where the subject should end up, as (predicate, targets).

The phrase tables and `Rel`; `relation_rules.Relations` reads them. Tables, longest
phrase first:
- BINARY: phrase + one object -> pred(subject, object); "off"/"out of"/"from" negate
  (`not on`, `not in`); "under"/"beneath" invert (`on(object, subject)`). "to" means `in`
  for a bowl or zone, `next_to` for a movable object, else `on`. On/in/to "the table" is
  `on_table`; on/in an outline is `aligned` (the simulator's rule for outlines).
- directions and regions, read by structure: [prep] [the] DIR [hand] [side|half|edge...]
  [of X]. With an object X: left_of, right_of, in_front_of, behind ("in the middle of the
  tray" is on the tray). With no X or X = the table: the region (left_side, right_side,
  front, back, middle).
- "between X and Y"; "where X was" / "in place of X" (where_was); "upright";
  "in a row (from left to right | from right to left)"; "next to each other" / "side by
  side"; "(at least) 20 cm (away) from X" and "far from X" (far_from, meters);
  "(at least) 20 cm apart" / "far apart" for two subjects.
- "the bowl's left (side)" is left_of(bowl); a bare side opposite the previous clause's
  direction keeps its object ("A left of B and C on the right": right_of(C, B)); words
  such as "right", "directly", "somewhere" before a place are skipped ("right behind").
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.understand.lexicon import UNITS
from agent.understand.nouns import TABLE_OBJ, Obj, Ref

BINARY = {
    "on": ("on", False),
    "onto": ("on", False),
    "on to": ("on", False),
    "on top of": ("on", False),
    "upon": ("on", False),
    "atop": ("on", False),
    "over on": ("on", False),
    "above": ("on", False),
    "on the top of": ("on", False),
    "on to the top of": ("on", False),
    "in": ("in", False),
    "into": ("in", False),
    "in to": ("in", False),
    "inside": ("in", False),
    "inside of": ("in", False),
    "within": ("in", False),
    "to": ("to", False),
    "over to": ("to", False),
    "up to": ("to", False),
    "next to": ("next_to", False),
    "right next to": ("next_to", False),
    "beside": ("next_to", False),
    "by": ("next_to", False),
    "near": ("next_to", False),
    "near to": ("next_to", False),
    "close to": ("next_to", False),
    "close by": ("next_to", False),
    "nearby": ("next_to", False),
    "alongside": ("next_to", False),
    "alongside of": ("next_to", False),
    "side by side with": ("next_to", False),
    "adjacent to": ("next_to", False),
    "by the side of": ("next_to", False),
    "at the side of": ("next_to", False),
    "to the side of": ("next_to", False),
    "on the side of": ("next_to", False),
    "behind": ("behind", False),
    "in back of": ("behind", False),
    "in front of": ("in_front_of", False),
    "far from": ("far_from", False),
    "far away from": ("far_from", False),
    "away from": ("far_from", False),
    "well away from": ("far_from", False),
    "a long way from": ("far_from", False),
    "distant from": ("far_from", False),
    "off": ("on", True),
    "off of": ("on", True),
    "out of": ("in", True),
    "from": ("on", True),
    "not on": ("on", True),
    "not in": ("in", True),
    "not next to": ("next_to", True),
    "aligned with": ("aligned", False),
    "aligned to": ("aligned", False),
    "lined up with": ("aligned", False),
    "in place of": ("where_was", False),
    "in the place of": ("where_was", False),
    "to the place of": ("where_was", False),
    "in the position of": ("where_was", False),
    "to the position of": ("where_was", False),
    "at the position of": ("where_was", False),
    "into the position of": ("where_was", False),
    "in the spot of": ("where_was", False),
    "to the spot of": ("where_was", False),
    "at the spot of": ("where_was", False),
}
BY_COLOR = (
    "by color",
    "by their color",
    "by its color",
    "according to color",
    "according to their color",
    "by matching color",
    "of the same color",
    "of matching color",
    "of their color",
    "of their own color",
    "by colors",
)
INVERSE = ("under", "underneath", "beneath", "below")
WHERE = ("where", "to where", "at where", "back where")
WAS = (
    "was at the start",
    "was originally",
    "was before",
    "was at first",
    "used to be",
    "used to stand",
    "started",
    "was",
    "stood",
    "sat",
    "is",
    "is now",
    "lay",
    "stands",
)
BETWEEN = ("between", "in between", "halfway between", "midway between", "in the middle between")
DIRS = {
    "left": "l",
    "right": "r",
    "left hand": "l",
    "right hand": "r",
    "far left": "l",
    "far right": "r",
    "front": "f",
    "back": "b",
    "rear": "b",
    "middle": "m",
    "center": "m",
    "centre": "m",
    "very middle": "m",
    "very center": "m",
}
DIR_PREPS = (
    "on",
    "to",
    "at",
    "in",
    "into",
    "onto",
    "toward",
    "towards",
    "over to",
    "over on",
    "over at",
    "near",
    "along",
    "by",
    "up to",
    "close to",
    "near to",
    "closer to",
    "nearer to",
    "nearer",
)
SUPPORT = ("on", "in", "to", "aligned", "where_was")  # where the subject rests
OPPOSITE = {"l": "r", "r": "l", "f": "b", "b": "f"}
# Words before a place that change nothing: "right behind", "directly in front of"
INTENSIFIERS = (
    "right",
    "directly",
    "immediately",
    "straight",
    "somewhere",
    "anywhere",
    "either",
    "all the way",
    "squarely",
)
SIDES = ("side", "half", "part", "end", "edge", "third", "area", "portion", "section")
REGION = {"l": "left_side", "r": "right_side", "f": "front", "b": "back", "m": "middle"}
TOWARD = {"l": "left_of", "r": "right_of", "f": "in_front_of", "b": "behind", "m": "on"}
ROW = (
    "in a row",
    "in a line",
    "in a straight line",
    "in one row",
    "in one line",
    "in row",
    "in line",
    "in order",
    "in a single row",
)
LEFT_RIGHT = {
    "from left to right": False,
    "left to right": False,
    "from the left": False,
    "starting from the left": False,
    "starting on the left": False,
    "from right to left": True,
    "right to left": True,
    "from the right": True,
    "starting from the right": True,
    "starting on the right": True,
}
UPRIGHT = ("upright", "up right", "standing up", "standing", "on its end", "on end", "on its base")
AT_LEAST = (
    "at least",
    "more than",
    "over",
    "no less than",
    "a minimum of",
    "no closer than",
    "at a distance of at least",
    "at a distance of",
    "a distance of",
    "at",
)
EACH_OTHER = (
    "next to each other",
    "beside each other",
    "near each other",
    "side by side",
    "close to each other",
    "close together",
    "next to one another",
    "beside one another",
    "adjacent to each other",
)
KNOWN_WORDS = {w for table in (BINARY, DIRS, UNITS) for p in table for w in p.split()} | {
    w
    for table in (INVERSE, WHERE, BETWEEN, ROW, LEFT_RIGHT, UPRIGHT, AT_LEAST, EACH_OTHER)
    for p in table
    for w in p.split()
}


@dataclass(frozen=True)
class Rel:
    """A relation phrase: `kind` says how it applies to the subject(s).

    pred: pred(subject, *targets) | inverse: pred(target, subject) | unary: pred(subject) |
    row: in_row(subjects...) | pair: pred(s1, s2[, num]) between the subjects two by two.
    """

    kind: str
    pred: str
    targets: tuple[Ref, ...] = ()
    neg: bool = False
    num: float | None = None
    reverse: bool = False


def target_pred(pred: str, t: Ref) -> str:
    """The predicate a phrase means for its target: 'to' and 'on' depend on what it is."""
    shape = t.shape if isinstance(t, Obj) else getattr(t, "shape", None)
    if t == TABLE_OBJ and pred in ("on", "to", "in"):
        return "on_table"
    if shape == "outline" and pred in ("on", "in", "to"):
        return "aligned"
    if pred == "to":
        if shape in ("bowl", "zone"):
            return "in"
        return "next_to" if isinstance(t, Obj) and t.movable else "on"
    return pred
