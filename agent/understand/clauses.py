"""Clauses: a verb (or none) and what follows it, read into formulas.

VERBS maps each verb phrase to the rules that may read its clause, tried in order:
- move: SUBJECTS [so that it] [be] [not] RELATION [RELATION...]: put/place/move/push/keep/
  remove/take... "stack A on B on C" chains on(A, B) and on(B, C) ("... to make a tower":
  stacked(C, B, A)); "keep X where it is", "put X back where it was" and "don't move X" are
  where_was(X, X). A verbless clause reads the same way ("the red cube should be on the
  plate", "make sure the cube is not in the bowl").
- pick: SUBJECTS [up] -> held(X); with a relation after it, as move ("take X out of Y").
- rotate: SUBJECTS [by] AMOUNT [clockwise | counter-clockwise] -> rotated_by(X, deg);
  AMOUNT: a number [degrees] ("forty-five" too), a quarter turn (90), half a turn (180),
  "around" (180); counter-clockwise (seen from above; also "to the left") is positive.
- align: SUBJECTS with|to|on|into X -> aligned.   swap: A and|with B -> where_was both ways.
- row: A, B and C [in a row] [from left to right | from right to left] -> in_row.
- build: a tower|stack of A, B, C with role words (at the bottom, in the middle, on top;
  bottom to top | top to bottom) -> stacked; a pyramid (at the base / on the left / on
  the right / on top) -> pyramid(left, right, top).
- clear: clear|empty Y [of SET] / clear SET off Y -> all(x in SET: not on(x, Y)).
- sort: sort SET [by color] [into the bowls] -> all(x in SET: in(x, bowl of the same color)).
"""

from __future__ import annotations

from agent.understand.lexicon import BE, CONNECTORS, MODALS, shown
from agent.understand.nouns import TABLE_OBJ, Obj, SameColor
from agent.understand.relations import Rel
from sim.goals import Atom

MOVE = (
    "put",
    "place",
    "set",
    "move",
    "bring",
    "position",
    "drop",
    "lay",
    "get",
    "carry",
    "transfer",
    "relocate",
    "shift",
    "slide",
    "push",
    "shove",
    "nudge",
    "drag",
    "pile",
    "load",
    "deposit",
    "return",
    "stand",
    "gather",
    "collect",
    "group",
    "insert",
    "fit",
    "lower",
    "keep",
    "leave",
    "have",
    "stick",
    "toss",
    "throw",
    "roll",
    "remove",
    "take away",
    "park",
    "store",
    "sit",
    "settle",
    "bring together",
    "put together",
    "make",
    "touch",
    "disturb",
)
PICK = (
    "pick up",
    "pick",
    "lift",
    "lift up",
    "grab",
    "grasp",
    "hold",
    "raise",
    "take",
    "take up",
    "seize",
    "hold up",
    "pick out",
)
ROTATE = ("rotate", "turn", "spin", "twist", "revolve", "give", "swivel", "pivot")
ALIGN = ("align", "line up", "line", "match up")
SWAP = ("swap", "exchange", "switch", "interchange", "trade", "swap around", "switch around")
ROW = ("line up", "arrange", "order", "lay out", "put", "place", "set", "line", "sort")
BUILD = (
    "build",
    "make",
    "create",
    "form",
    "construct",
    "assemble",
    "erect",
    "stack",
    "stack up",
    "pile up",
    "put together",
)
CLEAR = (
    "clear",
    "clear off",
    "clear out",
    "empty",
    "empty out",
    "unload",
    "clean off",
    "clean out",
    "clean up",
    "clean",
    "clear away",
)
SORT = ("sort", "sort out", "match", "organize", "organise")
RULES = {
    "move": MOVE,
    "pick": PICK,
    "rotate": ROTATE,
    "align": ALIGN,
    "swap": SWAP,
    "row": ROW,
    "build": BUILD,
    "clear": CLEAR,
    "sort": SORT,
}
# verb phrase -> rule names, in the order they are tried (a specific reading first)
VERBS: dict[str, list[str]] = {}
for _rule in ("build", "sort", "clear", "swap", "align", "row", "rotate", "pick", "move"):
    for _v in RULES[_rule]:
        VERBS.setdefault(_v, []).append(_rule)
VERBS["stack"].append("move")
for _v in PICK:
    VERBS[_v].append("move")

