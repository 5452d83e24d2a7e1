"""Scenes as the agent may see them: the instruction text and the objects on the table.

Builds task scenes in this (trusted) process with a World of its own, and hands out only
what a planner may know: object descriptions (never a family's template or params).
The Evaluator's binder reads evaluation scenes the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from agent.errors import AgentError
from agent.plan.parse import detect_kind, mentions, normalize

MAX_SEED_SEARCH = 3000


@dataclass(frozen=True)
class Scene:
    """What is on the table for (family, seed)."""

    family: str
    seed: int
    objects: tuple[str, ...]
    instruction: str  # the family's own instruction: for evaluation scenes and curricula only
    params: tuple[
        tuple[str, str], ...
    ] = ()  # the family's params: for curricula (the teacher) only
    goal: str = ""  # the family's goal for this scene (text form): what judges a run on it
    start: tuple[dict, ...] = ()  # every object's pose at the start (sim.goals.State JSON)


class Scenes:
    """Build scenes on demand (one World, created lazily) and cache what they show."""

    def __init__(self) -> None:
        self._world = None

    @property
    def world(self):
        """This process's own World (created on first use), for building scenes."""
        if self._world is None:
            from sim.world import World

            self._world = World()
        return self._world

    def close(self) -> None:
        if self._world is not None:
            self._world.close()
            self._world = None

    def scene(self, family: str, seed: int) -> Scene:
        return self._scene(family, seed)

    @lru_cache(maxsize=8192)  # noqa: B019 - one Scenes per agent; scenes are immutable
    def _scene(self, family: str, seed: int) -> Scene:
        from sim.runner import reset_task

        task = reset_task(self.world, family, seed)
        objects = tuple(o.description for o in self.world.objects)
        return Scene(
            family,
            seed,
            objects,
            task.instruction,
            tuple(task.params.items()),
            task.goal_text(),
            tuple(task.state().to_json()),
        )

    def infer(self, instruction: str, seed: int) -> tuple[str, int]:
        """Family and the first seed >= `seed` whose scene is the task the text describes.

        Used when no --task is given: the family is inferred from the words, and the world
        sets up a scene of that family whose task is the one asked for (same objects in
        the same roles), so that the family's success check judges what was asked.
        """
        from agent.plan.parse import parse
        from sim.errors import SimError

        text = normalize(instruction)
        kind = detect_kind(text, mentions(text))
        for s in range(seed, seed + MAX_SEED_SEARCH):
            try:
                scene = self.scene(kind, s)
            except SimError:  # no scene for this seed (e.g. no room for an object): skip it
                continue
            try:
                intent = parse(instruction, list(scene.objects))
            except AgentError:
                continue
            if intent.kind == kind and intent.args == dict(scene.params):
                return kind, s
        raise AgentError(
            f"no {kind} scene (seeds {seed}..{seed + MAX_SEED_SEARCH - 1}) sets up {instruction.strip()!r}: "
            "give --task and --seed, or name other objects"
        )
