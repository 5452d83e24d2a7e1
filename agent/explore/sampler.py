"""Goals to practise: a template's slots filled from the catalogue, checked on a scene.

`fill(template, catalog, rng)` draws a kind and a color for each object slot (roles,
shared kinds and colors as the template asks; every description unique), a number when
the template has one, and returns a `Proposal`: the goal, the words, the scene's object
list and its seed. `check(proposal, world)` builds the scene exactly as `run` will
(`agent.run.setup.words_setup`: seeded, the goal false at the start) and keeps the
proposal only when the goal checks on it (the same `sim.goals.check` that judges runs)
and the goal planner finds a placement that makes it hold; otherwise the proposal is
dropped with the reason those gave.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agent.errors import AgentError
from agent.explore.catalog import Catalog
from agent.explore.templates import GoalTemplate


@dataclass(frozen=True)
class Proposal:
    """A goal to practise on a scene from words."""

    template: str  # the template's id
    goal: str
    instruction: str
    objects: str  # the scene's object list (`run --objects`)
    seed: int
    distractors: int


@dataclass(frozen=True)
class Dropped:
    """A proposal that cannot be practised, and why."""

    proposal: Proposal
    reason: str


class NoFill(AgentError):
    """The catalogue has no object for one of the template's slots."""


def _plural(kind: str) -> str:
    return kind + ("es" if kind.endswith(("s", "x", "ch", "sh")) else "s")


def fill(
    template: GoalTemplate,
    catalog: Catalog,
    rng: np.random.Generator,
    seed: int,
    distractors: int | None = None,
) -> Proposal:
    """A proposal for `template` with objects drawn from `catalog` (see the module docstring).

    Raises:
        NoFill: a slot no kind and color of the catalogue can take.
    """
    kinds: dict[str, str] = {}
    colors: dict[str, str] = {}
    taken: set[str] = set()
    for slot in template.slots:
        options = []
        for kind in catalog.with_role(slot.role):
            if slot.same_kind and kind != kinds[slot.same_kind]:
                continue
            for color in catalog.colors_of(kind):
                if slot.same_color and color != colors[slot.same_color]:
                    continue
                if f"{color} {kind}" not in taken:
                    options.append((kind, color))
        if not options:
            raise NoFill(
                f"{template.id}: no {slot.role} object left for ?{slot.name} in the catalogue"
            )
        kind, color = options[int(rng.integers(len(options)))]
        kinds[slot.name], colors[slot.name] = kind, color
        taken.add(f"{color} {kind}")
    values = {s: f"{colors[s]} {k}" for s, k in kinds.items()}
    values |= {f"kind_{s}": k for s, k in kinds.items()}
    values |= {f"kinds_{s}": _plural(k) for s, k in kinds.items()}
    values |= {f"color_{s}": c for s, c in colors.items()}
    if template.numbers:
        n = float(template.numbers[int(rng.integers(len(template.numbers)))])
        values["n"] = f"{n:g}"
    goal, words = template.fill(values)
    n_distractors = int(rng.integers(0, 2)) if distractors is None else distractors
    return Proposal(
        template.id, goal, words, ", ".join(template.entries(values)), seed, n_distractors
    )


def check(proposal: Proposal, world) -> Dropped | None:
    """None when the proposal's goal checks on its scene and can be planned; else why not.

    Builds the scene in `world` (a `sim.world.World`) as `run` will, with the same seed.
    """
    from agent.run.setup import words_setup
    from sim.errors import SimError

    try:
        words_setup(world, proposal.objects, proposal.seed, proposal.distractors, proposal.goal)
    except (AgentError, SimError) as exc:
        return Dropped(proposal, " ".join(str(exc).split())[:300])
    return None