IN_PLACE = (
    "where it is",
    "where they are",
    "in place",
    "in its place",
    "in their place",
    "alone",
    "still",
    "as it is",
    "as they are",
    "where it was",
    "where they were",
    "in position",
    "where it stands",
    "untouched",
    "unmoved",
)
# "put the cube back where it was": where_was(cube, cube) after any moving verb
RETURN = (
    "where it was",
    "where they were",
    "to where it was",
    "to where they were",
    "where it started",
    "to where it started",
    "to its original position",
    "to its original place",
    "in its original position",
    "in its original place",
    "to its start",
    "to its starting position",
    "to its starting place",
    "to their original positions",
    "to their original places",
    "in place",
)
STILL_VERBS = ("move", "touch", "disturb")
ROTATED = ("rotated", "turned", "spun", "twisted", "swiveled", "swivelled", "pivoted")
SUPPORT = ("on", "in", "aligned", "where_was")  # where a subject rests: one at a time
CW = ("clockwise", "cw", "in the clockwise direction", "clockwise direction", "to the right")
CCW = (
    "counter clockwise",
    "counterclockwise",
    "anticlockwise",
    "anti clockwise",
    "ccw",
    "in the counter clockwise direction",
    "in the counterclockwise direction",
    "in the anticlockwise direction",
    "counter clockwise direction",
    "to the left",
)
TURNS = {
    "a quarter turn": 90.0,
    "a quarter of a turn": 90.0,
    "quarter turn": 90.0,
    "one quarter turn": 90.0,
    "a quarter rotation": 90.0,
    "a quarter": 90.0,
    "a right angle": 90.0,
    "a half turn": 180.0,
    "half a turn": 180.0,
    "half turn": 180.0,
    "a half rotation": 180.0,
    "half a rotation": 180.0,
    "an eighth of a turn": 45.0,
    "three quarters of a turn": 270.0,
    "a three quarter turn": 270.0,
}
BY = ("by", "through", "about", "around by")
TOWER = ("a tower", "a stack", "a pile", "a column", "the tower", "tower", "a stacked tower")
PYRAMID = ("a pyramid", "a triangle", "a pyramid shape", "the pyramid", "pyramid")
BUILD_WITH = (
    "with",
    "from",
    "out of",
    "using",
    "of",
    "made of",
    "made from",
    "by stacking",
    "by putting",
    ",",
)
ROLE_SEP = (
    ",",
    "then",
    "and",
    "and then",
    ", then",
    ", and",
    "followed by",
    "next",
    "finally",
    "and finally",
    ", and finally",
    "with",
    "and with",
    ", with",
    "plus",
)
ROLES = {
    "bottom": (
        "at the bottom",
        "on the bottom",
        "as the base",
        "at the base",
        "on the base",
        "as the bottom",
        "at the very bottom",
        "as the foundation",
        "in the base",
        "on the table",
        "first",
        "as the first",
    ),
    "middle": (
        "in the middle",
        "in the center",
        "in between",
        "second",
        "as the second",
        "in the centre",
    ),
    "top": (
        "on top",
        "at the top",
        "on the top",
        "as the top",
        "on top of it",
        "on top of that",
        "on top of them",
        "on top of both",
        "at the apex",
        "as the apex",
        "at the peak",
        "on the very top",
        "last",
        "as the last",
        "on the peak",
        "on top of those",
    ),
    "left": ("on the left", "at the left", "to the left", "left"),
    "right": ("on the right", "at the right", "to the right", "right"),
}
TOWER_TAIL = (
    "to make a tower",
    "to form a tower",
    "to build a tower",
    "into a tower",
    "as a tower",
    "to make a stack",
    "into a stack",
)
TOP_DOWN = ("from top to bottom", "top to bottom", "top down", "from the top down")
BOTTOM_UP = ("from bottom to top", "bottom to top", "bottom up", "from the bottom up")
STACK_TAIL = (
    "on top of each other",
    "on each other",
    "one on top of the other",
    "on top of one another",
    "into a tower",
    "in a tower",
    "as a tower",
    "to make a tower",
    "to form a tower",
    "to build a tower",
    "into a stack",
    "in a stack",
    "into a pile",
    "to make a stack",
    "up",
)
CLEAR_FROM = ("off", "off of", "from", "out of", "away from")
SORT_INTO = ("into", "in", "onto", "on", "to", "with", "in to")


def _rests(r: Rel) -> bool:
    return r.kind == "pred" and r.pred in SUPPORT and not r.neg


def _gerunds() -> dict[str, str]:
    """'putting' -> 'put', 'placing' -> 'place', 'picking' -> 'pick' (words with another
    use, such as 'standing' or 'matching', stay as they are)."""
    from agent.understand.relations import KNOWN_WORDS

    out: dict[str, str] = {}
    for v in {v.split()[0] for v in VERBS}:
        for g in (v + "ing", v[:-1] + "ing" if v.endswith("e") else "", v + v[-1] + "ing"):
            if g and g not in KNOWN_WORDS | {"standing", "matching"}:
                out.setdefault(g, v)
    return out


GERUNDS = _gerunds()


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
        from agent.understand.nouns import Group

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
        from agent.understand.lexicon import DEGREES, number_at

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
