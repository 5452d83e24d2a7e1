"""Relation phrases: where the subject should end up, as (predicate, targets).

Tables, longest phrase first:
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

from agent.understand.lexicon import UNITS, number_at, shown
from agent.understand.nouns import TABLE_OBJ, Group, Obj, Ref, SameColor

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


class Relations:
    """Relation rules of the reader (mixed into `reader.Parser`)."""

    def rel(self) -> Rel | None:
        start = self.i
        for skip in (False, True):
            if skip and not self.eat_any(INTENSIFIERS):
                break
            after = self.i
            for rule in (
                self._row,
                self._each_other,
                self._distance,
                self._direction,
                self._between,
                self._where,
                self._upright,
                self._binary,
            ):
                self.i = after
                self.rel_pred = None
                r = rule()
                if r is not None:
                    self.note(start, shown(self.t[start : self.i]))
                    if r.kind == "pred" and len(r.targets) == 1:  # what 'it' may point back to
                        self.landmark = None if r.pred in SUPPORT else r.targets[0]
                    if r.targets and self.dir_before and r.targets[0] is not self.dir_before[1]:
                        self.dir_before = None  # another object named: no 'of B' to elide
                    return r
        self.i = start
        return self.expect("a place such as 'on the plate', 'left of the bowl' or 'in the middle'")

    def _target(self) -> Ref | None:
        start = self.i
        t = self.np("target")
        if isinstance(t, Group):
            if self.eat_any(BY_COLOR) and t.shape and " except " not in t.words:
                return SameColor(t.shape)
            self.refuse(f"a set ('{t.words}') where one object is needed", start)
        return t

    def _binary(self) -> Rel | None:
        inverse = self.eat_any(INVERSE)
        phrase = None if inverse else self.eat_any(BINARY)
        if not inverse and not phrase:
            return None
        self.rel_pred = "on" if inverse else BINARY[phrase][0]
        t = self._target()
        if t is None:
            return None
        if inverse:
            return Rel("inverse", "on", (t,))
        pred, neg = BINARY[phrase]
        return Rel("pred", pred, (t,), neg)

    def _direction(self) -> Rel | None:
        prep = self.eat_any(DIR_PREPS)
        self.eat("the")
        self.rel_pred = "direction"
        d = self.eat_any(DIRS)
        if d is None:
            return self._possessive() if prep else None
        code = DIRS[d]
        self.eat("hand")
        side = self.eat_any(SIDES)
        of = self.eat("of") or self.eat("from")
        if not of and not prep:
            return None
        last = self.dir_before  # the previous clause's last direction to an object
        if not of and last and OPPOSITE.get(code) == last[0] and (side or self.done_clause()):
            # "A on the left side of B and C on the right side": of B, too
            return self._toward(code, last[1])
        if code == "m" and not of and self.at("between"):
            return self._between(eaten=True)
        if of:
            t = self._target()
            if t is None:
                return None
            if code == "m" and t != TABLE_OBJ and self.eat_any(("and", ", and")):  # of A and B
                b = self._target()
                return Rel("pred", "between", (t, b)) if b is not None else None
            if t != TABLE_OBJ:
                return self._toward(code, t)
        return Rel("unary", REGION[code])

    def _toward(self, code: str, t) -> Rel:
        if code in OPPOSITE:
            self.last_dir = (code, t)
        return Rel("pred", TOWARD[code], (t,))

    def _possessive(self) -> Rel | None:
        """'to the bowl's left (side)' (the tokens read 'to the bowl left')."""
        t = self.np("target")
        d = self.eat_any(DIRS) if isinstance(t, Obj) else None
        if d is None or self.at("of"):
            return None
        side = self.eat("hand") | bool(self.eat_any(SIDES))
        if not side and not self.done_clause():
            return None
        if t == TABLE_OBJ:
            return Rel("unary", REGION[DIRS[d]])
        return self._toward(DIRS[d], t)

    def at_any(self, phrases) -> bool:
        return any(self.at(p) for p in phrases)

    def _between(self, eaten: bool = False) -> Rel | None:
        if not self.eat_any(BETWEEN) and not (eaten and self.eat("between")):
            return None
        self.rel_pred = "between"
        back = self.i
        both = self.np("target")  # "between the blue and green cubes"
        pair = both.named() if isinstance(both, Group) else None
        if pair and len(pair) == 2:
            return Rel("pred", "between", tuple(pair))
        self.i = back
        a = self._target()
        if a is None or not self.eat_any(("and", ",", ", and")):
            return self.expect("'between X and Y'") if a is not None else None
        b = self._target()
        return Rel("pred", "between", (a, b)) if b is not None else None

    def _where(self) -> Rel | None:
        if not self.eat_any(WHERE):
            return None
        t = self._target()
        if t is None or not self.eat_any(WAS):
            return None if t is None else self.expect("'where X was'")
        return Rel("pred", "where_was", (t,))

    def _upright(self) -> Rel | None:
        return Rel("unary", "upright") if self.eat_any(UPRIGHT) else None

    def _row(self) -> Rel | None:
        row = self.eat_any(ROW)
        way = self.eat_any(LEFT_RIGHT)
        if not row and not way:
            if self.at_any(("from front to back", "from back to front", "front to back")):
                self.refuse("a row from front to back (rows run from left to right)")
            return None
        return Rel("row", "in_row", reverse=bool(way and LEFT_RIGHT[way]))

    def _each_other(self) -> Rel | None:
        if self.eat_any(EACH_OTHER):
            return None if self.at_any(("with", "to", "of")) else Rel("pair", "next_to")
        far = self.eat_any(
            (
                "far apart",
                "well apart",
                "apart",
                "far from each other",
                "away from each other",
                "far away from each other",
            )
        )
        return Rel("pair", "far_from") if far else None

    def _distance(self) -> Rel | None:
        if self.at_any(("within", "less than", "at most", "no more than", "closer than")):
            pos = self.i
            if number_at(self.t, self.i + (2 if self.peek() != "within" else 1)) or number_at(
                self.t, self.i + 1
            ):
                self.refuse(
                    "a distance at most (goals know 'next to', 'far from' and "
                    "'at least N cm from')",
                    pos,
                )
        least = self.eat_any(AT_LEAST)
        got = number_at(self.t, self.i)
        if got is None:
            return None
        value, j = got
        unit = self.t[j] if j < len(self.t) else ""
        if unit not in UNITS:
            return None
        self.i = j + 1
        self.eat_any(("or more", "or further", "at least"))
        meters = value * UNITS[unit]
        if self.eat_any(("apart", "away from each other", "from each other")):
            return Rel("pair", "far_from", num=meters)
        self.eat("away")
        self.rel_pred = "far_from"
        if not self.eat_any(("from", "off", "of") + (("to",) if least == "no closer than" else ())):
            return self.expect("'from X' after a distance")
        t = self._target()
        return Rel("pred", "far_from", (t,), num=meters) if t is not None else None


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
