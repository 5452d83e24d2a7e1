"""Demonstrations from goal templates: (image, step phrase, poses) rows for any relation.

Each row is one sampled goal of one atom, `relation(<color> <shape>, reference)` (the
families' own placements are some of them: `on` a plate or pad, stacked on a block, `in`
a bowl), on a scene built from words for it (`sim.scenes.build_scene`, 0-2 distractors,
the goal false at the start). The goal planner (`sim.goals.plan`) gives the move; a scene
whose plan is not one move (a blocker, a parking) is drawn again. The row is the top
camera's view before the move, the move's phrase (`skills.phrases`, exactly what the
robot API asks the pose provider) and the poses the oracle provider would use: the grasp
(`sim.poses.pick_pose`, prepared for the move's turn) and where the grasp point goes.

Held out of training (`unseen`): two relations entirely (`HELD_OUT_RELATIONS`) and a
fixed quarter of the (color, shape, relation) combinations of the others (`held_out`,
by a hash: never drawn for training). Test goals alternate seen and unseen ones, so
both are reported. Seeds follow `data.split_seeds` (training even, test odd) from index
0; indices from `splits.HALF` on are left to the validation and correction ranges.
Datasets are cached as .npz files beside the family ones.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.data import Samples, split_seeds
from agent.policy.geometry import ImageSpec, observe

GOAL_DATA_VERSION = 1
COLORS = ("red", "green", "blue", "yellow", "purple", "orange", "pink", "cyan")
SHAPES = ("cube", "small cube", "cylinder")
# relation -> (predicate, the reference's possible shapes (None: no reference), numbers)
RELATIONS: dict[str, tuple[str, tuple[str, ...] | None, tuple[float, ...]]] = {
    "on": ("on", ("plate", "pad"), ()),
    "stack": ("on", ("cube",), ()),
    "in": ("in", ("bowl",), ()),
    "left_of": ("left_of", ("cube", "bowl", "plate", "cylinder"), ()),
    "right_of": ("right_of", ("cube", "bowl", "plate", "cylinder"), ()),
    "in_front_of": ("in_front_of", ("cube", "bowl", "plate", "cylinder"), ()),
    "behind": ("behind", ("cube", "bowl", "plate", "cylinder"), ()),
    "next_to": ("next_to", ("cube", "bowl", "plate", "cylinder"), ()),
    "far_from": ("far_from", ("cube", "bowl", "plate"), (0.2,)),
    "left_side": ("left_side", None, ()),
    "right_side": ("right_side", None, ()),
    "front": ("front", None, ()),
    "back": ("back", None, ()),
    "middle": ("middle", None, ()),
    "rotated_by": ("rotated_by", None, (30.0, 45.0, 60.0, -30.0, -45.0, -60.0)),
}
HELD_OUT_RELATIONS = ("behind", "right_side")
HELD_OUT_SHARE = 4  # one combination in this many is held out of training


def held_out(color: str, shape: str, relation: str) -> bool:
    """Whether (color, shape, relation) is never seen together in training."""
    if relation in HELD_OUT_RELATIONS:
        return True
    return zlib.crc32(f"{color}|{shape}|{relation}".encode()) % HELD_OUT_SHARE == 0


@dataclass(frozen=True)
class GoalCase:
    """One sampled goal: its text, the scene's objects and whether it is held out."""

    relation: str
    color: str
    shape: str
    goal: str
    objects: str
    distractors: int
    unseen: bool

    @property
    def obj(self) -> str:
        return f"{self.color} {self.shape}"


