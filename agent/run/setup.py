"""What a run is judged by and where it happens: the goal and the scene.

- `--task FAMILY --seed S`: the family's scene for the seed; its goal is the family's
  goal for that scene (`Task.goal_text`).
- Otherwise the goal is `--goal FORMULA` (text or JSON), or read from the instruction by
  the deterministic reader (`agent.understand`); text it cannot read is an error that
  says what it understood and what not. The scene:
  * with `--objects`, built from those words (plus `--distractors`);
  * without, when the words name a task family's instruction (the goal uses only that
    family's predicates) and a seed of that family sets it up with the goal false, that
    family scene (its layouts are proved by the family's oracle; the run says
    "inferred"), still judged by the goal read from the words; else a scene from the
    instruction's noun phrases plus distractors.
  A scene from words is resampled (seeded) until the goal is FALSE at the start (doing
  nothing must never pass) and the goal planner finds a placement that makes it hold
  (fixed objects never move: a plate at the table's front edge leaves no room "in front
  of" it). A goal that contradicts itself, names an object that is not there, holds in
  every scene sampled, or has no placement in any of the `FEASIBLE_TRIES` scenes sampled
  (e.g. farther apart than the workspace allows) is refused before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from agent.errors import AgentError
from sim.errors import SimError

SCENE_TRIES = 40
FEASIBLE_TRIES = 16  # scenes tried for one where a placement can make the goal hold
DEFAULT_DISTRACTORS = 1


@dataclass(frozen=True)
class Setup:
    """A run's scene and goal."""

    family: str  # the family whose scene it is, "" for a scene from words
    source: str  # "given" | "inferred" | "words" | "model" (words, the goal written by the LLM)
    seed: int
    objects: tuple[str, ...]  # descriptions on the table
    goal: str  # text form, over the scene's descriptions
    layout: tuple[dict, ...] | None = None  # a scene from words (sim.scenes.Layout JSON)
    start: tuple[dict, ...] = ()  # a scene from words: its start state (State.to_json)
    spec: str = ""  # the objects' words the scene was built from (its descriptions for a family's)


def family_setup(scenes, family: str, seed: int, source: str) -> Setup:
    """A family's scene for a seed, judged by its own goal."""
    scene = scenes.scene(family, seed)
    return Setup(
        family, source, seed, scene.objects, scene.goal, None, scene.start, ", ".join(scene.objects)
    )


def setup_run(
    scenes,
    instruction: str,
    seed: int,
    goal: str | None = None,
    objects: str | None = None,
    distractors: int | None = None,
    llm=None,
) -> Setup:
    """The scene and goal for an instruction without --task (see the module docstring).

    With an `llm`, words the deterministic reader cannot read go to the model, which
    writes the goal formula (checked, refused when malformed or contradictory)."""
    from agent.understand import read_goal

    try:
        reading = None if goal is not None else read_goal(instruction)
    except AgentError as exc:
        if llm is None:
            raise
        return _model_goal_setup(scenes, llm, instruction, seed, objects, distractors, exc)
    if goal is None and objects is None and distractors is None:
        found = _family_scene(scenes, instruction, seed, reading)
        if found is not None:
            return found
    if reading is None and objects is None:  # --goal alone: no words to take a scene from
        raise AgentError('--goal needs --objects, the scene (e.g. --objects "red cube, blue bowl")')
    spec = objects if objects is not None else ", ".join(reading.objects)
    return words_setup(scenes.world, spec, seed, distractors, goal, reading)


def _model_goal_setup(
    scenes,
    llm,
    instruction: str,
    seed: int,
    objects: str | None,
    distractors: int | None,
    unread: AgentError,
) -> Setup:
    """The model writes the goal on a scene of the objects given, or those the words
    name; the run's scene is then built for that goal like any scene from words."""
    from agent.llm.goal_writer import write_goal
    from agent.plan.parse import mentions, normalize
    from sim.goals import read_world, start_poses
    from sim.scenes import build_scene

    named = [" ".join(x for x in (m.color, m.shape) if x) for m in mentions(normalize(instruction))]
    spec = objects or ", ".join(dict.fromkeys(n for n in named if n))
    if not spec:
        raise unread  # no objects to write a goal about
    world = scenes.world
    build_scene(world, spec, np.random.default_rng([seed, 99]), 0)
    state = read_world(world, start_poses(world))
    goal = write_goal(llm, instruction, state)
    setup = words_setup(world, ", ".join(state.descriptions), seed, distractors, goal)
    return replace(setup, source="model")


