"""`PolicyPoseProvider`: the robot API's poses from the learned policy (perception "policy").

Satisfies `skills.poses.PoseProvider`. It sees what the policy sees (the top camera's
RGB-D image) and the objects' descriptions (public to skill code), never their poses:

- `pick_pose(world, obj, turn, dest)`: instruction "pick up the <obj>"; the grasp yaw's
  representative is chosen with the requested turn, as the oracle does (`dest` unused).
- `place_pose(world, held, target)`: an instruction made from the two descriptions
  ("put the X in the Y" for a bowl, "stack the X on the Y" for a block, "align the X
  with the Y" for an outline, else "place the X on the Y"). It is read from the image
  taken before the pick (as a Transporter action is one observation for both poses):
  while the arm holds the object above the table it hides part of the scene. The
  gripper keeps its yaw (a placement does not turn the object).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from .geometry import grasp_and_place_yaw, observe

if TYPE_CHECKING:
    from sim.objects import SimObject
    from sim.poses import Pose
    from sim.world import World

    from .policy import Policy

BLOCKS = ("cube", "small cube", "cylinder")


def place_instruction(held: str, target_desc: str, target_kind: str) -> str:
    """The instruction that asks the policy where `held` goes on / in the target."""
    if target_kind == "bowl":
        return f"put the {held} in the {target_desc}"
    if target_kind in BLOCKS:
        return f"stack the {held} on the {target_desc}"
    if target_kind == "outline":
        return f"align the {held} with the {target_desc}"
    return f"place the {held} on the {target_desc}"


class PolicyPoseProvider:
    """Grasp and place poses predicted by a `Policy` from the camera image.

    Args:
        policy: the loaded policy.
    """

    name = "policy"

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._before_pick: dict[int, tuple] = {}  # body -> (rgb, depth) seen just before its pick
        self.calls = 0

    @classmethod
    def from_home(
        cls, home: Path, version: int | str | None = None, threads: int = 2
    ) -> PolicyPoseProvider:
        """The provider of a checkpoint in the data home (the latest by default)."""
        from .train import load_policy

        return cls(load_policy(home, version, threads=threads))

    def pick_pose(self, world: World, obj: SimObject, turn: float = 0.0, dest=None) -> Pose:
        # `dest` (where the object will go) is not used: the grasp yaw comes from the image.
        rgb, depth = observe(world, self.policy.spec)
        pred = self.policy.predict(rgb, depth, f"pick up the {obj.description}")
        self._before_pick = {obj.body: (rgb, depth)}
        self.calls += 1
        grasp, _ = grasp_and_place_yaw(pred.pick_key.yaw_mod, float(turn))
        return (*pred.pick[:3], grasp)

    def place_pose(self, world: World, held: SimObject, target: SimObject) -> Pose:
        seen = self._before_pick.get(held.body)
        rgb, depth = seen if seen is not None else observe(world, self.policy.spec)
        text = place_instruction(held.description, target.description, target.shape.name)
        pred = self.policy.predict(rgb, depth, text)
        self.calls += 1
        yaw = world.panda.ee_pose()[1]
        return (*pred.place[:3], float(math.remainder(yaw, 2 * math.pi)))
