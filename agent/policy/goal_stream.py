"""The open-world stream: experiences of goal templates, held-out tests, noisy corrections.

Each experience is a group of goal templates of `goal_data` (relations to another object,
regions of the table, turns), not a task family:

    on            on a plate or pad             beside        left of / right of X
    stack         on a block                    front-behind  in front of X (behind: test only)
    in            in a bowl                     near-far      next to / >= 20 cm from X
    sides         left side (right side: test)  regions       front / back / middle
    rotate        rotated by +-30/45/60 degrees

Its scenes come from blocks of its own in every range of `splits` (group k uses the k-th
block of `BLOCK` scenes), so no two experiences, and no two uses, share a scene:

- the first experience of an order trains on demonstrations (the "train" range);
- every later one trains on CORRECTION rows (the "corrections" range): the simulated
  expert labels each scene it is shown (a template not learnt yet fails almost always),
  and a share `noise` of them carry a wrong label (`corrupt`): a wrong position (the
  placement at another object's location, a wrong click) or a wrong orientation (the
  turn off by 3 to 15 yaw bins of 5 degrees), half each;
- test and validation scenes (the "test" and "valid" ranges) alternate a training
  combination and a held-out one (`goal_data.held_out`: a color x shape x relation never
  trained on, or a relation held out entirely), so their phrasings are new too.

Scoring is `goal_eval`'s proxy without a simulator: each scene's start state is kept with
its row (`State.to_json`), the grasp must be within tolerance of the expert's and the
goal must hold with the object put down where the policy says (`GoalSet.evaluate`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

import numpy as np

from agent.errors import AgentError
from agent.policy.data import Samples
from agent.policy.geometry import ROT_BINS, ROT_PERIOD, ImageSpec, yaw_error

GOAL_STREAM_VERSION = 1
# experience -> (relations trained on, relations held out of training: tested only)
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "on": (("on",), ()),
    "stack": (("stack",), ()),
    "in": (("in",), ()),
    "beside": (("left_of", "right_of"), ()),
    "front-behind": (("in_front_of",), ("behind",)),
    "near-far": (("next_to", "far_from"), ()),
    "sides": (("left_side",), ("right_side",)),
    "regions": (("front", "back", "middle"), ()),
    "rotate": (("rotated_by",), ()),
}
# "A": the held-out order every reported table uses; "dev": the tuner's (other order)
GOAL_ORDERS: dict[str, tuple[str, ...]] = {
    "A": tuple(GROUPS),
    "dev": (
        "rotate",
        "beside",
        "in",
        "regions",
        "on",
        "near-far",
        "stack",
        "sides",
        "front-behind",
    ),
}
BLOCK = 5_000  # scenes of each range reserved for one group (9 x 5 000 < 50 000)
BIN_DEG = math.degrees(ROT_PERIOD) / ROT_BINS


@dataclass(frozen=True)
class GoalSet:
    """Rows of one experience and use: the samples (`family` holds the relation), each
    row's goal, held object, start state (`State.to_json`, as JSON text) and whether its
    combination is held out of training."""

    samples: Samples
    goal: np.ndarray
    obj: np.ndarray
    state: np.ndarray
    unseen: np.ndarray

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def instruction(self) -> np.ndarray:
        return self.samples.instruction

    @cached_property
    def scenes(self) -> list:
        """(State, Goal) of every row (parsed once)."""
        from sim.goals import check
        from sim.goals.state import State

        out = []
        for g, s in zip(self.goal, self.state, strict=True):
            st = State.from_json(json.loads(str(s)))
            out.append((st, check(str(g), st)))
        return out

    def evaluate(self, policy) -> dict:
        """Proxy success (grasp within tolerance and the goal holding where the policy
        puts the object down), grasp error (cm), turn error (deg), and success on the
        seen and unseen rows apart."""
        from agent.policy.evaluate import POS_TOL, Z_TOL
        from sim.goals import evaluate
        from sim.goals.solve import hypothetical
        from sim.poses import grasp_height

        s = self.samples
        preds = policy.predict_many(s.rgb, s.depth, list(s.instruction), list(s.primitive))
        oks, pos, rot = [], [], []
        for i, p in enumerate(preds):
            state, goal = self.scenes[i]
            held = state.get(str(self.obj[i]))
            err = math.dist(p.pick[:2], s.pick[i][:2])
            grasp = err < POS_TOL and abs(p.pick[2] - s.pick[i][2]) < Z_TOL
            x, y, z = p.place[:3]
            put = hypothetical(
                state, {held.description: (x, y, z - grasp_height(held), held.yaw + p.turn)}
            )
            oks.append(bool(grasp and evaluate(goal, put).value))
            pos.append(err * 100)
            want = float(s.place[i][3] - s.pick[i][3])
            rot.append(math.degrees(yaw_error(p.turn, want, float(s.symmetry[i]))))
        ok = np.asarray(oks, dtype=float)
        unseen = self.unseen.astype(bool)
        return {
            "success": float(ok.mean()),
            "pos_cm": float(np.mean(pos)),
            "rot_deg": float(np.mean(rot)),
            "seen": float(ok[~unseen].mean()) if (~unseen).any() else None,
            "unseen": float(ok[unseen].mean()) if unseen.any() else None,
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")  # two writers never share one
        arrays = {f.name: getattr(self.samples, f.name) for f in fields(Samples)}
        for k in ("instruction", "family", "primitive"):
            arrays[k] = arrays[k].astype(str)
        np.savez_compressed(
            tmp,
            version=np.array(GOAL_STREAM_VERSION),
            goal=self.goal.astype(str),
            obj=self.obj.astype(str),
            state=self.state.astype(str),
            unseen=self.unseen,
            **arrays,
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> GoalSet:
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["version"]) != GOAL_STREAM_VERSION:
                    raise AgentError(f"dataset {path} has version {int(z['version'])}")
                s = Samples(**{f.name: z[f.name] for f in fields(Samples)})
                return cls(s, z["goal"], z["obj"], z["state"], z["unseen"])
        except (OSError, KeyError, ValueError) as exc:
            raise AgentError(f"cannot read dataset {path}: {exc}") from None


def check_group(group: str) -> int:
    """The group's index (its block of scenes); AgentError if unknown."""
    if group not in GROUPS:
        raise AgentError(f"unknown goal group {group!r} (known: {', '.join(GROUPS)})")
    return list(GROUPS).index(group)


