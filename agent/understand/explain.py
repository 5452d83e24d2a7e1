"""The one-line error for text that cannot be read: what was understood, what was not."""

from __future__ import annotations

from agent.understand.clauses import VERBS
from agent.understand.cursor import Refusal
from agent.understand.lexicon import (
    FILLERS,
    GENERIC,
    TABLE,
    is_color,
    is_small,
    number_at,
    shown,
    singular,
    tokenize,
)
from agent.understand.relations import KNOWN_WORDS
from skills.naming import SHAPE_PHRASES


def message(raw: str, p, r: Refusal) -> str:
    """The error for `raw`, from the parser `p` that refused it with `r`."""
    understood = _understood(p, p.t, p.seen)
    head = f"could not read a goal from '{raw}': understood {understood}; "
    if r.why:
        return head + f"did not understand {r.why}"
    pos = p.far
    if pos >= len(p.t):
        wish = f" (expected {p.wish[0]})" if p.wish else ""
        return head + f"did not understand where it ends after '{shown(p.t[-3:])}'{wish}"
    end = pos + 1
    while end < len(p.t) and end - pos < 4 and not known(p.t[end]):
        end += 1
    wish = f" (expected {p.wish[0]})" if p.wish else ""
    return head + f"did not understand '{shown(p.t[pos:end])}'{wish}"


def _understood(p, tokens: list[str], seen: list[tuple[int, str]]) -> str:
    """The pieces that were read: verbs, relations and objects, in the order they came
    (the noun phrases found by a fresh parser of `p`'s kind)."""
    probe = type(p)(tokens)
    spans = list(seen)
    for i in range(len(tokens)):
        probe.i = i
        try:
            got = probe.np("target")
        except Refusal:
            got = None
        if got is not None and probe.i > i:
            spans.append((i, shown(tokens[i : probe.i])))
    out, upto = [], 0
    for start, words in sorted(spans, key=lambda s: (s[0], -len(s[1]))):
        if start >= upto and words:
            out.append(words)
            upto = start + len(tokenize(words))
    return ", ".join(out) if out else "nothing"


def known(word: str) -> bool:
    """A word the reader has a use for (to find where an unknown phrase ends)."""
    return (
        word in (",", ";", "the", "a", "an", "of", "and", "to", "with")
        or is_color(word)
        or is_small(word)
        or any(word in p.split() or singular(word) in p.split() for p, _ in SHAPE_PHRASES)
        or word in GENERIC | TABLE | FILLERS
        or any(word in v.split() for v in VERBS)
        or word in KNOWN_WORDS
        or number_at([word], 0) is not None
    )
