"""Resolve object descriptions people (and LLMs) write against the scene's objects.

"red cube", "the red block", "Red Cube", "a small blue block", "the green dish" all
name one object when exactly one object fits: same color (if one is given) and same
shape (if one is given; "block" means a cube of either size when no plain cube fits).
The words for each kind are those `sim.objects.SHAPES` lists: a kind added there is
named here too.
"""

from __future__ import annotations

import re

COLOR_WORDS = {
    "red": "red",
    "green": "green",
    "blue": "blue",
    "yellow": "yellow",
    "purple": "purple",
    "violet": "purple",
    "orange": "orange",
    "pink": "pink",
    "magenta": "pink",
    "cyan": "cyan",
    "turquoise": "cyan",
    "aqua": "cyan",
    "teal": "cyan",
}


def _phrases() -> list[tuple[str, str]]:
    """(phrase, shape) for every kind's name and words (`sim.objects.SHAPES`), phrases of
    more words first, each kind's in the order it lists them."""
    from sim.objects import SHAPES

    rows = [(p, s.name) for s in SHAPES.values() for p in (s.name, *s.words)]
    return sorted(rows, key=lambda r: -len(r[0].split()))


# Multi-word phrases first; each maps to a canonical shape name.
SHAPE_PHRASES = _phrases()
SMALL_WORDS = {"small", "little", "tiny", "mini", "smaller"}
_NOUNS = sorted({p.split()[-1] for p, _ in SHAPE_PHRASES}, key=lambda w: (-len(w), w))
_PLURAL = re.compile(r"\b(" + "|".join(_NOUNS) + r")(e?s)\b")


def parse(description: str) -> tuple[str | None, str | None]:
    """(color, shape) named by a description, each None when not mentioned."""
    text = " " + re.sub(r"[^a-z ]+", " ", description.lower()) + " "
    text = _PLURAL.sub(r"\1", text)
    color = next((COLOR_WORDS[w] for w in text.split() if w in COLOR_WORDS), None)
    shape = None
    squeezed = re.sub(r"\s+", " ", text)
    for phrase, canon in SHAPE_PHRASES:
        if f" {phrase} " in squeezed:
            shape = canon
            break
    if shape == "cube" and any(w in SMALL_WORDS for w in text.split()):
        shape = "small cube"  # "a small blue block": the size word need not touch the noun
    return color, shape


def match(description: str, scene: list[tuple[str, str]]) -> list[int]:
    """Indices of scene objects (color, shape) that a description names.

    An exact shape wins; a plain "cube"/"block" falls back to small cubes when no
    cube of that color is present.
    """
    color, shape = parse(description)
    if color is None and shape is None:
        return []
    ok = [i for i, (c, s) in enumerate(scene) if color in (None, c) and shape in (None, s)]
    if not ok and shape == "cube":
        ok = [i for i, (c, s) in enumerate(scene) if color in (None, c) and s == "small cube"]
    return ok
