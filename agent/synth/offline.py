"""The offline default synthesizer: composes skill code without an LLM.

Labelled as such everywhere (author "synthesizer"). For a parsed instruction (an
`Intent`) it proposes candidate programs built from the building blocks in
`agent/synth/programs/` and from library skills (a verified helper such as "put one block on
another" is inlined into a composite, e.g. a tower), with a few variants of each
(different API verbs, orders, spacings). The agent keeps the first candidate that the
Evaluator verifies in simulation: search over candidate programs checked in sim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template

from agent.plan.parse import Intent

PROGRAMS = Path(__file__).parent / "programs"

# Task kind -> (skill name, parameter names in order).
SIGNATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pick": ("pick_up", ("obj",)),
    "place": ("place_on_target", ("obj", "target")),
    "stack": ("stack_on", ("top", "base")),
    "put-in-bowl": ("put_in_bowl", ("obj", "bowl")),
    "push": ("push_into_zone", ("obj", "zone")),
    "rotate": ("rotate_by", ("obj", "angle")),
    "align": ("align_with_outline", ("obj", "target")),
    "tower": ("build_tower", ("bottom", "middle", "top")),
    "pyramid": ("build_pyramid", ("left", "right", "top")),
    "line-up": ("line_up_left_to_right", ("first", "second", "third")),
    "swap": ("swap_places", ("a", "b")),
    "sort": ("sort_cubes_into_bowls", ()),
    "gather": ("gather_color_on_target", ("color", "target")),
    "clear": ("clear_target", ("target",)),
}


@dataclass(frozen=True)
class Candidate:
    """One proposed skill: its source, entry function and the recipe that produced it."""

    name: str
    code: str
    params: tuple[str, ...]
    recipe: str


def block(program: str, **values: str) -> str:
    """Fill one building block from agent/synth/programs/<name>.py.txt."""
    return Template((PROGRAMS / f"{program}.py.txt").read_text()).substitute(values).strip() + "\n"


def _helper_name(code: str) -> str:
    m = re.search(r"^def (\w+)\(robot", code, re.M)
    return m.group(1) if m else "helper"


def candidates(intent: Intent, helpers: list[str] = ()) -> Iterator[Candidate]:
    """Candidate programs for an intent, most likely first.

    Args:
        intent: the parsed instruction.
        helpers: source of verified library skills that move one object onto another
            (`def name(robot, a, b)`), tried first as parts of composite skills.
    """
    name, params = SIGNATURES[intent.kind]
    kind = intent.kind

    def make(recipe: str, code: str) -> Candidate:
        return Candidate(name, code, params, recipe)

    if kind == "pick":
        yield make("pick", block("pick", name=name))
    elif kind in ("place", "stack", "put-in-bowl"):
        moved, target = params
        order = (
            ["put_in", "place_on", "pick_then_place_on"]
            if kind == "put-in-bowl"
            else ["place_on", "pick_then_place_on"]
        )
        for b in order:
            yield make(b, block(b, name=name, moved=moved, target=target))
    elif kind == "push":
        for b in ("push", "push_then_place"):
            yield make(b, block(b, name=name, moved="obj", target="zone"))
    elif kind == "rotate":
        for b in ("rotate", "rotate_place_at"):
            yield make(b, block(b, name=name))
    elif kind == "align":
        yield make("align", block("align", name=name, moved="obj", target="target"))
    elif kind == "tower":
        parts = [(f"library:{_helper_name(h)}", h.strip()) for h in helpers]
        parts += [
            (f"block:{b}", block(b, name="put_on", moved="thing", target="base"))
            for b in ("place_on", "pick_then_place_on")
        ]
        for recipe, helper in parts:
            yield make(
                f"tower+{recipe}",
                block("tower", name=name, helper=helper, call=_helper_name(helper)),
            )
    elif kind == "pyramid":
        for gap in ("0.008", "0.012", "0.005"):
            yield make(f"pyramid gap={gap}", block("pyramid", name=name, gap=gap))
    elif kind == "line-up":
        for spacing in ("0.09", "0.075", "0.11"):
            yield make(f"line-up dy={spacing}", block("line_up", name=name, spacing=spacing))
    elif kind == "swap":
        yield make("swap", block("swap", name=name))
    elif kind == "sort":
        yield make("sort", block("sort", name=name))
    elif kind == "gather":
        for offsets in (
            "[(0.0, -0.035), (0.0, 0.035), (0.035, 0.0)]",
            "[(-0.03, -0.03), (0.03, 0.03), (-0.03, 0.03)]",
        ):
            yield make(f"gather offsets={offsets}", block("gather", name=name, offsets=offsets))
    elif kind == "clear":
        for margin, clearance in (("0.01", "0.03"), ("0.02", "0.05")):
            yield make(
                f"clear margin={margin}",
                block("clear", name=name, margin=margin, clearance=clearance),
            )
