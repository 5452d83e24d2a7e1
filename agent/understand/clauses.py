"""Clauses: a verb (or none) and what follows it, read into formulas.

The verb and phrase tables; `clause_rules.Clauses` reads them. VERBS maps each verb
phrase to the rules that may read its clause, tried in order:
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

from agent.understand.relations import KNOWN_WORDS

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


def _gerunds() -> dict[str, str]:
    """'putting' -> 'put', 'placing' -> 'place', 'picking' -> 'pick' (words with another
    use, such as 'standing' or 'matching', stay as they are)."""
    out: dict[str, str] = {}
    for v in {v.split()[0] for v in VERBS}:
        for g in (v + "ing", v[:-1] + "ing" if v.endswith("e") else "", v + v[-1] + "ing"):
            if g and g not in KNOWN_WORDS | {"standing", "matching"}:
                out.setdefault(g, v)
    return out


GERUNDS = _gerunds()