def sample_case(rng: np.random.Generator, unseen: bool | None = None) -> GoalCase:
    """A goal drawn with `rng`: `unseen` False draws a training combination, True a
    held-out one, None any."""
    names = list(RELATIONS)
    for _ in range(1000):
        relation = names[int(rng.integers(len(names)))]
        color = COLORS[int(rng.integers(len(COLORS)))]
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        if unseen is None or held_out(color, shape, relation) == unseen:
            break
    pred, refs, numbers = RELATIONS[relation]
    obj = f"{color} {shape}"
    args, objects = [obj], [obj]
    if refs is not None:
        ref_color = [c for c in COLORS if c != color][int(rng.integers(len(COLORS) - 1))]
        ref = f"{ref_color} {refs[int(rng.integers(len(refs)))]}"
        args.append(ref)
        objects.append(ref)
    if numbers:
        args.append(f"{numbers[int(rng.integers(len(numbers)))]:g}")
    return GoalCase(
        relation,
        color,
        shape,
        f"{pred}({', '.join(args)})",
        ", ".join(objects),
        int(rng.integers(3)),
        held_out(color, shape, relation),
    )


def case_of(split: str, index: int, seed: int) -> GoalCase:
    """The goal of a split's `index`-th seed: training ones seen, test ones alternating."""
    rng = np.random.default_rng([seed, 7])
    return sample_case(rng, False if split == "train" else bool(index % 2))


def set_up(world, case: GoalCase, seed: int, tries: int = 6):
    """Build the case's scene and plan it: (goal, the one move as a robot-plan dict with
    its phrase), or None when no draw gives a one-move plan."""
    from sim.errors import SimError
    from sim.goals import GoalError, check, read_world, start_poses
    from sim.goals.plan import plan_moves
    from sim.scenes import build_scene
    from skills.phrases import step_phrase

    rng = np.random.default_rng([seed, 11])
    for _ in range(tries):
        try:
            build_scene(world, case.objects, rng, case.distractors, goal=case.goal)
        except GoalError:
            return None  # the goal means nothing for these objects (a cylinder turned)
        except SimError:
            continue
        state = read_world(world, start_poses(world))
        goal = check(case.goal, state)
        moves = plan_moves(goal, state, int(rng.integers(2**31)))
        if moves is not None and len(moves) == 1 and moves[0].obj == case.obj:
            m = moves[0]
            return goal, m.as_dict() | {"phrase": step_phrase(m.kind, m.obj, m.atoms, m.target)}
    return None


def expert_poses(world, move: dict) -> tuple[tuple, tuple]:
    """(grasp, placement) poses of the oracle provider for one planned move (as the robot
    API computes them, the gripper's yaw after the grasp taken as the grasp's)."""
    from sim import poses
    from sim.geometry import wrap_angle, yaw_from_quat

    held = next(o for o in world.objects if o.description == move["object"])
    pos, orn = world.pose(held)
    if move["kind"] in ("place_on", "put_in"):
        tgt = next(o for o in world.objects if o.description == move["target"])
        xy = world.pose(tgt)[0][:2]
        pick = poses.pick_pose(world, held, 0.0, xy)
        return pick, poses.place_pose(held, xy, poses.surface_z(world, tgt), pick[3])
    if move["kind"] == "rotate":
        xy, yaw = pos[:2], math.degrees(yaw_from_quat(orn)) + move["degrees"]
    else:
        xy, yaw = (move["x"], move["y"]), move["yaw"]
    turn = 0.0
    if yaw is not None and held.shape.symmetry:
        now, sym = yaw_from_quat(orn), held.shape.symmetry
        goal = math.radians(yaw)
        turn = min((wrap_angle(goal - now + k * sym) for k in range(-4, 5)), key=abs)
    pick = poses.pick_pose(world, held, turn, xy)
    return pick, poses.place_pose(held, xy, 0.0, wrap_angle(pick[3] + turn))


