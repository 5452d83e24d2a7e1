"""The goal language: what the person asked for, as a formula the simulator judges.

A goal is a formula over predicates (`on`, `in`, `on_table`, `left_of`, `right_of`,
`in_front_of`, `behind`, `next_to`, `between`, `far_from`, the regions `left_side`,
`right_side`, `middle`, `front`, `back`, `rotated_by`, `aligned`, `upright`, `in_row`,
`stacked`, `held`, `where_was`, `pyramid`) joined by `and`, `or`, `not`, with quantifiers
over sets picked out by words (`all(x in cubes except red cube: in(x, brown tray))`).
It is evaluated from the simulator's own state (`State`), never from what skill code
reports. Text and JSON forms mean the same (`sim.goals.formula`).

Frame, everywhere: world meters, robot base at the origin; in front = toward the front
camera (+x), behind = toward the robot (-x); left and right as the front camera sees the
table (left = -y, right = +y); z is the height of an object's bottom above the table.
Every predicate documents its tolerances (`sim.goals.predicates.*`). An object that is
still in the gripper or rests on nothing satisfies no spatial relation, and a relation
between a and b implies neither rests on the other.

    from sim.goals import check, evaluate, explain, read_world
    state = read_world(world, start)
    goal = check("on(red cube, blue plate) and left_of(green cube, blue plate)", state)
    verdict = evaluate(goal, state)     # .value, .atoms (truth, margin, reason each)
"""

from sim.goals.evaluate import AtomResult, Goal, Verdict, check, evaluate, explain, ground
from sim.goals.formula import And, Atom, Formula, GoalError, Not, Or, Quant, atoms, parse, to_json
from sim.goals.predicates import PREDICATES, load
from sim.goals.state import FRAME, Body, State, read_world, start_poses

__all__ = [
    "FRAME",
    "And",
    "Atom",
    "AtomResult",
    "Body",
    "Formula",
    "Goal",
    "GoalError",
    "Not",
    "Or",
    "PREDICATES",
    "Quant",
    "State",
    "Verdict",
    "atoms",
    "check",
    "evaluate",
    "explain",
    "ground",
    "load",
    "parse",
    "read_world",
    "start_poses",
    "to_json",
]
