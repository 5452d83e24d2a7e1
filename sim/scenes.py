"""Scenes from words: an object list (`sim.object_list`) laid out on the table.

`build_scene(world, objects, rng, distractors=0, goal=None)` places the objects, seeded
by `rng` alone: reachable (inside the workspace), collision-free with room for the
fingers (3.5 cm around every block), every start relation true with a margin (the
layout sampler `sim.goals.solve.sample_layout`, judged by the goal predicates), plus
`distractors` objects of other descriptions. The scene is settled and its relations
checked again on the simulator's state; a sample that fails is drawn again. With a
`goal`, the scene must make it false (doing nothing never passes). It returns a `Layout`
that `place(world, layout)` rebuilds exactly. A request no layout can satisfy raises
SimError with one line naming the object or relation.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from sim.errors import SimError
from sim.goals import And, Atom, Body, Goal, State, check, evaluate, ground, read_world, start_poses
from sim.goals.consistency import contradiction
from sim.goals.formula import GoalError, atoms, parse
from sim.goals.predicates import DEG_AS_M
from sim.goals.predicates.regions import X0, X1, Y0, Y1
from sim.goals.solve import CLEARANCE, FINGER_ROOM, hypothetical, margin_ok, sample_layout
from sim.object_list import ObjectSpec, check_specs, parse_description, parse_objects
from sim.objects import COLORS, SHAPES

Pose = tuple[float, float, float, float]  # x, y, z_bottom (m), yaw (radians)

DISTRACTOR_SHAPES = (
    "cube",
    "small cube",
    "cylinder",
    "cube",
    "small cube",
    "cylinder",
    "plate",
    "pad",
    "bowl",
)
LAYOUT_TRIES = 25  # draws (of 8 restarts each) after which a layout that never fits is refused
SETTLE_XY = 0.01  # an object may slide this far while the scene settles
WORKSPACE_AREA = (X1 - X0) * (Y1 - Y0)


@dataclass(frozen=True)
class Layout:
    """A scene: per object (description, shape, color, pose (x, y, z_bottom, yaw rad))."""

    objects: tuple[tuple[str, str, str, Pose], ...]

    @property
    def descriptions(self) -> list[str]:
        return [o[0] for o in self.objects]

    def to_json(self) -> dict:
        """{"objects": [{"description", "shape", "color", "pose": [x, y, z_bottom, yaw_deg]}]}"""
        return {
            "objects": [
                {
                    "description": d,
                    "shape": s,
                    "color": c,
                    "pose": [p[0], p[1], p[2], math.degrees(p[3])],
                }
                for d, s, c, p in self.objects
            ]
        }

    @classmethod
    def from_json(cls, data) -> Layout:
        """The inverse of `to_json` (a dict, its "objects" list, or JSON text)."""
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise SimError(f"the layout is not valid JSON: {exc.msg}") from None
        rows = data.get("objects") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise SimError("a layout is {'objects': [...]}")
        out = []
        for r in rows:
            try:
                shape, color = str(r["shape"]), str(r["color"])
                x, y, z, yaw = (float(v) for v in r["pose"])
            except (KeyError, TypeError, ValueError):
                raise SimError(f"bad layout entry {r!r:.80}") from None
            if shape not in SHAPES or color not in COLORS:
                raise SimError(f"bad layout entry {r!r:.80}: unknown shape or color")
            out.append(
                (
                    r.get("description") or f"{color} {shape}",
                    shape,
                    color,
                    (x, y, z, math.radians(yaw)),
                )
            )
        return cls(tuple(out))


# -- building -------------------------------------------------------------------------------
def _footprint_area(shape: str, gap: float) -> float:
    return math.pi * (SHAPES[shape].radius + gap / 2) ** 2


def _check_room(specs: list[ObjectSpec], distractors: int) -> None:
    """Refuse what cannot fit on the table however it is laid out."""
    on_something = {
        i for i, s in enumerate(specs) if s.relation in ("on", "in") and s.ref is not None
    }
    need = 0.0
    for i, s in enumerate(specs):
        if i not in on_something:
            gap = FINGER_ROOM if SHAPES[s.shape].graspable else CLEARANCE
            need += _footprint_area(s.shape, gap)
    need += distractors * _footprint_area("small cube", FINGER_ROOM)
    if need > 0.9 * WORKSPACE_AREA:
        n = len(specs) + distractors
        raise SimError(
            f"too many objects for the table: {n} objects need about {need:.2f} m2 with room"
            f" for the fingers, the reachable table has {WORKSPACE_AREA:.2f} m2"
        )


def _colors(specs: list[ObjectSpec], rng, wanted: list[str] = ()) -> list[str]:
    """A color for every object: as given, else one that makes a `wanted` description
    (one the goal names) if any is free for its shape, else a random free one."""
    used = {(s.color, s.shape) for s in specs if s.color}
    out = []
    for s in specs:
        if s.color:
            out.append(s.color)
            continue
        want = [d.split(" ", 1)[0] for d in wanted if d.split(" ", 1)[1:] == [s.shape]]
        want = [c for c in want if c in COLORS and (c, s.shape) not in used]
        if want:
            used.add((want[0], s.shape))
            out.append(want[0])
            continue
        free = [c for c in COLORS if (c, s.shape) not in used]
        if not free:
            raise SimError(
                f"no free color left for another {s.shape} ({s.text!r}): every {s.shape} color is taken"
            )
        c = str(free[int(rng.integers(len(free)))])
        used.add((c, s.shape))
        out.append(c)
    return out


def _distractors(taken: list[tuple[str, str]], n: int, rng) -> list[tuple[str, str]]:
    """n (shape, color) pairs whose descriptions differ from the taken ones and each other."""
    used = set(taken)
    out = []
    for _ in range(n):
        for _ in range(100):
            shape = DISTRACTOR_SHAPES[int(rng.integers(len(DISTRACTOR_SHAPES)))]
            color = list(COLORS)[int(rng.integers(len(COLORS)))]
            if (shape, color) not in used:
                break
        else:  # pragma: no cover - 72 descriptions
            raise SimError("no description left for another distractor")
        used.add((shape, color))
        out.append((shape, color))
    return out


def _atoms(specs: list[ObjectSpec], descs: list[str]) -> list[tuple[Atom, str]]:
    out = []
    for i, s in enumerate(specs):
        if s.relation is None:
            continue
        args = (descs[i],) if s.ref is None else (descs[i], descs[s.ref])
        out.append((Atom(s.relation, args), s.text))
    return out


def build_scene(
    world, objects, rng, distractors: int = 0, goal=None, tries: int = 50, margin: float = 0.01
) -> Layout:
    """Build a seeded scene of `objects` in `world` and return its `Layout`.

    Args:
        world: a `sim.world.World`; it is cleared and holds the scene afterwards.
        objects: the object list (text, list of entries, or `ObjectSpec`s).
        rng: a numpy Generator, the only source of randomness (same seed, same layout).
        distractors: how many more objects, of descriptions not in the list.
        goal: a goal (text, JSON or formula) the scene must make false.
        tries: how many layouts to draw before giving up.
        margin: the least margin (m) of every start relation in the sampled layout.
    """
    specs = objects if _is_specs(objects) else parse_objects(objects)
    check_specs(specs)
    if distractors < 0:
        raise SimError(f"distractors must be >= 0, got {distractors}")
    _check_room(specs, distractors)
    formula = parse(goal) if goal is not None else None
    named = [x for a in atoms(formula) for x in a.args if isinstance(x, str)] if formula else []
    why = {"layout": 0, "goal": 0, "settle": 0}
    last_settle = ""
    for _ in range(tries):
        colors = _colors(specs, rng, named)
        objs = [(s.shape, c) for s, c in zip(specs, colors, strict=True)]
        objs += _distractors(objs, distractors, rng)
        descs = [f"{c} {s}" for s, c in objs]
        state0 = State(
            tuple(
                Body(d, c, s, (0.0, 0.0, 0.0, 0.0)) for d, (s, c) in zip(descs, objs, strict=True)
            )
        )
        relations = _atoms(specs, descs)
        for atom, txt in relations:
            _check_relation(atom, txt, state0)
        clash = contradiction(And(tuple(a for a, _ in relations))) if relations else None
        if clash:
            raise SimError(f"the start relations contradict each other: {clash}")
        target = check(formula, state0) if formula is not None else None
        movers = sorted(descs, key=lambda d: -SHAPES[d.split(" ", 1)[1]].radius)
        poses = sample_layout(
            state0, [a for a, _ in relations], movers, rng, margin=margin, tries=8
        )
        if poses is None:
            why["layout"] += 1
            if why["layout"] >= LAYOUT_TRIES and not why["goal"] + why["settle"]:
                break  # the objects and relations alone do not fit: say why
            continue
        if target is not None and evaluate(target, hypothetical(state0, poses)).value:
            why["goal"] += 1
            continue
        layout = Layout(tuple((d, s, c, poses[d]) for d, (s, c) in zip(descs, objs, strict=True)))
        place(world, layout)
        bad = _settled_badly(world, layout, [a for a, _ in relations])
        if bad:
            why["settle"] += 1
            last_settle = bad
            continue
        if target is not None and evaluate(target, read_world(world, start_poses(world))).value:
            why["goal"] += 1
            continue
        return layout
    world.clear()
    if why["goal"] and not why["layout"] and not why["settle"]:
        raise SimError(f"the goal already holds in every scene sampled: {formula} ({tries} scenes)")
    if why["layout"] >= max(why["goal"], why["settle"]):
        raise SimError(_diagnose(specs, named, rng, margin, sum(why.values())))
    if why["settle"] >= why["goal"]:
        raise SimError(f"no scene stayed put after settling in {tries} tries ({last_settle})")
    raise SimError(
        f"the goal already holds in every scene sampled where the objects fit: {formula}"
    )


def _check_relation(atom: Atom, txt: str, state: State) -> None:
    """Refuse a start relation that means nothing (SimError naming the entry). A fixed
    object may stand anywhere (`blue tray on the left side`), but not on or in anything."""
    subject = state.get(atom.args[0])
    if not subject.movable:
        if atom.pred in ("on", "in"):
            raise SimError(
                f"{txt!r}: the {subject.description} is fixed to the table, it cannot stand on or in anything"
            )
        return  # the goal language refuses fixed objects asked to move; a scene places them
    try:
        ground(atom, state)
    except GoalError as exc:
        raise SimError(f"{txt!r}: {exc}") from None


def _is_specs(objects) -> bool:
    return (
        isinstance(objects, list | tuple)
        and bool(objects)
        and all(isinstance(o, ObjectSpec) for o in objects)
    )


def _diagnose(specs, named, rng, margin, tries) -> str:
    """Which start relation cannot hold on its own, or that the objects do not fit."""
    colors = _colors(specs, rng, named)
    descs = [f"{c} {s.shape}" for s, c in zip(specs, colors, strict=True)]
    relations = _atoms(specs, descs)
    state0 = State(
        tuple(
            Body(d, c, s.shape, (0.0, 0.0, 0.0, 0.0))
            for d, s, c in zip(descs, specs, colors, strict=True)
        )
    )
    for atom, txt in relations:
        objs = [x for x in atom.args if isinstance(x, str)]
        alone = State(tuple(b for b in state0.bodies if b.description in objs))
        if sample_layout(alone, [atom], objs, rng, margin=margin, tries=20) is None:
            return f"the start relation {txt!r} ({atom}) cannot hold on the table"
    for k in range(2, len(relations) + 1):  # the first relation that the ones before rule out
        some = [a for a, _ in relations[:k]]
        objs = {x for a in some for x in a.args if isinstance(x, str)}
        sub = State(tuple(b for b in state0.bodies if b.description in objs))
        movers = sorted(objs, key=lambda d: (-sub.get(d).shape.radius, descs.index(d)))
        if sample_layout(sub, some, movers, rng, margin=margin, tries=20) is None:
            return f"found no layout where the start relation {relations[k - 1][1]!r} holds together with the ones listed before it"
    n = len(specs)
    return f"no collision-free layout of the {n} objects with every start relation found in {tries} tries (too crowded?)"


def _settled_badly(world, layout: Layout, relations: list[Atom]) -> str:
    """Why the settled scene is not the one sampled (moved, tipped, touching, a relation
    broken), or ""."""
    state = read_world(world)
    for (d, _, _, p), b in zip(layout.objects, state.bodies, strict=True):
        moved = math.hypot(b.pose[0] - p[0], b.pose[1] - p[1])
        if moved > SETTLE_XY or abs(b.z - p[2]) > 0.01:
            return f"the {d} moved {100 * moved:.1f} cm while settling"
        if b.tilt > math.radians(10):
            return f"the {d} tipped over"
    bodies = {o.body: o.description for o in world.objects}
    for pt in world.client.getContactPoints():
        if pt[1] in bodies and pt[2] in bodies and pt[8] < -0.005:
            return f"the {bodies[pt[1]]} and the {bodies[pt[2]]} interpenetrate"
    if relations:
        f = And(tuple(relations))
        verdict = evaluate(Goal(f, f), state)
        for a, r in zip(relations, verdict.atoms, strict=False):
            m = r.margin * (DEG_AS_M if r.unit == "deg" else 1.0)
            if not margin_ok(a.pred, r.value, m, 0.0):
                return f"{r.atom} is false after settling ({r.detail})"
    return ""


def place(world, layout: Layout) -> None:
    """Clear `world` and rebuild `layout` exactly (objects on others at their height), then
    let it settle."""
    world.clear()
    for _, shape, color, (x, y, z, yaw) in layout.objects:
        world.add(shape, color, (x, y), yaw, z)
    world.settle()


__all__ = ["Layout", "ObjectSpec", "build_scene", "parse_description", "parse_objects", "place"]