@dataclass(frozen=True)
class GoalSamples:
    """Goal-template demonstrations: the rows (`family` holds the relation) and which
    rows are held out (`unseen`), with each row's goal."""

    samples: Samples
    unseen: np.ndarray
    goal: np.ndarray

    def __len__(self) -> int:
        return len(self.samples)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        arrays = {f.name: getattr(self.samples, f.name) for f in fields(Samples)}
        for k in ("instruction", "family", "primitive"):
            arrays[k] = arrays[k].astype(str)
        np.savez_compressed(
            tmp,
            version=np.array(GOAL_DATA_VERSION),
            unseen=self.unseen,
            goal=self.goal.astype(str),
            **arrays,
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> GoalSamples:
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["version"]) != GOAL_DATA_VERSION:
                    raise AgentError(f"dataset {path} has version {int(z['version'])}")
                s = Samples(**{f.name: z[f.name] for f in fields(Samples)})
                return cls(s, z["unseen"], z["goal"])
        except (OSError, KeyError, ValueError) as exc:
            raise AgentError(f"cannot read dataset {path}: {exc}") from None


def case_row(world, case, seed: int, spec: ImageSpec) -> tuple[Samples, dict] | None:
    """The expert's row for a goal case set up in `world` with `seed`, and the move it
    demonstrates; None when the scene gives no one-move plan."""
    made = set_up(world, case, seed)
    if made is None:
        return None
    _, move = made
    rgb, depth = observe(world, spec)
    pick, place = expert_poses(world, move)
    held = next(o for o in world.objects if o.description == case.obj)
    row = Samples.single(
        rgb,
        depth,
        move["phrase"],
        case.relation,
        seed,
        "pick_place",
        pick,
        place,
        held.shape.symmetry,
    )
    return row, move


def goal_demo(world, split: str, index: int, seed: int, spec: ImageSpec) -> GoalSamples | None:
    """One row for the split's `index`-th seed, or None when its scene gives no one-move
    plan."""
    case = case_of(split, index, seed)
    made = case_row(world, case, seed, spec)
    if made is None:
        return None
    return GoalSamples(made[0], np.array([case.unseen]), np.array([case.goal]))


def make_goal_demos(split: str, n: int, spec: ImageSpec, start: int = 0, world=None) -> GoalSamples:
    """`n` rows of a split (seeds as `data.split_seeds`; a seed whose scene gives no
    one-move plan is skipped, so fewer rows may come back)."""
    from sim.world import World

    own = world is None
    world = world or World(image_size=(spec.render, spec.render))
    rows = []
    try:
        for i, seed in enumerate(split_seeds(split, n, start)):
            row = goal_demo(world, split, start + i, seed, spec)
            if row is not None:
                rows.append(row)
    finally:
        if own:
            world.close()
    if not rows:
        raise AgentError(f"no goal-template scene of the {split} split gave a one-move plan")
    return GoalSamples(
        Samples.concat([r.samples for r in rows]),
        np.concatenate([r.unseen for r in rows]),
        np.concatenate([r.goal for r in rows]),
    )


def goal_dataset_path(home: Path, split: str, n: int, spec: ImageSpec, start: int = 0) -> Path:
    tag = f"r{spec.render}c{'-'.join(map(str, spec.crop))}"
    name = f"goals-{split}-{start}-{n}-{tag}-v{GOAL_DATA_VERSION}.npz"
    return Path(home) / "policy" / "data" / name


def largest_cached(home: Path, split: str, spec: ImageSpec, start: int = 0) -> int | None:
    """The most seeds of any cached dataset of a split (`goal_dataset_path`), or None."""
    path = goal_dataset_path(home, split, 0, spec, start)
    head, tail = f"goals-{split}-{start}-", path.name.removeprefix(f"goals-{split}-{start}-0")
    sizes = [p.name[len(head) : -len(tail)] for p in path.parent.glob(f"{head}*{tail}")]
    return max((int(n) for n in sizes if n.isdigit()), default=None)


def load_goal_demos(home: Path, split: str, n: int, spec: ImageSpec, start: int = 0) -> GoalSamples:
    """Goal-template demonstrations of a split, from the cache or made (and cached) now."""
    path = goal_dataset_path(home, split, n, spec, start)
    if path.exists():
        return GoalSamples.load(path)
    data = make_goal_demos(split, n, spec, start)
    data.save(path)
    return data
