"""Clause rules of the reader: a verb (or none) and what follows it, read into formulas.

The grammar of each rule is in `agent.understand.clauses`, with the verb tables.
"""

from __future__ import annotations

from agent.understand.clauses import (
    BY,
    CCW,
    CW,
    IN_PLACE,
    RETURN,
    ROTATED,
    STILL_VERBS,
    SUPPORT,
    TOWER_TAIL,
    TURNS,
)
from agent.understand.lexicon import BE, CONNECTORS, DEGREES, MODALS, number_at, shown
from agent.understand.nouns import TABLE_OBJ, Group, Obj, SameColor
from agent.understand.relations import Rel
from sim.goals import Atom


def _rests(r: Rel) -> bool:
    return r.kind == "pred" and r.pred in SUPPORT and not r.neg


class Clauses:
    """Verb rules of the reader (mixed into `reader.Parser`)."""

    def _subjects(self) -> list | None:
        subs = self.np_list("subject")
        if subs is None:
            return None
        if any(s == TABLE_OBJ or isinstance(s, SameColor) for s in subs):
            self.refuse("moving the table")
        self.subjects_now = subs
        self.subject_now = subs[0] if len(subs) == 1 else None
        return subs

    # -- move ---------------------------------------------------------------------------
    def rule_move(self, verb: str, neg: bool, fronted: Rel | None):
        subs = self._subjects()
        if subs is None:
            return None
        self.skip(("up", "down", "back", "over"))
        be = None
        if self.eat_any(("so that", "so", "such that", "until")):  # "move A so that it is on B"
            if not self.eat_any(("it", "they", "both", "each", "all")):
                return self.expect("'it' after 'so that'")
            verb = None
        if verb in (None, "have", "keep", "leave", "make", "get"):
            modal = self.eat_any(MODALS)
            if self.eat_any(("not", "never")):
                neg = not neg
            be = self.eat_any(BE) or modal
        if self.eat_any(("not", "never")):
            neg = not neg
        if ((verb in ("keep", "leave") or be) and self.eat_any(IN_PLACE)) or self.eat_any(RETURN):
            return [self.apply_atom(s, "where_was", "self", neg) for s in subs]
        if neg and verb in STILL_VERBS and self.done_clause():
            return [self.apply_atom(s, "where_was", "self", False) for s in subs]
        if be and self.eat_any(ROTATED):  # "the red cube should be rotated by 90 degrees"
            return self._rotation(subs, "rotate", neg)
        self.neg_now = neg
        self.eat(",")  # "put the red cube, to the left of the bowl"
        r = self.rel()
        if r is None:
            if fronted is None:
                return None
            r = fronted
        steps = [(subs, r)]  # (subjects, relation), in order
        single = len(subs) == 1 and isinstance(subs[0], Obj)
        chain = [subs[0], *r.targets] if single and r.pred == "on" and r.kind == "pred" else []
        while True:
            back = self.i
            r2 = self.rel()
            if r2 is None:
                self.i = back
                break
            if chain and r2.pred == "on" and r2.kind == "pred" and isinstance(chain[-1], Obj):
                steps.append(([chain[-1]], r2))  # "stack A on B on C"
                chain.append(r2.targets[0])
            else:
                if _rests(r2) and any(_rests(rr) for _, rr in steps):
                    # "put the cube on the plate in the bowl": "the cube on the plate" may
                    # name the cube; it cannot rest on both
                    self.refuse(
                        f"two places for {shown(self.t[back : self.i])} to rest "
                        "(is the first one part of the object's description?)",
                        back,
                    )
                steps.append((subs, r2))
                chain = []
        if len(chain) > 2 and self.eat_any(TOWER_TAIL):
            return [Atom("stacked", tuple(o.desc for o in reversed(chain)))]
        late = self._late_except(subs)  # "put all cubes in the tray except the red one"
        return [f for ss, rr in steps for f in self.apply(late.get(id(ss), ss), rr, neg)]

    def _late_except(self, subs: list) -> dict:
        groups = [s for s in subs if isinstance(s, Group)]
        if len(groups) != 1:
            return {}
        start = self.i
        g = self._except(groups[0], start)
        if g is groups[0]:
            return {}
        return {id(subs): [g if s is groups[0] else s for s in subs]}

    def done_clause(self) -> bool:
        """At the end of a clause: the end, or a connector ('and', ', then', 'or'...)."""
        if self.done() or self.peek() in (",", ";"):
            return True
        return not self.at("next to") and any(self.at(c) for c in CONNECTORS + ("or",))

    # -- pick ---------------------------------------------------------------------------
    def rule_pick(self, verb: str, neg: bool, fronted: Rel | None):
        start = self.i
        subs = self._subjects()
        if subs is None:
            return None
        self.eat("up")
        if not self.done_clause() or fronted is not None:
            self.i = start
            return None  # a relation follows: the move rule reads it
        return [self.apply_atom(s, "held", None, neg) for s in subs]

    # -- rotate -------------------------------------------------------------------------
    def rule_rotate(self, verb: str, neg: bool, fronted: Rel | None):
        subs = self._subjects()
        if subs is None:
            return None
        return self._rotation(subs, verb, neg)

    def _rotation(self, subs: list, verb: str, neg: bool):
        sign, amount = 1.0, None
        for _ in range(2):
            way = self.eat_any(CW + CCW)
            if way:
                sign = -1.0 if way in CW else 1.0
                continue
            if amount is None:
                amount = self._amount()
                if amount is not None:
                    continue
            break
        if amount is None:
            if self.eat_any(("around", "round", "about")):
                amount = 180.0
            elif verb == "give":
                return None
            elif self.done_clause():
                self.refuse("by how many degrees to turn it")
            else:
                return self.expect("an angle such as 'by 45 degrees' or 'a quarter turn'")
        return [self.apply_atom(s, "rotated_by", sign * amount, neg) for s in subs]

    def _amount(self) -> float | None:
        start = self.i
        self.eat_any(BY)
        turn = self.eat_any(TURNS)
        if turn:
            self.eat_any(("rotation", "turn"))
            return TURNS[turn]
        got = number_at(self.t, self.i)
        if got is None:
            self.i = start
            return None
        self.i = got[1]
        self.eat_any(DEGREES)
        return got[0]

    # -- align, swap ----------------------------------------------------------------------
    def rule_align(self, verb: str, neg: bool, fronted: Rel | None):
        subs = self._subjects()
        if subs is None:
            return None
        self.eat("up")
        if not self.eat_any(("with", "to", "on", "onto", "into", "in", "against")):
            return self.expect("'with' and what to align it with")
        t = self._target()
        if t is None:
            return None
        return [self.apply_atom(s, "aligned", t, neg) for s in subs]

    def rule_swap(self, verb: str, neg: bool, fronted: Rel | None):
        self.eat_any(
            (
                "the positions of",
                "the places of",
                "the locations of",
                "the spots of",
                "positions of",
                "places of",
                "the position of",
                "the place of",
            )
        )
        subs = self._subjects()
        if subs is None:
            return None
        if len(subs) == 1 and self.eat_any(("with", "for")):
            other = self._target()
            if other is None:
                return None
            subs = [subs[0], other]
        self.eat_any(("positions", "places", "spots", "locations", "around", "over", "round"))
        subs = self.one_by_one(subs)
        if len(subs) != 2 or not all(isinstance(s, Obj) for s in subs):
            self.refuse("a swap of other than two objects")
        a, b = subs
        return [self.apply_atom(a, "where_was", b, neg), self.apply_atom(b, "where_was", a, neg)]

    # -- row --------------------------------------------------------------------------------
    def rule_row(self, verb: str, neg: bool, fronted: Rel | None):
        start = self.i
        subs = self._subjects()
        if subs is None:
            return None
        self.eat("up")
        back = self.i
        r = self.rel() if not self.done_clause() else None
        if r is None:
            self.i = back
            if not self.done_clause() or verb in ("put", "place", "set", "sort"):
                self.i = start
                return None
            r = Rel("row", "in_row")
        if r.kind != "row":
            self.i = start
            return None
        return self.apply(subs, r, neg)
