"""The steps of a recorded run: the goal planner's moves, matched to what the trajectory shows.

A run record keeps the goal it was judged by, every object's start and end pose and a
trajectory (`skills.sandbox.trajectory`: every object's pose at every key frame), not
the primitive calls of its skill. `run_steps` recovers the steps: the trajectory is cut
into stretches in which one object moved (`segments`: at least `MIN_MOVE` m or `MIN_TURN`
degrees of net motion; a nudge of a neighbour is no step), and each is matched, object by
object in order, to a move of the goal planner's plan of the run's goal on its start
state (`sim.goals.plan.plan_moves`), which gives the step's phrase (`skills.phrases`,
exactly what the robot API asks the pose provider), its kind and the atoms it serves. A
planned move with no stretch was not carried out: it starts from the state the last
step left, if it is the first such (later ones have no known start). `rebuild` puts a
World back into the state before a step, to render what the policy saw there.

The self-supervised rows (`self_data`) and the corrections of any step (`step_queue`) are
both made from these steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_MOVE = 0.015  # meters an object must travel for a stretch of motion to be a step
MIN_TURN = 8.0  # ... or degrees it must turn
STILL = 0.002  # meters (and STILL * 500 degrees) between samples below which nothing moved
SETTLE_TOL = 0.01  # meters a rebuilt object may sit from its recorded pose


@dataclass(frozen=True)
class RunStep:
    """One step of a recorded run, as the policy is asked for it.

    Attributes:
        run_id: the run.
        index: the step's number in the run's plan (0-based).
        phrase: what the pose provider is asked (`skills.phrases`).
        relation: the goal template the step serves ("left_of", "stack", "in", "pick", ...;
            the `family` column of its rows).
        move: the planned move (`Move.as_dict()`: kind, object, target, x, y, yaw, degrees).
        before: every object's pose before the step: {description: [x, y, z_bottom, yaw_deg]};
            None when the run never got there.
        after: the moved object's pose when it came to rest; None when not seen.
        symmetry: yaw symmetry (radians) of the object moved.
        atoms: the goal's literals the step serves, (positive, atom text).
    """

    run_id: str
    index: int
    phrase: str
    relation: str
    move: dict
    before: dict | None
    after: list | None
    symmetry: float = 0.0
    atoms: tuple[tuple[bool, str], ...] = ()

    @property
    def obj(self) -> str:
        return self.move["object"]

    @property
    def primitive(self) -> str:
        return "pick" if self.move["kind"] == "pick" else "pick_place"


# -- steps from a record ---------------------------------------------------------------------
def relation_of(move) -> str:
    """The goal template a planned move serves: its first positive atom's predicate ("on"
    a block is "stack", as in the goal-template demonstrations); "pick" for a pick."""
    from skills.phrases import BLOCKS, shape_of

    if move.kind == "pick":
        return "pick"
    pos = [a for p, a in move.atoms if p]
    if not pos:
        return "put_in" if move.kind == "put_in" else "place"
    pred = pos[0].pred
    if pred == "on" and len(pos[0].args) > 1 and shape_of(str(pos[0].args[1])) in BLOCKS:
        return "stack"
    return pred


def _moved(a, b) -> bool:
    turn = abs(math.remainder(float(b[3]) - float(a[3]), 360.0))
    return math.dist(a[:3], b[:3]) > STILL or turn > STILL * 500


def segments(trajectory: dict) -> list[tuple[str, int, int]]:
    """The stretches of a trajectory in which one object moved: (object, first sample
    of the stretch, last sample in motion), in order. A stretch starts at the first sample
    where the object differs from the one before; a pause of the same object (fingers
    closing) with nothing else moving meanwhile is part of the same stretch. Stretches
    whose net travel is under `MIN_MOVE` and `MIN_TURN` are dropped."""
    names, samples = trajectory.get("objects") or [], trajectory.get("samples") or []
    out: list[list] = []
    for k in range(1, len(samples)):
        a, b = samples[k - 1]["poses"], samples[k]["poses"]
        for i, name in enumerate(names[: min(len(a), len(b))]):
            if not _moved(a[i], b[i]):
                continue
            last = next((s for s in reversed(out) if s[0] == name), None)
            between = [s for s in out if s[0] != name and last is not None and s[2] >= last[2]]
            if last is not None and not between:
                last[2] = k
            else:
                out.append([name, k, k])
    kept = []
    for name, k0, k1 in out:
        i = names.index(name)
        p0, p1 = samples[k0 - 1]["poses"][i], samples[k1]["poses"][i]
        turn = abs(math.remainder(float(p1[3]) - float(p0[3]), 360.0))
        if math.dist(p0[:2], p1[:2]) >= MIN_MOVE or turn >= MIN_TURN or p1[2] - p0[2] > MIN_MOVE:
            kept.append((name, k0, k1))
    return kept


def plan_of(record) -> list:
    """The goal planner's moves for the run's goal on its start state ([] when it has
    none: no goal, an object the goal language does not know, or no plan)."""
    from sim.goals import State, check
    from sim.goals.plan import plan_moves

    try:
        rows = [dict(o, end=o["start"], held=False, tilt_deg=0.0) for o in record.objects]
        start = State.from_json(rows)  # the start: nothing held yet
        moves = plan_moves(check(record.goal, start), start, 0)
    except Exception:  # a goal or object this release cannot read again: no steps
        return []
    return list(moves or [])


def run_steps(record) -> list[RunStep]:
    """The run's planned steps, each with the poses before it and after it where the
    trajectory shows the step carried out (see the module docstring)."""
    from skills.phrases import PhraseError, step_phrase

    moves = plan_of(record)
    traj = record.trajectory or {}
    names, samples = traj.get("objects") or [], traj.get("samples") or []
    segs = segments(traj) if samples else []
    start = {o["description"]: list(o["start"]) for o in record.objects}
    used: set[int] = set()
    out = []
    seen, gap = start, False  # the state after the last step seen; a step not seen yet
    for n, m in enumerate(moves):
        try:
            phrase = step_phrase(m.kind, m.obj, m.atoms, m.target)
        except PhraseError:
            continue
        j = next((j for j, s in enumerate(segs) if j not in used and s[0] == m.obj), None)
        if j is not None:
            used.add(j)
            _, k0, k1 = segs[j]
            before = dict(zip(names, samples[k0 - 1]["poses"], strict=False))
            rest = samples[min(k1 + 1, len(samples) - 1)]["poses"]
            after = list(rest[names.index(m.obj)])
            seen = dict(zip(names, rest, strict=False))
        else:  # not carried out: it starts where the last step left the scene, if the first
            before, after, gap = (None if gap else seen), None, True
        out.append(
            RunStep(
                record.run_id,
                n,
                phrase,
                relation_of(m),
                m.as_dict(),
                before,
                after,
                _symmetry(m.obj),
                tuple((bool(p), str(a)) for p, a in m.atoms),
            )
        )
    return out


def _symmetry(description: str) -> float:
    from sim.objects import SHAPES

    shape = description.partition(" ")[2]
    return float(SHAPES[shape].symmetry) if shape in SHAPES else 0.0


# -- the scene before a step -----------------------------------------------------------------
def rebuild(world, poses: dict) -> str:
    """Put every object where `poses` ({description: [x, y, z_bottom, yaw_deg]}) says,
    lowest first, and let it settle; '' when each is within `SETTLE_TOL` of its pose,
    else why not."""
    from sim.errors import SimError
    from sim.goals import read_world, start_poses
    from sim.objects import COLORS, SHAPES
    from sim.scenes import Layout, place

    rows = []
    for desc, p in sorted(poses.items(), key=lambda kv: float(kv[1][2])):
        color, _, shape = desc.partition(" ")
        if shape not in SHAPES or color not in COLORS:
            return f"the {desc!r} cannot be rebuilt (not a known color and shape)"
        x, y, z, yaw = (float(v) for v in p)
        rows.append((desc, shape, color, (x, y, max(z, 0.0), math.radians(yaw))))
    try:
        place(world, Layout(tuple(rows)))
    except SimError as exc:
        return f"the scene cannot be rebuilt: {exc}"
    state = read_world(world, start_poses(world)).to_json()
    for r in state:
        want = poses.get(r["description"])
        if want is not None and math.dist(r["end"][:3], [float(v) for v in want[:3]]) > SETTLE_TOL:
            return f"the {r['description']} did not settle where the run saw it"
    return ""
