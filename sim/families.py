"""The task-family table: id -> environment id and task class, imported lazily.

Importing this module imports nothing heavy; `task_class(family)` imports one task module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sim.errors import SimError

if TYPE_CHECKING:
    from sim.tasks.base import Task

# family id -> (gymnasium name, "module:Class")
FAMILIES: dict[str, tuple[str, str]] = {
    "pick": ("Pick", "sim.tasks.pick:Pick"),
    "place": ("Place", "sim.tasks.place:Place"),
    "stack": ("Stack", "sim.tasks.stack:Stack"),
    "tower": ("Tower", "sim.tasks.tower:Tower"),
    "put-in-bowl": ("PutInBowl", "sim.tasks.put_in_bowl:PutInBowl"),
    "push": ("Push", "sim.tasks.push:Push"),
    "sort": ("Sort", "sim.tasks.sort:Sort"),
    "line-up": ("LineUp", "sim.tasks.line_up:LineUp"),
    "swap": ("Swap", "sim.tasks.swap:Swap"),
    "rotate": ("Rotate", "sim.tasks.rotate:Rotate"),
    "align": ("Align", "sim.tasks.align:Align"),
    "pyramid": ("Pyramid", "sim.tasks.pyramid:Pyramid"),
    "gather": ("Gather", "sim.tasks.gather:Gather"),
    "clear": ("Clear", "sim.tasks.clear:Clear"),
}
ENV_IDS = [f"skillgrove/{name}-v0" for name, _ in FAMILIES.values()]


def env_id(family: str) -> str:
    """The gymnasium id of a family, e.g. "skillgrove/PutInBowl-v0"."""
    return f"skillgrove/{FAMILIES[check_family(family)][0]}-v0"


def check_family(family: str) -> str:
    """Return `family` if known, else raise SimError naming the known ones."""
    if family not in FAMILIES:
        raise SimError(f"unknown task family {family!r} (known: {', '.join(FAMILIES)})")
    return family


def task_class(family: str) -> type[Task]:
    """The Task subclass of a family."""
    module, cls = FAMILIES[check_family(family)][1].split(":")
    return getattr(importlib.import_module(module), cls)
