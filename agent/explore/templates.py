"""Goal templates exploration draws from: the goal language with its objects left open.

A template is a goal with slots (`{a}`, `{b}`... objects; `{kinds_a}` the plural of a's
kind, `{color_a}` a's color, `{n}` a number), the words a person would say for it, the
role each object slot needs (`agent.explore.catalog`), and optionally the state the scene
starts in (`"{a} in {c}"`: an object list entry, `sim.object_list`). Its id is the goal
with the slots as `?a`, `?b`... (`in(?a, ?b)`), prefixed by its tag where two templates
share a goal's shape (`stack: on(?a, ?b)`), suffixed by its start state.

Groups: relations (`left_of`, `between`...), regions of the table, supports (`on`, `in`,
stacking), a turn (`rotated_by`), sets (`all(x in cubes except ...)`, a color's things),
sequences ("..., then ...", judged as the conjunction of both parts) and start states
(an object starting in a bowl or on a block).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Slot:
    """An object slot: its role, and slots whose kind or color it must share."""

    name: str
    role: str
    same_kind: str = ""
    same_color: str = ""


@dataclass(frozen=True)
class GoalTemplate:
    """A goal template (see the module docstring)."""

    group: str
    goal: str
    words: str
    slots: tuple[Slot, ...]
    start: tuple[str, ...] = ()
    numbers: tuple[float, ...] = ()
    tag: str = ""

    @property
    def id(self) -> str:
        text = _FIELD.sub(lambda m: "?" + _slot_word(m.group(1)), self.goal)
        if self.tag:
            text = f"{self.tag}: {text}"
        if self.start:
            start = "; ".join(_FIELD.sub(lambda m: "?" + m.group(1), s) for s in self.start)
            text += f" from {start}"
        return text

    def fill(self, values: dict[str, str]) -> tuple[str, str]:
        """(goal, words) with `values` put in (object slots, kinds_x, color_x, n)."""
        return self.goal.format(**values), self.words.format(**values)

    def entries(self, values: dict[str, str]) -> list[str]:
        """The scene's object list: the start entries, then every other slot's object."""
        start = [s.format(**values) for s in self.start]
        subjects = {_FIELD.search(s).group(1) for s in self.start}
        return start + [values[s.name] for s in self.slots if s.name not in subjects]


def _slot_word(name: str) -> str:
    if name.startswith("kinds_"):
        return "kinds"
    if name.startswith("color_"):
        return "color"
    return name


def _rel(pred: str, words: str) -> GoalTemplate:
    return GoalTemplate(
        "relation",
        f"{pred}({{a}}, {{b}})",
        f"put the {{a}} {words} the {{b}}",
        (Slot("a", "movable"), Slot("b", "reference")),
    )


def _region(pred: str, words: str) -> GoalTemplate:
    return GoalTemplate(
        "region", f"{pred}({{a}})", f"put the {{a}} {words} of the table", (Slot("a", "movable"),)
    )


TEMPLATES: tuple[GoalTemplate, ...] = (
    _rel("left_of", "to the left of"),
    _rel("right_of", "to the right of"),
    _rel("in_front_of", "in front of"),
    _rel("behind", "behind"),
    _rel("next_to", "next to"),
    GoalTemplate(
        "relation",
        "far_from({a}, {b})",
        "move the {a} far from the {b}",
        (Slot("a", "movable"), Slot("b", "reference")),
    ),
    GoalTemplate(
        "relation",
        "between({a}, {b}, {c})",
        "put the {a} between the {b} and the {c}",
        (Slot("a", "movable"), Slot("b", "reference"), Slot("c", "reference")),
    ),
    _region("left_side", "on the left side"),
    _region("right_side", "on the right side"),
    _region("middle", "in the middle"),
    _region("front", "at the front"),
    _region("back", "at the back"),
    GoalTemplate(
        "support",
        "on({a}, {b})",
        "put the {a} on the {b}",
        (Slot("a", "movable"), Slot("b", "flat")),
    ),
    GoalTemplate(
        "support",
        "in({a}, {b})",
        "put the {a} in the {b}",
        (Slot("a", "movable"), Slot("b", "container")),
    ),
    GoalTemplate(
        "support",
        "on({a}, {b})",
        "stack the {a} on the {b}",
        (Slot("a", "movable"), Slot("b", "base")),
        tag="stack",
    ),
    GoalTemplate(
        "turn",
        "rotated_by({a}, {n})",
        "rotate the {a} by {n} degrees",
        (Slot("a", "turnable"),),
        numbers=(30.0, 45.0, 60.0, -30.0, -45.0, -60.0),
    ),
    GoalTemplate(
        "set",
        "all(x in {kinds_a} except {c}: in(x, {b}))",
        "put every {kind_a} except the {c} in the {b}",
        (
            Slot("a", "movable"),
            Slot("a2", "movable", same_kind="a"),
            Slot("c", "movable", same_kind="a"),
            Slot("b", "container"),
        ),
    ),
    GoalTemplate(
        "set",
        "all(x in {color_a} things: in(x, {b}))",
        "put all the {color_a} things in the {b}",
        (Slot("a", "movable"), Slot("a2", "movable", same_color="a"), Slot("b", "container")),
    ),
    GoalTemplate(
        "sequence",
        "in({a}, {b}) and next_to({c}, {b})",
        "put the {a} in the {b}, then put the {c} next to the {b}",
        (Slot("a", "movable"), Slot("b", "container"), Slot("c", "movable")),
    ),
    GoalTemplate(
        "sequence",
        "on({a}, {b}) and right_of({c}, {b})",
        "put the {a} on the {b}, then put the {c} to the right of the {b}",
        (Slot("a", "movable"), Slot("b", "flat"), Slot("c", "movable")),
    ),
    GoalTemplate(
        "start",
        "on({a}, {b})",
        "take the {a} out of the {c} and put it on the {b}",
        (Slot("a", "movable"), Slot("c", "container"), Slot("b", "flat")),
        start=("{a} in {c}",),
    ),
    GoalTemplate(
        "start",
        "next_to({a}, {c})",
        "take the {a} off the {c} and put it next to it",
        (Slot("a", "movable"), Slot("c", "base")),
        start=("{a} on {c}",),
    ),
)


def by_id() -> dict[str, GoalTemplate]:
    """Every template by its id (ids are unique)."""
    return {t.id: t for t in TEMPLATES}
