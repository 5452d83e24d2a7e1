"""Inputs for the fuzz suite: words the readers know, mixed with junk.

Random characters alone almost never get past a tokenizer; sequences of the readers' own
words (verbs, colors, shapes, relations, connectors, numbers) reach deep into the grammar
and are where a parser trips. `examples(n)` is the per-property budget: `n` in `make test`,
forty times that with `SKILLGROVE_FUZZ=long`.
"""

from __future__ import annotations

import json

from hypothesis import settings
from hypothesis import strategies as st

from sim.goals import PREDICATES as GOAL_PREDICATES
from sim.goals import load as load_predicates
from tests.fuzz.conftest import PROFILE

SCALE = 40 if PROFILE == "long" else 1


def examples(n: int) -> settings:
    """This property's number of examples under the loaded profile."""
    return settings(max_examples=n * SCALE)


def _vocabulary() -> list[str]:
    from agent.understand.clauses import VERBS
    from agent.understand.lexicon import CONNECTORS, DETERMINERS, NEGATORS, QUANTIFIERS
    from agent.understand.relations import BETWEEN, BINARY, DIRS, INVERSE, ROW, UPRIGHT
    from skills.naming import COLOR_WORDS, SHAPE_PHRASES

    words = [*VERBS, *CONNECTORS, *DETERMINERS, *NEGATORS, *QUANTIFIERS, *BINARY, *DIRS]
    words += [*INVERSE, *BETWEEN, *ROW, *UPRIGHT, *COLOR_WORDS, *(p for p, _ in SHAPE_PHRASES)]
    words += ["it", "them", "table", "side", "degrees", "cm", "meters", "by", "of", "except"]
    words += ["all", "each", "every", "both", "one", "not", "and", "or", ",", ";", "."]
    return sorted({w for w in words if isinstance(w, str)})


WORDS = _vocabulary()
NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e308", "-0", "nan", "inf", "0x10", "1_000", "٣", "½", "45.5.5"]),
)
JUNK = st.text(max_size=40)  # any unicode: control characters, bidi overrides, surrogates' kin
TOKEN = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), NUMBERS, JUNK)
SENTENCES = st.lists(TOKEN, max_size=14).map(" ".join)
INSTRUCTIONS = st.one_of(SENTENCES, JUNK, st.text(min_size=2000, max_size=6000))

load_predicates()
PREDICATES = [*sorted(GOAL_PREDICATES), "nope"]  # the language's own, and one it lacks
OBJECTS = ["red cube", "blue bowl", "green cube", "cube", "x", "y", "red objects", "tray", ""]


def _atom_text(pred: str, args: list[str]) -> str:
    return f"{pred}({', '.join(args)})"


ARG_TEXT = st.one_of(st.sampled_from(OBJECTS), NUMBERS, JUNK.filter(lambda s: len(s) < 12))
ATOM_TEXT = st.builds(_atom_text, st.sampled_from(PREDICATES), st.lists(ARG_TEXT, max_size=4))


def _formula_text(children) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"{a} and {b}", children, children),
        st.builds(lambda a, b: f"{a} or {b}", children, children),
        children.map(lambda a: f"not {a}"),
        children.map(lambda a: f"({a})"),
        st.builds(
            lambda q, s, f: f"{q}(x in {s}: {f})",
            st.sampled_from(["all", "any", "every", "all"]),
            st.sampled_from(["cubes", "red objects", "cubes except red cube", "", "x", "bowls"]),
            children,
        ),
    )


FORMULA_TEXT = st.one_of(
    st.recursive(ATOM_TEXT, _formula_text, max_leaves=6),
    SENTENCES,
    JUNK,
)

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**30), 10**30),
        st.floats(),
        st.sampled_from(OBJECTS + PREDICATES + ["pred", "args", "and", "or", "not", "all"]),
        JUNK,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(["pred", "args", "and", "or", "not", "all", "any"]), JUNK),
            children,
            max_size=3,
        ),
    ),
    max_leaves=12,
)


def _json_atom(pred, args):
    return {"pred": pred, "args": args}


JSON_FORMULA = st.recursive(
    st.builds(
        _json_atom,
        st.sampled_from(PREDICATES),
        st.lists(st.one_of(st.sampled_from(OBJECTS), st.floats(), st.integers()), max_size=4),
    ),
    lambda children: st.one_of(
        st.builds(lambda k, xs: {k: xs}, st.sampled_from(["and", "or"]), st.lists(children)),
        children.map(lambda c: {"not": c}),
        st.builds(
            lambda k, v, s, w: {k: {"var": v, "in": s, "where": w}},
            st.sampled_from(["all", "any"]),
            st.sampled_from(["x", "y", "", "1", "x y"]),
            st.sampled_from(["cubes", "", "red objects", "cubes except red cube"]),
            children,
        ),
    ),
    max_leaves=6,
)
JSON_TEXT = st.one_of(
    JSON_FORMULA.map(lambda d: json.dumps(d, allow_nan=True)),
    JSON_VALUES.map(lambda d: json.dumps(d, allow_nan=True)),
    JSON_FORMULA.map(lambda d: json.dumps(d)[:-1]),  # truncated
)


def one_line(message: str) -> bool:
    """A refusal a person reads: one non-empty line, no traceback."""
    return bool(message.strip()) and "\n" not in message.strip() and "Traceback" not in message
