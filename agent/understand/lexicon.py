"""Words the goal reader knows: tokens, object nouns, numbers, units, fillers.

Everything here is a table; the grammar (`clauses`, `relations`, `nouns`) looks words
up here and never spells a word of its own except the few that shape a sentence ("and",
"the", "of"). Colors and shape nouns come from `skills.naming`, so the reader and the
binder share one vocabulary ("block" is a cube, "dish" a plate, "violet" purple...).
"""

from __future__ import annotations

import re

from sim.objects import MOVABLE as MOVABLE  # the kinds the robot can move
from skills.naming import COLOR_WORDS, SHAPE_PHRASES, SMALL_WORDS

LARGE_WORDS = {"large", "big", "bigger", "larger", "regular", "normal"}
# Nouns for "any movable object" (sets: "the red objects"; a mention: "the red one").
GENERIC = {"object", "thing", "item", "piece", "toy"}
ANAPHOR = {"one", "ones"}
TABLE = {"table", "tabletop", "workspace", "desk"}
DETERMINERS = ("the", "a", "an", "this", "that", "these", "those", "your", "my", "any", "some")
# "all (of) (the) cubes", "every cube", "each of the cubes", "both (of the) cylinders"
QUANTIFIERS = (
    "all of the",
    "all the",
    "all of",
    "all",
    "every single",
    "every",
    "each of the",
    "each",
    "both of the",
    "both the",
    "both",
    "the two",
    "the 2",
)
EXCEPT = (
    "except for",
    "except",
    "but not",
    "but",
    "other than",
    "apart from",
    "excluding",
    "save for",
    "aside from",
    "besides",
)
EVERYTHING = ("everything", "every object", "all objects", "all things", "anything")
# Between clauses (any run of these): "and", ", then", "; after that", "and finally".
CONNECTORS = (
    ",",
    ";",
    "and",
    "then",
    "after that",
    "afterwards",
    "afterward",
    "next",
    "finally",
    "lastly",
    "also",
    "as well",
    "plus",
    "but",
    "while",
    "and also",
    "after which",
    "once done",
    "when done",
    "subsequently",
)
# Words that open a clause and mean nothing for the goal.
LEAD_INS = (
    "please",
    "first",
    "firstly",
    "first of all",
    "to start",
    "now",
    "can you",
    "could you",
    "would you",
    "will you",
    "i want you to",
    "i would like you to",
    "i d like you to",
    "go ahead and",
    "try to",
    "you should",
    "you must",
    "robot",
    "kindly",
    "then",
    "next",
    "finally",
    "lastly",
    "also",
    "second",
    "third",
    "secondly",
    "thirdly",
    "after that",
    "in the end",
    "at the end",
    "would you mind",
    "do you mind",
    "let us",
    "let",
    "i d appreciate it if you could",
)
# Adverbs that change nothing in the goal: dropped by `tokenize`.
FILLERS = {
    "carefully",
    "gently",
    "slowly",
    "quickly",
    "just",
    "simply",
    "kindly",
    "please",
    "neatly",
    "exactly",
    "precisely",
    "again",
    "softly",
    "safely",
    "now",
    "thanks",
}
MODALS = (
    "should",
    "must",
    "needs to",
    "need to",
    "has to",
    "have to",
    "is to",
    "are to",
    "will",
    "shall",
    "would",
    "can",
    "ought to",
)
BE = (
    "be",
    "end up",
    "ends up",
    "stay",
    "stays",
    "remain",
    "remains",
    "sit",
    "sits",
    "stand",
    "stands",
    "rest",
    "rests",
    "lie",
    "lies",
    "is",
    "are",
    "get",
    "gets",
    "be placed",
    "be put",
    "be moved",
    "be located",
    "be positioned",
    "is located",
    "are located",
    "is placed",
    "are placed",
    "be left",
    "be kept",
    "is now",
    "are now",
    "goes",
    "go",
    "belongs",
    "belong",
    "ends",
    "lands",
    "land",
    "to be",
    "to end up",
    "to stay",
    "to sit",
    "to remain",
    "to rest",
    "to stand",
    "to lie",
    "to go",
)
NEGATORS = ("do not", "dont", "don t", "never", "must not", "should not", "avoid", "neither")
UNITS = {
    "cm": 0.01,
    "centimeter": 0.01,
    "centimeters": 0.01,
    "centimetre": 0.01,
    "centimetres": 0.01,
    "mm": 0.001,
    "millimeter": 0.001,
    "millimeters": 0.001,
    "millimetre": 0.001,
    "millimetres": 0.001,
    "m": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "metre": 1.0,
    "metres": 1.0,
    "inch": 0.0254,
    "inches": 0.0254,
}
DEGREES = ("degrees", "degree", "deg", "degs")
NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}

