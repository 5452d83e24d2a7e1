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
- `step_pose(world, obj, phrase, planned, key)`: any other step, asked by its phrase
  (`skills.phrases`: "put the red cube left of the blue bowl", "rotate the red cube 45
  degrees", "push the red cube into the blue zone"); the planner's pose (`planned`) is
  not used: the position is the policy's place key point (read from the view before the
  pick), the yaw the gripper's turned by the predicted turn. With key "pick" (where a
  push finds the object) it is the first key point on a fresh view. For a push phrase
  the place key point is where the fingers end (as in the push family's
  demonstrations); the object's goal is that point carried on by the object's half
  width and a finger (`sim.tasks.push`'s geometry).

Every view is taken with the arm out of it (`look`): after a placement the arm waits
above the table, where the top camera sees it, and every demonstration was seen with the
arm at home; an arm holding nothing goes home before the picture (a multi-step goal's
second grasp failed 16 times in 18 before, from a view with the arm in it).

Every phrase it was asked is kept, in order, in `asked` (what a run's steps were).

In the sandbox (`run --perception policy`) each worker builds the provider with
`sandbox_provider` before its lockdown, from the `ProviderSpec` that `policy_spec` makes
in the parent (which checks the checkpoint first, so that a missing or corrupt one is a
one-line error before any worker starts). After the lockdown no file can be opened, so
`prepare(world)` embeds, while it still may, every instruction the provider can ask
about the scene's objects.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from agent.errors import AgentError
from agent.policy.geometry import grasp_and_place_yaw, observe
from skills.phrases import step_phrase

if TYPE_CHECKING:
    from agent.policy.policy import Policy
    from sim.objects import SimObject
    from sim.poses import Pose
    from sim.world import World
    from skills.poses import ProviderSpec


def look(world: World, spec):
    """The policy's view of the scene, with the arm out of it: an arm left above the table
    by the last placement (holding nothing) first goes home (`Panda.clear_view`), as the
    demonstrations were all seen from; the policy never learned to see past the arm."""
    arm = world.panda
    if arm.held is None and not arm.at_home():
        arm.clear_view()
    return observe(world, spec)


def place_instruction(held: str, target_desc: str, target_kind: str) -> str:
    """The instruction that asks the policy where `held` goes on / in the target: the
    step phrase of that placement (`skills.phrases`), "align ... with" for an outline."""
    if target_kind == "outline":
        return f"align the {held} with the {target_desc}"
    return step_phrase("put_in" if target_kind == "bowl" else "place_on", held, target=target_desc)


class PolicyPoseProvider:
    """Grasp and place poses predicted by a `Policy` from the camera image.

    Args:
        policy: the loaded policy.
    """

    name = "policy"

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._before_pick: dict[int, tuple] = {}  # body -> (rgb, depth) seen just before its pick
        self._warm = False
        self.calls = 0
        self.asked: list[str] = []

    @classmethod
    def from_home(
        cls, home: Path, version: int | str | None = None, threads: int = 2
    ) -> PolicyPoseProvider:
        """The provider of a checkpoint in the data home (the latest by default), with
        the embedder its manifest names."""
        from agent.policy.checkpoint import resolve
        from agent.policy.train import load_policy

        embedder = embedder_for(resolve(home, version).manifest.get("encoder", ""))
        return cls(load_policy(home, version, embedder, threads=threads))

    def prepare(self, world: World) -> None:
        """Embed every instruction this provider may ask about the scene's objects (the
        sandbox calls this before its lockdown); the first call also predicts once, so
        that what torch does lazily is done before any lockdown."""
        objs = world.objects
        texts = [f"pick up the {o.description}" for o in objs if o.shape.graspable]
        texts += [
            place_instruction(h.description, t.description, t.shape.name)
            for h in objs
            if h.shape.graspable
            for t in objs
            if t is not h
        ]
        if texts:
            self.policy.encoder(texts)
        if not self._warm and texts:
            rgb, depth = observe(world, self.policy.spec)
            self.policy.predict(rgb, depth, texts[0])
            self._warm = True

    def pick_pose(self, world: World, obj: SimObject, turn: float = 0.0, dest=None) -> Pose:
        # `dest` (where the object will go) is not used: the grasp yaw comes from the image.
        rgb, depth = look(world, self.policy.spec)
        text = f"pick up the {obj.description}"
        pred = self.policy.predict(rgb, depth, text)
        self._before_pick = {obj.body: (rgb, depth)}
        self.calls += 1
        self.asked.append(text)
        grasp, _ = grasp_and_place_yaw(pred.pick_key.yaw_mod, float(turn))
        return (*pred.pick[:3], grasp)

    def place_pose(self, world: World, held: SimObject, target: SimObject) -> Pose:
        seen = self._before_pick.get(held.body)
        rgb, depth = seen if seen is not None else look(world, self.policy.spec)
        text = place_instruction(held.description, target.description, target.shape.name)
        pred = self.policy.predict(rgb, depth, text)
        self.calls += 1
        self.asked.append(text)
        yaw = world.panda.ee_pose()[1]
        return (*pred.place[:3], float(math.remainder(yaw, 2 * math.pi)))

    def step_pose(
        self, world: World, obj: SimObject, phrase: str, planned: Pose, key: str = "place"
    ) -> Pose:
        seen = self._before_pick.get(obj.body) if key == "place" else None
        rgb, depth = seen if seen is not None else look(world, self.policy.spec)
        pred = self.policy.predict(rgb, depth, phrase)
        self.calls += 1
        self.asked.append(phrase)
        if key == "pick":
            return (*pred.pick[:3], float(planned[3]))
        if phrase.startswith("push "):
            return (*push_goal(pred.pick[:2], pred.place[:2], obj), *pred.place[2:])
        yaw = world.panda.ee_pose()[1] + pred.turn
        return (*pred.place[:3], float(math.remainder(yaw, 2 * math.pi)))


def push_goal(at, end, obj) -> tuple[float, float]:
    """Where a push that ends its fingers at `end`, coming from `at`, leaves the object's
    center (the push oracle's geometry, inverted)."""
    from sim.tasks.push import FINGER

    at, end = np.asarray(at, float), np.asarray(end, float)
    gap = end - at
    dist = float(np.hypot(*gap))
    u = gap / dist if dist > 1e-6 else np.zeros(2)
    goal = end + u * (obj.shape.footprint[0] + FINGER)
    return float(goal[0]), float(goal[1])


def embedder_for(encoder: str):
    """The embedder behind an encoder name of a checkpoint's manifest ("hash32-x3": a
    `HashEmbedder(32)`); None for the default (MiniLM)."""
    from skills.embed import HashEmbedder

    m = re.fullmatch(r"hash(\d+)-x\d+", encoder)
    return HashEmbedder(int(m.group(1))) if m else None


def policy_spec(home: Path, version: int | str | None = None) -> ProviderSpec:
    """The sandbox workers' recipe for policy poses from checkpoint `version` (latest by
    default), pinned to that version's number.

    Raises:
        AgentError: no such checkpoint, its weights file is missing, or it is corrupt
            (SHA-256 mismatch; the worker checks it again when it loads it).
    """
    from agent.policy.checkpoint import resolve, sha256_file
    from skills.poses import ProviderSpec

    info = resolve(home, version)
    if not info.path.is_file():
        raise AgentError(f"checkpoint {info.name} is missing its weights file {info.path}")
    if sha256_file(info.path) != info.sha256:
        raise AgentError(
            f"checkpoint {info.name} is corrupt (its SHA-256 does not match the manifest); "
            "refusing to load it"
        )
    kwargs = {"home": str(Path(home).resolve()), "version": info.version}
    return ProviderSpec("agent.policy.provider:sandbox_provider", kwargs)


def sandbox_provider(home: str, version: int) -> PolicyPoseProvider:
    """The provider a sandbox worker builds before its lockdown (see `policy_spec`).

    The checkpoint is loaded and hash-checked here; torch runs on one thread (the
    lockdown binds only the thread applying it, and forbids starting others); the
    instruction embeddings cached in the data home are read, the model behind them is
    loaded now, and nothing is ever written back (the parent is the only writer).
    """
    import torch

    torch.set_num_threads(1)
    provider = PolicyPoseProvider.from_home(Path(home), version, threads=1)
    encoder = provider.policy.encoder
    encoder.cache_path = None
    encoder.embedder.embed(["pick up the red cube"])  # loads the embedding model now
    return provider
