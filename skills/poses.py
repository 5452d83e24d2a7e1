"""Pose providers: where the robot API gets grasp and place poses from.

`OraclePoseProvider` reads privileged simulator state (exact object poses). The learned
policy (agent.policy) implements the same methods from a camera image and an
instruction, so the robot API and every skill work unchanged with either.

Beside a grasp (`pick_pose`) and a placement on an object (`place_pose`), one general
method serves any other step a pose is needed for: `step_pose(world, obj, phrase,
planned, key)`, where `phrase` says the step in words (`skills.phrases`: "put the red
cube left of the blue bowl", "rotate the red cube 45 degrees", "push the red cube into
the blue zone") and `planned` is the pose the goal planner or the simulator gives for
it. The oracle returns `planned` unchanged; a learned policy answers from its image.

Sandbox workers build their provider from a `ProviderSpec` (a "module:function" name and
JSON keyword arguments) before the lockdown: `skills` never imports the packages that
provide learned poses, and the worker can open no file once the skill runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sim.objects import SimObject
    from sim.poses import Pose
    from sim.world import World


class PoseProvider(Protocol):
    """Source of end-effector poses (x, y, z, yaw radians) for the key actions.

    A provider may also have `prepare(world)`: a sandbox calls it once the scene is built
    and before the lockdown (after which no file can be opened), to compute whatever the
    poses on that scene will need. A `calls` counter, where present, is reported back.
    """

    name: str

    def pick_pose(self, world: World, obj: SimObject, turn: float = 0.0, dest=None) -> Pose:
        """Where to close the fingers to pick `obj`, ready to turn it by `turn` radians.

        `dest`, when known, is the (x, y) where the object will be put down: a provider may
        use it to choose a grasp whose fingers have room there (it may also ignore it).
        """
        ...

    def place_pose(self, world: World, held: SimObject, target: SimObject) -> Pose:
        """Where the grasp point goes so that `held` rests on (or in) `target`."""
        ...

    def step_pose(
        self, world: World, obj: SimObject, phrase: str, planned: Pose, key: str = "place"
    ) -> Pose:
        """The pose of the step `phrase` describes for `obj`.

        Args:
            phrase: the step in words (`skills.phrases.step_phrase`).
            planned: what the planner or the simulator gives for it: (x, y, z, yaw) of
                the grasp point where the object is put down (key "place"), or where the
                object stands now (key "pick": where a push finds it).
            key: "place" (where the step puts `obj`) or "pick" (where it takes it from).
        """
        ...


class OraclePoseProvider:
    """Exact poses from the simulator's state (the scripted oracle's geometry)."""

    name = "oracle"

    def __init__(self) -> None:
        self.calls = 0

    def pick_pose(self, world: World, obj: SimObject, turn: float = 0.0, dest=None) -> Pose:
        from sim import poses

        self.calls += 1
        return poses.pick_pose(world, obj, turn, dest)

    def place_pose(self, world: World, held: SimObject, target: SimObject) -> Pose:
        self.calls += 1
        return resting_pose(world, held, target)

    def step_pose(
        self, world: World, obj: SimObject, phrase: str, planned: Pose, key: str = "place"
    ) -> Pose:
        """`planned`, unchanged: the oracle's poses are the planner's and the simulator's."""
        self.calls += 1
        return tuple(planned)


def resting_pose(world: World, held: SimObject, target: SimObject) -> Pose:
    """The grasp point's pose that rests `held` centered on (or in) `target`, the
    gripper keeping its yaw (the simulator's geometry)."""
    from sim import poses

    xy = world.pose(target)[0][:2]
    yaw = world.panda.ee_pose()[1]
    return poses.place_pose(held, xy, poses.surface_z(world, target), yaw)


@dataclass(frozen=True)
class ProviderSpec:
    """How a sandbox worker builds its pose provider: `factory(**kwargs)`.

    Attributes:
        factory: "package.module:function" returning a `PoseProvider`.
        kwargs: JSON-serializable keyword arguments for it.
    """

    factory: str
    kwargs: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"factory": self.factory, "kwargs": dict(self.kwargs)}


def build_provider(spec: ProviderSpec | None) -> PoseProvider:
    """The provider a spec names (the oracle for None)."""
    if spec is None:
        return OraclePoseProvider()
    module, _, attr = spec.factory.partition(":")
    return getattr(importlib.import_module(module), attr)(**spec.kwargs)
