"""Step phrases: what the pose policy is asked for one move of a plan.

One function, `step_phrase(kind, obj, atoms, target)`, turns a plan move (`sim.goals.plan`
moves, `robot.plan()` dicts) and the goal atoms it serves into the instruction the pose
provider is asked: "pick up the red cube", "stack the red cube on the blue cube", "put
the red cube left of the green bowl", "rotate the red cube 45 degrees", "push the red
cube into the blue zone". The robot API attaches it to every planned move, the policy's
demonstrations (`agent.policy.goal_data`) label rows with it and the evaluation asks
with it, so the three can never disagree.

The words come from `RELATIONS`, one entry per predicate of the goal language (a test
checks it covers the registry): a new predicate gets its phrase by one entry, and an
atom of a predicate without one is an error (`PhraseError`), never a guess. It lives in
`skills` (not in `agent.policy`) because the robot API attaches phrases, and `skills`
never imports `agent`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

BLOCKS = ("cube", "small cube", "cylinder")

# predicate -> (verb, where): "{a}" is the object moved, "{b}", "{c}" the others, "{n}" the
# number argument, "{rest}" every other object ("the b and the c"). A verb of None takes
# the verb of the support's kind (`_support_verb`).
RELATIONS: dict[str, tuple[str | None, str]] = {
    "on": (None, "on the {b}"),
    "in": ("put", "in the {b}"),
    "on_table": ("put", "on the table"),
    "stacked": ("stack", "in a tower with {rest}"),
    "held": ("pick up", ""),
    "upright": ("stand", "upright"),
    "left_of": ("put", "left of the {b}"),
    "right_of": ("put", "right of the {b}"),
    "in_front_of": ("put", "in front of the {b}"),
    "behind": ("put", "behind the {b}"),
    "next_to": ("put", "next to the {b}"),
    "between": ("put", "between the {b} and the {c}"),
    "far_from": ("put", "at least {n} cm from the {b}"),
    "left_side": ("put", "on the left side of the table"),
    "right_side": ("put", "on the right side of the table"),
    "middle": ("put", "in the middle of the table"),
    "front": ("put", "at the front of the table"),
    "back": ("put", "at the back of the table"),
    "rotated_by": ("rotate", "{n} degrees"),
    "aligned": ("align", "with the {b}"),
    "where_was": ("put", "where the {b} was"),
    "in_row": ("line up", "in a row with {rest}"),
    "pyramid": ("put", "in a pyramid with {rest}"),
}
# The same relation seen from its second object: the reference moved (a move of b for
# left_of(a, b) puts b right of a).
CONVERSE = {
    "left_of": "right_of",
    "right_of": "left_of",
    "in_front_of": "behind",
    "behind": "in_front_of",
    "next_to": "next_to",
    "far_from": "far_from",
}
PARK = "move the {a} out of the way"  # a move no atom asks for (the planner parks it)


class PhraseError(ValueError):
    """An atom whose predicate has no phrase, or a move that cannot be phrased."""


def shape_of(description: str) -> str:
    """The shape word(s) of a "<color> <shape>" description ("small cube" is a shape)."""
    return description.split(" ", 1)[1] if " " in description else description


def _support_verb(target: str) -> str:
    """The verb of a placement on `target`, as the families say it: "stack" on a block,
    "place" on anything else ("put" is the verb of "in")."""
    return "stack" if shape_of(target) in BLOCKS else "place"


def _number(pred: str, value: float) -> str:
    if pred == "far_from":
        return f"{100 * float(value):g}"
    return f"{round(float(value), 1):g}"


def _rest(names: Sequence[str]) -> str:
    names = [f"the {x}" for x in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def relation_words(pred: str, obj: str, args: Sequence) -> tuple[str, str]:
    """(verb, where) of the atom `pred(args)` for a move of `obj`.

    Raises:
        PhraseError: `pred` has no entry in `RELATIONS`, or `obj` is not among `args`.
    """
    if pred not in RELATIONS:
        raise PhraseError(f"no step phrase for predicate {pred!r}: add it to skills.phrases")
    objs = [a for a in args if isinstance(a, str)]
    nums = [a for a in args if not isinstance(a, str)]
    if obj not in objs:
        raise PhraseError(f"the {obj} is not an argument of {pred}({', '.join(map(str, args))})")
    if objs[0] != obj and pred in CONVERSE and len(objs) == 2:
        pred, objs = CONVERSE[pred], [objs[1], objs[0]]
    verb, where = RELATIONS[pred]
    if pred in ("stacked", "in_row", "pyramid"):
        where = where.format(rest=_rest([x for x in objs if x != obj]))
    elif objs[0] != obj:  # a reference that has to move: say what the atom asks
        return "move", f"so that {pred.replace('_', ' ')}({', '.join(map(str, args))}) holds"
    else:
        names = dict(zip("bc", objs[1:], strict=False))
        n = _number(pred, nums[0]) if nums else ("15" if pred == "far_from" else "")
        where = where.format(n=n, **names)
    if verb is None:
        verb = _support_verb(objs[1])
    return verb, where


def step_phrase(
    kind: str, obj: str, atoms: Iterable[tuple[bool, object]] = (), target: str | None = None
) -> str:
    """The instruction for one plan move.

    Args:
        kind: the move's kind: pick | place_on | put_in | place_at | rotate | push.
        obj: the description of the object moved.
        atoms: (positive, atom) pairs of the goal atoms the move serves (atoms with
            `pred` and `args`, e.g. `sim.goals.Atom`); the ones with `obj` first lead.
        target: the support of place_on / put_in, the zone of a push.

    Returns:
        E.g. "put the red cube left of the blue bowl and behind the green cube".

    Raises:
        PhraseError: an atom of a predicate without a phrase.
    """
    if kind == "pick":
        return f"pick up the {obj}"
    if kind == "push":
        if target is None:
            raise PhraseError("a push is phrased by the zone it goes to")
        return f"push the {obj} into the {target}"
    if kind in ("place_on", "put_in") and target is not None and not atoms:
        if kind == "put_in" or shape_of(target) == "bowl":
            return f"put the {obj} in the {target}"
        return f"{_support_verb(target)} the {obj} on the {target}"
    atoms = sorted(atoms, key=lambda pa: _args(pa[1])[:1] != (obj,))
    parts: list[tuple[str, str]] = []
    for positive, atom in atoms:
        verb, where = relation_words(atom.pred, obj, _args(atom))
        if not positive:
            verb, where = "move", f"so that it is not {where}".rstrip()
        parts.append((verb, where))
    if not parts:
        if kind in ("place_on", "put_in") and target is not None:
            return step_phrase(kind, obj, (), target)
        return PARK.format(a=obj)
    verb = parts[0][0]
    wheres = [w for v, w in parts if v == verb and w]
    others = [f"{v} it {w}".rstrip() for v, w in parts if v != verb]
    text = f"{verb} the {obj}" + (f" {' and '.join(wheres)}" if wheres else "")
    return " and ".join([text, *others])


def _args(atom) -> tuple:
    return tuple(atom.args)