def group_case(rng: np.random.Generator, group: str, unseen: bool):
    """A `goal_data.GoalCase` of the group's relations (held-out ones only when `unseen`),
    drawn with `rng` through `goal_data.sample_case` (one definition of a case)."""
    from agent.policy.goal_data import sample_case

    trained, held = GROUPS[group]
    for _ in range(10_000):
        case = sample_case(rng, unseen)
        if case.unseen == unseen and case.relation in trained + held:
            return case
    raise AgentError(f"no {'held-out' if unseen else 'training'} case of group {group!r}")


def group_row(world, group: str, use: str, index: int, seed: int, spec: ImageSpec):
    """One row of a group for the `index`-th scene of a use (None: no one-move plan)."""
    from agent.policy.goal_data import case_row
    from sim.goals.state import read_world, start_poses

    k = check_group(group)
    held_out_use = use in ("test", "valid")
    case = group_case(np.random.default_rng([seed, 7, k]), group, held_out_use and bool(index % 2))
    made = case_row(world, case, seed, spec)
    if made is None:
        return None
    state = json.dumps(read_world(world, start_poses(world)).to_json())
    return made[0], case.goal, case.obj, state, case.unseen


def make_group_set(group: str, use: str, n: int, spec: ImageSpec, world=None) -> GoalSet:
    """Rows of `n` scenes of a group's block of a use's range (`splits.scene_seeds`); a
    scene without a one-move plan gives no row."""
    from agent.policy.splits import scene_seeds
    from sim.world import World

    start = check_group(group) * BLOCK
    own = world is None
    world = world or World(image_size=(spec.render, spec.render))
    rows = []
    try:
        for i, seed in enumerate(scene_seeds(use, n, start)):
            r = group_row(world, group, use, i, seed, spec)
            if r is not None:
                rows.append(r)
    finally:
        if own:
            world.close()
    if not rows:
        raise AgentError(f"no scene of goal group {group!r} ({use}) gave a one-move plan")
    return GoalSet(
        Samples.concat([r[0] for r in rows]),
        *(np.array([r[j] for r in rows]) for j in range(1, 5)),
    )


def group_set_path(home: Path, group: str, use: str, n: int, spec: ImageSpec) -> Path:
    tag = f"r{spec.render}c{'-'.join(map(str, spec.crop))}"
    name = f"goalstream-{group}-{use}-{n}-{tag}-v{GOAL_STREAM_VERSION}.npz"
    return Path(home) / "policy" / "data" / name


def load_group_set(home: Path, group: str, use: str, n: int, spec: ImageSpec) -> GoalSet:
    """A group's rows of a use, from the cache in the data home or made (and cached) now."""
    path = group_set_path(home, group, use, n, spec)
    if path.exists():
        return GoalSet.load(path)
    data = make_group_set(group, use, n, spec)
    data.save(path)
    return data


