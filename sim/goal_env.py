"""`skillgrove/Goal-v0`: any goal on any objects, as a gymnasium environment.

    env = gym.make("skillgrove/Goal-v0", goal="left_of(red cube, blue bowl)",
                   objects="red cube, blue bowl, green cube on yellow plate", obs_mode="state")
    obs, info = env.reset(seed=3)

`reset(seed)` builds a seeded scene from the object list (`sim.scenes.build_scene`, with
`distractors` more objects) in which the goal is false, records every object's start pose
and checks the goal against the scene (`sim.goals.check`: unknown objects, contradictions
and the like are refused with a SimError). Observation and action spaces are those of
`sim.env.TabletopEnv` (one primitive per step). After each step the goal is evaluated on
the simulator's own state (`read_world(world, start)`): reward 1.0 and termination when it
holds; truncation after `max_actions` steps. `info` carries "goal" (its text), "success",
"atoms" (one {"atom", "value", "margin"} per ground atom), "instruction" and, when a pose
was out of reach, "error".
"""

from __future__ import annotations

import json
from typing import Any

from sim.env import MAX_OBJECTS, PrimitiveEnv
from sim.errors import SimError
from sim.geometry import wrap_angle
from sim.goals import Goal, Verdict, check, evaluate, read_world, start_poses
from sim.goals.formula import Quant, atoms, parse
from sim.scenes import Layout, ObjectSpec, build_scene, parse_objects
from sim.tasks.base import Action

MAX_ACTIONS = 8


class GoalEnv(PrimitiveEnv):
    """A goal formula on a scene from words, as a gymnasium environment.

    Args:
        goal: the goal (text, JSON text or dict, or a formula).
        objects: the object list (text "red cube, green cube on yellow plate", a JSON list
            of entries, a list, or `ObjectSpec`s); None: the objects the goal names.
        distractors: how many more objects of other descriptions each scene gets.
        instruction: the words the goal came from (default: the goal's text).
        max_actions: primitives per episode before truncation.
        tries: scenes drawn per reset before giving up (see `build_scene`).
        obs_mode, image_size, render_mode, gui: see `sim.env.PrimitiveEnv` ("human" shows
            PyBullet's GUI, "rgb_array" renders the front camera; `gui` is deprecated).
    """

    def __init__(
        self,
        goal,
        objects=None,
        distractors: int = 0,
        instruction: str | None = None,
        max_actions: int = MAX_ACTIONS,
        tries: int = 50,
        obs_mode: str = "rgbd",
        image_size: tuple[int, int] = (128, 128),
        render_mode: str | None = None,
        gui: bool = False,
    ) -> None:
        self.formula = parse(goal)
        self.specs = _specs(objects, self.formula)
        if len(self.specs) + distractors > MAX_OBJECTS:
            raise SimError(
                f"Goal-v0 observes at most {MAX_OBJECTS} objects: {len(self.specs)} listed"
                f" (with the ones they refer to) + {distractors} distractors"
            )
        self.distractors = int(distractors)
        self.instruction = instruction or str(self.formula)
        self.tries = int(tries)
        super().__init__(obs_mode, image_size, render_mode, gui)
        self.max_actions = int(max_actions)
        self.goal: Goal | None = None
        self.layout: Layout | None = None
        self.start: dict[int, tuple] = {}
        self.verdict: Verdict | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.layout = build_scene(
            self.world, self.specs, self.np_random, self.distractors, self.formula, self.tries
        )
        self.start = start_poses(self.world)
        self.goal = check(self.formula, read_world(self.world, self.start))
        self._actions = 0
        self._judge()
        return self._obs(), self._info()

    def state(self):
        """The goal language's view of the scene now (start poses included)."""
        return read_world(self.world, self.start)

    def step(self, action):
        if self.goal is None:
            raise SimError("call reset() before step()")
        return super().step(action)

    def _judge(self) -> bool:
        self.verdict = evaluate(self.goal, self.state())
        return self.verdict.value

    _success = _judge

    def _info(self) -> dict[str, Any]:
        v = self.verdict
        return {
            "instruction": self.instruction,
            "goal": self.goal.text,
            "success": v.value,
            "atoms": [
                {"atom": a.atom, "value": a.value, "margin": round(a.margin, 4)} for a in v.atoms
            ],
        }


def _specs(objects, formula) -> list[ObjectSpec]:
    if objects is None:  # the objects the goal names
        named = [x for a in atoms(formula) for x in a.args if isinstance(x, str)]
        names = set(_variables(formula))
        objects = list(dict.fromkeys(x for x in named if x not in names))
        if not objects:
            raise SimError("no objects given and the goal names none: pass objects=")
    if (
        isinstance(objects, list | tuple)
        and objects
        and all(isinstance(o, ObjectSpec) for o in objects)
    ):
        return list(objects)
    if isinstance(objects, str) and objects.lstrip().startswith("["):
        try:
            objects = json.loads(objects)
        except json.JSONDecodeError as exc:
            raise SimError(f"objects is not valid JSON: {exc.msg}") from None
    return parse_objects(objects)


def _variables(f) -> list[str]:
    if isinstance(f, Quant):
        return [f.var, *_variables(f.body)]
    parts = getattr(f, "parts", None) or ([f.part] if hasattr(f, "part") else [])
    return [v for p in parts for v in _variables(p)]


def move_action(world, description: str, pose) -> Action:
    """The pick_place `Action` that moves the object `description` to rest at `pose`
    (x, y, z_bottom, yaw radians), e.g. a pose from `sim.goals.solve.sample_layout`."""
    from sim import poses

    obj = next((o for o in world.objects if o.description == description), None)
    if obj is None:
        raise SimError(f"no {description!r} in the scene")
    sym = obj.shape.symmetry
    now = poses.yaw_from_quat(world.pose(obj)[1])
    turn = 0.0
    if sym:  # the least turn that gives the wanted yaw, modulo the object's symmetry
        turn = (pose[3] - now + sym / 2) % sym - sym / 2
    xy = (float(pose[0]), float(pose[1]))
    pick = poses.pick_pose(world, obj, turn, dest=xy)
    place = poses.place_pose(obj, xy, float(pose[2]), wrap_angle(pick[3] + turn))
    return Action("pick_place", pick, place)


__all__ = ["MAX_ACTIONS", "GoalEnv", "move_action"]
