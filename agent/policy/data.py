"""Demonstrations from the scripted oracle, one sample per seeded scene.

A sample needs no episode execution: the scene is built for a seed, the policy's view is
rendered, and the oracle's first action gives the labels (pick pose = `pose0`, place
pose = `pose1`; for a push, where it starts and ends). Seeds follow the Ravens rule:
training scenes use even seeds, evaluation scenes odd ones, so they never overlap.
Datasets are cached as .npz files under `<home>/policy/data/`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.geometry import ImageSpec, observe

DATA_VERSION = 1
TRAIN, TEST = "train", "test"


def primitive_of(family: str) -> str:
    """The primitive of a single-action family's key action."""
    return {"pick": "pick", "push": "push"}.get(family, "pick_place")


def split_seeds(split: str, n: int, start: int = 0) -> list[int]:
    """Seeds of a split: even for training, odd for evaluation."""
    if split not in (TRAIN, TEST):
        raise AgentError(f"unknown split {split!r} (train or test)")
    off = 0 if split == TRAIN else 1
    return [2 * (start + i) + off for i in range(n)]


@dataclass(frozen=True)
class Samples:
    """A batch of demonstrations or corrected samples as parallel arrays (N rows).

    Attributes:
        rgb: (N, H, W, 3) uint8 cropped top-camera images.
        depth: (N, H, W) float32 metric depth.
        instruction: (N,) instructions.
        family: (N,) task family ids.
        seed: (N,) scene seeds (-1 when unknown).
        primitive: (N,) primitive of the action ("pick", "pick_place", "push").
        pick: (N, 4) x, y, z, yaw of the first key pose.
        place: (N, 4) second key pose; NaN rows where the action has none.
        symmetry: (N,) yaw symmetry (radians) of the object acted on, 0 if none.
    """

    rgb: np.ndarray
    depth: np.ndarray
    instruction: np.ndarray
    family: np.ndarray
    seed: np.ndarray
    primitive: np.ndarray
    pick: np.ndarray
    place: np.ndarray
    symmetry: np.ndarray

    def __len__(self) -> int:
        return int(self.rgb.shape[0])

    def take(self, idx) -> Samples:
        """The rows at `idx` (indices or a boolean mask)."""
        idx = np.asarray(idx)
        return Samples(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    @staticmethod
    def concat(parts: list[Samples]) -> Samples:
        """Rows of several sample sets, in order."""
        parts = [p for p in parts if len(p)]
        if not parts:
            raise AgentError("no samples to concatenate")
        return Samples(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Samples)}
        )

    @property
    def has_place(self) -> np.ndarray:
        return ~np.isnan(self.place[:, 0])

    def save(self, path: Path) -> None:
        """Write to a compressed .npz (atomically: a temporary file, then a rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        for k in ("instruction", "family", "primitive"):
            arrays[k] = arrays[k].astype(str)
        np.savez_compressed(tmp, version=np.array(DATA_VERSION), **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Samples:
        """Read a file written by `save`; a one-line AgentError if it is unreadable."""
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["version"]) != DATA_VERSION:
                    raise AgentError(
                        f"dataset {path} has version {int(z['version'])}, expected {DATA_VERSION}"
                    )
                return cls(**{f.name: z[f.name] for f in fields(cls)})
        except (OSError, KeyError, ValueError) as exc:
            raise AgentError(f"cannot read dataset {path}: {exc}") from None

    @classmethod
    def single(
        cls,
        rgb,
        depth,
        instruction: str,
        family: str,
        seed: int,
        primitive: str,
        pick,
        place,
        symmetry: float,
    ) -> Samples:
        """One sample as a one-row `Samples`."""
        place_row = (
            np.full(4, np.nan, np.float32) if place is None else np.asarray(place, np.float32)
        )
        return cls(
            rgb=np.asarray(rgb, np.uint8)[None],
            depth=np.asarray(depth, np.float32)[None],
            instruction=np.array([instruction]),
            family=np.array([family]),
            seed=np.array([seed], np.int64),
            primitive=np.array([primitive]),
            pick=np.asarray(pick, np.float32)[None],
            place=place_row[None],
            symmetry=np.array([symmetry], np.float32),
        )


def acted_object(world, pose) -> object:
    """The graspable object nearest to a pose's (x, y): the one an action acts on."""
    objs = [o for o in world.objects if o.shape.graspable] or list(world.objects)
    return min(objs, key=lambda o: math.dist(world.pose(o)[0][:2], pose[:2]))


def demo(world, family: str, seed: int, spec: ImageSpec) -> Samples:
    """One demonstration: the scene of `seed` and the oracle's first action, not executed."""
    from sim.runner import reset_task

    task = reset_task(world, family, seed)
    rgb, depth = observe(world, spec)
    action = task.oracle()
    if action is None:
        raise AgentError(f"the {family} oracle has nothing to do for seed {seed}")
    held = acted_object(world, action.pose0)
    place = action.pose1 if action.primitive != "pick" else None
    return Samples.single(
        rgb,
        depth,
        task.instruction,
        family,
        seed,
        action.primitive,
        action.pose0,
        place,
        held.shape.symmetry,
    )


def make_demos(family: str, seeds: list[int], spec: ImageSpec, world=None) -> Samples:
    """Demonstrations of `family` for `seeds` (a World is created if none is given)."""
    from sim.world import World

    own = world is None
    world = world or World(image_size=(spec.render, spec.render))
    try:
        return Samples.concat([demo(world, family, s, spec) for s in seeds])
    finally:
        if own:
            world.close()


def dataset_path(
    home: Path, family: str, split: str, n: int, spec: ImageSpec, start: int = 0
) -> Path:
    """Cache file of a dataset (its name records everything it depends on)."""
    tag = f"r{spec.render}c{'-'.join(map(str, spec.crop))}"
    return (
        Path(home) / "policy" / "data" / f"{family}-{split}-{start}-{n}-{tag}-v{DATA_VERSION}.npz"
    )


def load_demos(
    home: Path, family: str, split: str, n: int, spec: ImageSpec, start: int = 0, world=None
) -> Samples:
    """Demonstrations of a split, from the cache or made (and cached) now."""
    from sim.families import check_family

    check_family(family)
    path = dataset_path(home, family, split, n, spec, start)
    if path.exists():
        return Samples.load(path)
    samples = make_demos(family, split_seeds(split, n, start), spec, world)
    samples.save(path)
    return samples


SINGLE_ACTION = ("pick", "place", "stack", "put-in-bowl", "push", "rotate", "align")


def check_families(families) -> tuple[str, ...]:
    """Known single-action families, deduplicated in order; AgentError otherwise."""
    fams = tuple(dict.fromkeys(f.strip() for f in families if f.strip()))
    if not fams:
        raise AgentError("no task family given")
    bad = [f for f in fams if f not in SINGLE_ACTION]
    if bad:
        raise AgentError(
            f"the policy learns single-action families ({', '.join(SINGLE_ACTION)}); not {bad[0]!r}"
        )
    return fams
