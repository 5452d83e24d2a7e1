"""Seed skills installed into every new library: one per core robot-API verb, plus two
small composites (stack, align_with).

Each file here is one skill, `<name>.py` defining `def <name>(robot, ...)`, whose
docstring gives the description (first paragraph) and example instructions (the lines
under `Examples:`). None of them solves a multi-step task family (tower, pyramid,
line-up, sort, gather, clear, swap): the agent learns those.
"""

from __future__ import annotations

from importlib import resources


def seed_sources() -> list[tuple[str, str]]:
    """(name, source code) of every seed skill, by name."""
    files = resources.files(__package__)
    out = []
    for f in sorted(files.iterdir(), key=lambda p: p.name):
        if f.name.endswith(".py") and not f.name.startswith("_"):
            out.append((f.name[:-3], f.read_text(encoding="utf-8")))
    return out
