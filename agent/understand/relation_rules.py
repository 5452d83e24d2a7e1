"""Relation rules of the reader: where the subject should end up, read from the phrase
tables of `agent.understand.relations` into `Rel`s (mixed into `reader.Parser`)."""

from __future__ import annotations

from agent.understand.lexicon import UNITS, number_at, shown
from agent.understand.nouns import TABLE_OBJ, Group, Obj, Ref, SameColor
from agent.understand.relations import (
    AT_LEAST,
    BETWEEN,
    BINARY,
    BY_COLOR,
    DIR_PREPS,
    DIRS,
    EACH_OTHER,
    INTENSIFIERS,
    INVERSE,
    LEFT_RIGHT,
    OPPOSITE,
    REGION,
    ROW,
    SIDES,
    SUPPORT,
    TOWARD,
    UPRIGHT,
    WAS,
    WHERE,
    Rel,
)


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