def _family_scene(scenes, instruction: str, seed: int, reading) -> Setup | None:
    """A family scene that sets up what the words ask (judged by the words' goal), if any.

    Only tried when the goal read from the text uses the predicates of the family the
    words name: an open-world goal never scans a family's seeds.
    """
    from agent.plan.parse import detect_kind, mentions, normalize
    from agent.understand import bind
    from sim.families import task_class
    from sim.goals import State, check, evaluate

    text = normalize(instruction)
    kind = detect_kind(text, mentions(text))
    if not predicates_of(str(reading.formula)) <= predicates_of(task_class(kind).goal_template):
        return None  # the words ask for something else than this family's goal
    try:
        family, s = scenes.infer(instruction, seed)
    except (AgentError, SimError):
        return None
    setup = family_setup(scenes, family, s, "inferred")
    named = {o for o in reading.objects if " " in o}  # objects the words name in full
    if not named <= set(setup.objects):
        return None  # e.g. "red cube" said, a red small cube there: not what was asked
    state = State.from_json(list(setup.start))
    try:
        goal = check(bind(reading, list(setup.objects)), state)
    except (AgentError, SimError):
        return None
    if evaluate(goal, state).value:
        return None  # doing nothing would pass on this scene
    return replace(setup, goal=goal.text)


def predicates_of(text: str) -> set[str]:
    """The predicate names a goal (or a goal template) uses."""
    import re

    return set(re.findall(r"([a-z_]+)\(", text)) - {"all", "any"}


def words_setup(
    world, spec: str, seed: int, distractors: int | None, goal: str | None, reading=None
) -> Setup:
    """Build a scene from words until the goal is false at the start (or refuse)."""
    from agent.understand import bind
    from sim.goals import check, evaluate, read_world, start_poses
    from sim.goals.plan import plan_moves
    from sim.scenes import build_scene, parse_objects

    specs = parse_objects(spec)
    spec_text = spec if isinstance(spec, str) else ", ".join(spec)
    n = DEFAULT_DISTRACTORS if distractors is None else distractors
    held_true, infeasible = None, 0
    for attempt in range(SCENE_TRIES):
        rng = np.random.default_rng([seed, attempt])
        layout = build_scene(world, specs, rng, n)
        state = read_world(world, start_poses(world))
        formula = goal if goal is not None else bind(reading, state.descriptions)
        g = check(formula, state)  # GoalError (refused) is the same on every sample
        if evaluate(g, state).value:
            held_true = g.text
            continue
        # Fixed objects (bowls, plates, trays) never move: the scene must be one where some
        # placement makes the goal hold, so that it asks what can be done.
        if plan_moves(g, state, seed) is not None:
            return Setup(
                "",
                "words",
                seed,
                tuple(state.descriptions),
                g.text,
                tuple(layout.to_json()["objects"]),
                tuple(state.to_json()),
                spec_text,
            )
        infeasible += 1
        if infeasible >= FEASIBLE_TRIES:
            break
    if infeasible:
        raise AgentError(
            f"could not: no placement makes {g.text} hold in any of the {infeasible} scenes "
            f"sampled where it is false (fixed objects stay put; the workspace is {_workspace()})"
        )
    raise AgentError(
        f"the goal already holds in every scene sampled ({SCENE_TRIES}): {held_true} "
        "(doing nothing would pass; ask for a change)"
    )


def _workspace() -> str:
    from sim.geometry import WORKSPACE

    (x0, x1), (y0, y1) = WORKSPACE
    return f"x {x0:.2f}..{x1:.2f} m, y {y0:.2f}..{y1:.2f} m"


def step_goal(kind: str, args: dict) -> str | None:
    """The goal a step of a task kind achieves: its family's goal template, filled in."""
    from sim.families import FAMILIES, task_class
    from sim.goals.formula import fill

    if kind not in FAMILIES:
        return None
    try:
        return fill(task_class(kind).goal_template, args)
    except KeyError:
        return None  # a slot the step does not fill: its goal is not known here


def uncovered(plan, setup: Setup) -> str | None:
    """The goal's literals that no step of `plan` achieves (as text), or None when the
    steps' goals (their families' templates filled in) together cover one disjunct."""
    from sim.goals import State

    texts = [step_goal(step.intent.kind, step.intent.args) for step in plan.steps]
    return uncovered_by([t for t in texts if t], setup.goal, State.from_json(list(setup.start)))


def uncovered_by(step_goals: list[str], goal: str, state) -> str | None:
    """The literals of `goal` that none of `step_goals` achieves (as text), or None when
    together they cover one disjunct of it."""
    from sim.goals import GoalError, check
    from sim.goals.consistency import disjuncts

    done: set = set()
    for text in step_goals:
        try:
            for d in disjuncts(check(text, state).ground):
                done |= {(p, str(a)) for p, a in d}
        except (GoalError, AgentError):
            continue
    best = None
    for d in disjuncts(check(goal, state).ground):
        missing = [("" if p else "not ") + str(a) for p, a in d if (p, str(a)) not in done]
        if not missing:
            return None
        best = best or missing
    return " and ".join(best or ["the goal"])