def corrupt(gs: GoalSet, share: float, seed: int) -> tuple[Samples, dict]:
    """The rows with exactly round(share x N) wrong labels, drawn with `seed`: half (the
    odd ones of the draw) a wrong position, the placement moved to another object's
    location (a wrong orientation where the scene holds no other object), the others a
    wrong orientation, the place yaw turned by 3 to 15 bins of 5 degrees either way.

    Returns:
        (samples, {"position": n, "orientation": n, "rows": N}).
    """
    from sim.goals.state import State

    if not 0.0 <= share < 1.0:
        raise AgentError(f"the share of wrong labels must be in [0, 1), got {share}")
    s = gs.samples
    place = s.place.copy()
    rng = np.random.default_rng([seed, 23])
    wrong = rng.permutation(len(s))[: int(round(share * len(s)))]
    counts = {"position": 0, "orientation": 0, "rows": len(s)}
    for j, i in enumerate(wrong.tolist()):
        state = State.from_json(json.loads(str(gs.state[i])))
        others = [b for b in state.bodies if b.description != str(gs.obj[i])]
        if j % 2 == 1 and others:
            other = others[int(rng.integers(len(others)))]
            place[i, :2] = other.xy
            counts["position"] += 1
        else:
            bins = int(rng.integers(3, 16)) * (1 if rng.random() < 0.5 else -1)
            place[i, 3] = math.remainder(place[i, 3] + math.radians(bins * BIN_DEG), 2 * math.pi)
            counts["orientation"] += 1
    return Samples(
        **{**{f.name: getattr(s, f.name) for f in fields(Samples)}, "place": place}
    ), counts


def training_use(position: int) -> str:
    """The range an experience trains from: demonstrations first, corrections after."""
    return "train" if position == 0 else "corrections"


def load_goal_stream(home: Path, config, spec: ImageSpec, encoder):
    """Training tensors (later experiences' correction rows with `config.noise` of wrong
    labels), test and validation `GoalSet`s of every experience of `config.families`."""
    from agent.policy.prepare import prepare
    from agent.policy.stream import StreamData

    n_valid = config.n_test if config.n_valid is None else config.n_valid
    train, test, valid = [], [], []
    for i, group in enumerate(config.families):
        rows = load_group_set(home, group, training_use(i), config.n_train, spec)
        samples = rows.samples
        if i > 0 and config.noise > 0:
            samples, _ = corrupt(rows, config.noise, config.optim.seed)
        train.append(prepare(samples, spec, encoder, task=i))
        test.append(load_group_set(home, group, "test", config.n_test, spec))
        valid.append(load_group_set(home, group, "valid", n_valid, spec))
    return StreamData(train, test, valid)


def prefetch(home: Path, config, spec: ImageSpec) -> None:
    """Render (and cache) every set a stream config reads, in this process: workers
    started afterwards only read them."""
    n_valid = config.n_test if config.n_valid is None else config.n_valid
    for i, group in enumerate(config.families):
        load_group_set(home, group, training_use(i), config.n_train, spec)
        load_group_set(home, group, "test", config.n_test, spec)
        load_group_set(home, group, "valid", n_valid, spec)


def stream_facts(home: Path, config, spec: ImageSpec) -> dict:
    """What the stream's data is (from the cached sets): rows per experience, the share of
    test phrasings met verbatim in any experience's training rows, held-out test rows,
    and the wrong labels of each experience at `config.noise`."""
    phrases: set[str] = set()
    out: dict = {"experiences": {}}
    tests = {}
    for i, group in enumerate(config.families):
        rows = load_group_set(home, group, training_use(i), config.n_train, spec)
        phrases.update(map(str, rows.instruction))
        tests[group] = load_group_set(home, group, "test", config.n_test, spec)
        wrong = corrupt(rows, config.noise, config.optim.seed)[1] if i and config.noise else {}
        out["experiences"][group] = {
            "relations": list(GROUPS[group][0]),
            "test_only_relations": list(GROUPS[group][1]),
            "train_rows": len(rows),
            "trains_from": training_use(i),
            "wrong_labels": wrong,
        }
    n = sum(len(t) for t in tests.values())
    verbatim = sum(str(p) in phrases for t in tests.values() for p in t.instruction)
    unseen = [bool(u) for t in tests.values() for u in t.unseen]
    out |= {
        "test_rows": n,
        "test_unseen_share": float(np.mean(unseen)) if unseen else None,
        "test_verbatim_in_training": verbatim / n if n else None,
    }
    for group, t in tests.items():
        out["experiences"][group]["test_rows"] = len(t)
    return out
