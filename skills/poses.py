"""Pose providers: where the robot API gets grasp and place poses from.

`OraclePoseProvider` reads privileged simulator state (exact object poses). The learned
policy (agent.policy) implements the same two methods from a camera image and an
instruction, so the robot API and every skill work unchanged with either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sim.objects import SimObject
    from sim.poses import Pose
    from sim.world import World


class PoseProvider(Protocol):
    """Source of end-effector poses (x, y, z, yaw radians) for the key actions."""

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


class OraclePoseProvider:
    """Exact poses from the simulator's state (the scripted oracle's geometry)."""

    name = "oracle"

    def pick_pose(self, world: World, obj: SimObject, turn: float = 0.0, dest=None) -> Pose:
        from sim import poses

        return poses.pick_pose(world, obj, turn, dest)

    def place_pose(self, world: World, held: SimObject, target: SimObject) -> Pose:
        from sim import poses

        xy = world.pose(target)[0][:2]
        yaw = world.panda.ee_pose()[1]
        return poses.place_pose(held, xy, poses.surface_z(world, target), yaw)
