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

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .env import MAX_OBJECTS, POSE_HIGH, POSE_LOW, execute, to_action
from .errors import SimError
from .geometry import wrap_angle
from .goals import Goal, Verdict, check, evaluate, read_world, start_poses
from .goals.formula import Quant, atoms, parse
from .scenes import Layout, ObjectSpec, build_scene, parse_objects
from .tasks.base import PRIMITIVES, Action

MAX_ACTIONS = 8


class GoalEnv(gym.Env):
    """A goal formula on a scene from words, as a gymnasium environment.

    Args:
        goal: the goal (text, JSON text or dict, or a formula).
        objects: the object list (text "red cube, green cube on yellow plate", a JSON list
            of entries, a list, or `ObjectSpec`s); None: the objects the goal names.
        distractors: how many more objects of other descriptions each scene gets.
        instruction: the words the goal came from (default: the goal's text).
        max_actions: primitives per episode before truncation.
        tries: scenes drawn per reset before giving up (see `build_scene`).
        obs_mode, image_size, render_mode, gui: as `sim.env.TabletopEnv`.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

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
        from .world import World

        if obs_mode not in ("rgbd", "state"):
            raise SimError(f"unknown obs_mode {obs_mode!r}")
        self.formula = parse(goal)
        self.specs = _specs(objects, self.formula)
        if len(self.specs) + distractors > MAX_OBJECTS:
            raise SimError(
                f"Goal-v0 observes at most {MAX_OBJECTS} objects: {len(self.specs)} listed"
                f" (with the ones they refer to) + {distractors} distractors"
            )
        self.distractors = int(distractors)
        self.instruction = instruction or str(self.formula)
        self.max_actions = int(max_actions)
        self.tries = int(tries)
        self.obs_mode = obs_mode
        self.render_mode = render_mode
        self.world = World(gui=gui, image_size=image_size)
        w, h = image_size
        obs: dict[str, spaces.Space] = {
            "proprio": spaces.Box(-np.inf, np.inf, (13,), np.float32),
            "objects": spaces.Box(-np.inf, np.inf, (MAX_OBJECTS, 8), np.float32),
        }
        if obs_mode == "rgbd":
            obs["rgb"] = spaces.Box(0, 255, (h, w, 3), np.uint8)
            obs["depth"] = spaces.Box(0.0, np.inf, (h, w), np.float32)
        self.observation_space = spaces.Dict(obs)
        self.action_space = spaces.Dict(
            {
                "primitive": spaces.Discrete(len(PRIMITIVES)),
                "pose0": spaces.Box(POSE_LOW, POSE_HIGH, dtype=np.float32),
                "pose1": spaces.Box(POSE_LOW, POSE_HIGH, dtype=np.float32),
            }
        )
        self.goal: Goal | None = None
        self.layout: Layout | None = None
        self.start: dict[int, tuple] = {}
        self.verdict: Verdict | None = None
        self._actions = 0

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

    def step(self, action):
        if self.goal is None:
            raise SimError("call reset() before step()")
        act = to_action(action)
        error = None
        try:
            execute(self.world, act)
        except SimError as exc:  # e.g. a pose out of reach: the step fails, the episode goes on
            error = str(exc)
        self.world.settle(max_steps=120)
        self._actions += 1
        success = self._judge()
        truncated = not success and self._actions >= self.max_actions
        info = self._info()
        if error:
            info["error"] = error
        return self._obs(), float(success), success, truncated, info

    def state(self):
        """The goal language's view of the scene now (start poses included)."""
        return read_world(self.world, self.start)

    def render(self):
        if self.render_mode == "rgb_array":
            return self.world.render("front")[0]
        return None

    def close(self) -> None:
        self.world.close()

    def _judge(self) -> bool:
        self.verdict = evaluate(self.goal, self.state())
        return self.verdict.value

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

    def _obs(self) -> dict[str, np.ndarray]:
        objs = np.zeros((MAX_OBJECTS, 8), dtype=np.float32)
        for i, o in enumerate(self.world.objects[:MAX_OBJECTS]):
            pos, orn = self.world.pose(o)
            objs[i] = [1.0, *pos, *orn]
        obs = {"proprio": self.world.panda.proprio(), "objects": objs}
        if self.obs_mode == "rgbd":
            obs["rgb"], obs["depth"] = self.world.render("front")
        return obs


def _specs(objects, formula) -> list[ObjectSpec]:
    if objects is None:  # the objects the goal names
        named = [x for a in atoms(formula) for x in a.args if isinstance(x, str)]
        names = set(_variables(formula))
        objects = list(dict.fromkeys(x for x in named if x not in names))
        if not objects:
            raise SimError("no objects given and the goal names none: pass objects=")
    if isinstance(objects, list | tuple) and objects and all(isinstance(o, ObjectSpec) for o in objects):  # fmt: skip
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
    from . import poses

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