# Shape nouns, longest phrase first: (words, canonical shape); plural forms are matched
# by `noun_at` ("boxes", "dishes", "small blocks").
NOUNS = sorted(((tuple(p.split()), s) for p, s in SHAPE_PHRASES), key=lambda n: -len(n[0]))


def tokenize(text: str) -> list[str]:
    """Lower-case words, numbers and the separators ',' and ';' ('.' ends a sentence)."""
    t = text.lower().replace("\u2019", "'").replace("\u00b0", " degrees ")
    t = t.replace("colour", "color")
    t = re.sub(r"\b(thank you|one by one|one at a time|for me|if you can|if possible)\b", " ", t)
    t = re.sub(r"\bcan't\b|\bcannot\b", "can not", t)
    t = re.sub(r"n't\b", " not", t)
    t = re.sub(r"'s\b|s'(?=\s|$)", lambda m: "" if m.group(0) == "'s" else "s", t)
    t = re.sub(r"'d\b", " would", t)
    t = re.sub(r"(\d)(?=[a-z])", r"\1 ", t)  # 20cm -> 20 cm
    t = re.sub(r"\.{2,}|\u2026", " , ", t)  # "put the red cube... on the plate"
    t = re.sub(r"(?<![\d])\.(?!\d)|[!?]", " ; ", t)  # sentence ends; not 0.2
    t = re.sub(r":", " , ", t)
    t = re.sub(r"&", " and ", t)
    t = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", t)  # counter-clockwise, left-hand
    toks = [w for w in re.findall(r"-?\d+(?:\.\d+)?|-?\.\d+|[a-z]+|[,;]", t) if w not in FILLERS]
    while toks and toks[-1] in (",", ";"):
        toks.pop()
    return toks


def shown(tokens: list[str]) -> str:
    """Tokens as text: 'put the red cube, then ...'."""
    return re.sub(r" ([,;])", r"\1", " ".join(tokens))


def singular(word: str) -> str | None:
    """'cubes' -> 'cube', 'boxes' -> 'box', 'dishes' -> 'dish'; None if not a plural."""
    for suffix in ("es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            stem = word[: -len(suffix)]
            if suffix == "es" and not re.search(r"(x|sh|ch|ss)$", stem):
                continue
            return stem
    return None


def noun_at(toks: list[str], i: int) -> tuple[str, int, bool] | None:
    """The shape noun starting at toks[i]: (canonical shape, end index, plural)."""
    for words, shape in NOUNS:
        n = len(words)
        got = toks[i : i + n]
        if len(got) < n or tuple(got[:-1]) != words[:-1]:
            continue
        if got[-1] == words[-1]:
            return shape, i + n, False
        if singular(got[-1]) == words[-1]:
            return shape, i + n, True
    return None


def is_color(word: str) -> bool:
    return word in COLOR_WORDS


def color_of(word: str) -> str:
    return COLOR_WORDS[word]


def is_small(word: str) -> bool:
    return word in SMALL_WORDS


def number_at(toks: list[str], i: int) -> tuple[float, int] | None:
    """A number at toks[i]: digits ('45', '0.2', '-30') or words ('forty five')."""
    if i < len(toks) and re.fullmatch(r"-?\d+(\.\d+)?|-?\.\d+", toks[i]):
        return float(toks[i]), i + 1
    total, j, seen = 0, i, False
    while j < len(toks):
        w = toks[j]
        if w in NUMBER_WORDS and not (seen and NUMBER_WORDS[w] >= 10 and total % 100 >= 10):
            total += NUMBER_WORDS[w]
        elif w == "hundred" and seen:
            total *= 100
        elif w == "a" and not seen and j + 1 < len(toks) and toks[j + 1] == "hundred":
            total = 1
        elif w == "and" and seen and j + 1 < len(toks) and toks[j + 1] in NUMBER_WORDS:
            pass
        else:
            break
        seen = seen or w != "and"
        j += 1
    return (float(total), j) if seen else None
