"""`TabletopEnv`: a gymnasium environment = World + Panda + one task family.

Observation (a Dict):
    rgb: (H, W, 3) uint8 image from the front camera ("rgbd" mode only).
    depth: (H, W) float32 metric depth from the same camera ("rgbd" mode only).
    proprio: (13,) float32: 7 arm joints, finger width, grasp point xyz, gripper yaw, holding flag.
    objects: (MAX_OBJECTS, 8) float32, PRIVILEGED simulator state, one row per object in
        scene order: present flag, position xyz (base, on the object's bottom), quaternion xyzw.
        Learned components must not read it; the oracle and the success check may.

Action (a Dict), one primitive per step (Ravens/Transporter style):
    primitive: Discrete(4): 0 pick_place, 1 push, 2 pick, 3 place (see `sim.primitives`).
    pose0: (x, y, z, yaw) of the grasp point: pick pose, or where a push starts.
    pose1: (x, y, z, yaw): place pose, or where a push ends; ignored by "pick".

Reward is 1.0 on the step that reaches success (the family's goal holds, judged by
`sim.goals`), else 0.0; the episode terminates on success and is truncated after the
family's `max_actions` primitives. `info` carries the
instruction, the params, `success`, and `error` when a pose was out of reach.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sim.errors import SimError
from sim.families import task_class
from sim.tasks.base import PRIMITIVES, Action

MAX_OBJECTS = 12
POSE_LOW = np.array([0.2, -0.45, 0.0, -np.pi], dtype=np.float32)
POSE_HIGH = np.array([0.8, 0.45, 0.35, np.pi], dtype=np.float32)


class PrimitiveEnv(gym.Env):
    """What every tabletop environment shares: a World of its own, the observation and
    action spaces above, one primitive per step, rendering. Subclasses build the scene
    (`reset`) and judge it (`_success`, `_info`, `max_actions`).

    Args:
        obs_mode: "rgbd" (images + state) or "state" (no rendering, much faster).
        image_size: (width, height) of the camera images.
        render_mode: gymnasium's convention: None (headless), "human" (PyBullet's GUI
            window shows the episode as it runs, at real time; needs a display, see
            `sim.display`) or "rgb_array" (`render()` returns the front camera's
            (H, W, 3) uint8 image).
        gui: deprecated alias of `render_mode="human"`.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 10}
    max_actions = 8

    def __init__(
        self,
        obs_mode: str = "rgbd",
        image_size: tuple[int, int] = (128, 128),
        render_mode: str | None = None,
        gui: bool = False,
    ) -> None:
        from sim.world import World

        if obs_mode not in ("rgbd", "state"):
            raise SimError(f"unknown obs_mode {obs_mode!r}")
        if gui and render_mode is None:
            render_mode = "human"
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise SimError(
                f"unknown render_mode {render_mode!r}: {', '.join(self.metadata['render_modes'])}"
            )
        self.obs_mode = obs_mode
        self.render_mode = render_mode
        self.world = World(gui=render_mode == "human", image_size=image_size)
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
        self._actions = 0

    def step(self, action):
        act = to_action(action)
        error = None
        try:
            execute(self.world, act)
        except SimError as exc:  # e.g. a pose out of reach: the step fails, the episode goes on
            error = str(exc)
        self.world.settle(max_steps=120)
        self._actions += 1
        success = self._success()
        truncated = not success and self._actions >= self.max_actions
        info = self._info()
        if error:
            info["error"] = error
        return self._obs(), float(success), success, truncated, info

    def render(self):
        """The front camera's image in "rgb_array" mode; None otherwise (in "human" mode
        PyBullet's window draws every physics step itself)."""
        if self.render_mode == "rgb_array":
            return self.world.render("front")[0]
        return None

    def close(self) -> None:
        self.world.close()

    def _success(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _info(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _obs(self) -> dict[str, np.ndarray]:
        objs = np.zeros((MAX_OBJECTS, 8), dtype=np.float32)
        for i, o in enumerate(self.world.objects[:MAX_OBJECTS]):
            pos, orn = self.world.pose(o)
            objs[i] = [1.0, *pos, *orn]
        obs = {"proprio": self.world.panda.proprio(), "objects": objs}
        if self.obs_mode == "rgbd":
            obs["rgb"], obs["depth"] = self.world.render("front")
        return obs


class TabletopEnv(PrimitiveEnv):
    """One task family as a gymnasium environment.

    Args:
        family: task family id ("stack", "put-in-bowl", ...).
        obs_mode, image_size, render_mode, gui: see `PrimitiveEnv`.
    """

    def __init__(
        self,
        family: str,
        obs_mode: str = "rgbd",
        image_size: tuple[int, int] = (128, 128),
        render_mode: str | None = None,
        gui: bool = False,
    ) -> None:
        self.family = family
        self.task_cls = task_class(family)
        super().__init__(obs_mode, image_size, render_mode, gui)
        self.task = self.task_cls(self.world)
        self.max_actions = self.task_cls.max_actions

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.world.clear()
        self.task.reset(self.np_random)
        self.world.settle()
        self.task.begin()
        self._actions = 0
        return self._obs(), self._info()

    def _success(self) -> bool:
        return self.task.is_success()

    def _info(self) -> dict[str, Any]:
        return {
            "instruction": self.task.instruction,
            "params": dict(self.task.params),
            "success": self.task.is_success(),
        }


def to_action(action) -> Action:
    """Accept an `Action` or the gym Dict form and return an `Action`."""
    if isinstance(action, Action):
        return action
    prim = PRIMITIVES[int(action["primitive"])]
    pose1 = action.get("pose1")
    as_t = lambda v: tuple(float(x) for x in np.asarray(v, dtype=float).reshape(4))  # noqa: E731
    return Action(prim, as_t(action["pose0"]), as_t(pose1) if pose1 is not None else None)


def execute(world, action: Action) -> None:
    """Carry out one primitive action in `world`."""
    from sim import primitives as P

    if action.primitive == "pick_place":
        P.pick_place(world, action.pose0, action.pose1)
    elif action.primitive == "pick":
        P.pick(world, action.pose0)
    elif action.primitive == "place":
        P.place(world, action.pose1 if action.pose1 is not None else action.pose0)
    elif action.primitive == "push":
        P.push(world, action.pose0, action.pose1)
    else:
        raise SimError(f"unknown primitive {action.primitive!r}")
