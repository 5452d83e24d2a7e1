"""Composite skills for goal templates: write one, prove it on fresh scenes, find it again.

A goal no library skill covers is lifted to its template (`sim.goals.template.lift`:
`left_of(red cube, blue bowl)` -> `left_of(?a, ?b)`). The skill written for it takes the
template's slots as parameters and works on any scene: it asks the robot API for the
moves that make the goal hold from the scene as it is (`robot.plan`, the goal planner),
carries each out with the library's own skills (`place_on`, `put_in`, `place_at`,
`rotate_by`, `pick_up`, inlined), and plans again, up to `REPLANS` rounds, while the
robot still sees the goal unmet. Its docstring files it: `Goal:` (the template), `Scene:`
(the objects it was first asked on) and `Example goal:`.

The Evaluator proves it on scenes generated from the template (`evaluation_jobs`): the
first scene's objects recolored by a random permutation of the colors (every color group
kept together, every description unique), laid out afresh with 0-2 distractors, the goal
false at the start, never the run's own scene. Stats are kept under the template's text,
so the next goal of the same shape finds the skill structurally (`find`) and reuses it
with the new goal's slot values as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from agent.errors import AgentError
from skills.store import GOAL_LINE

REPLANS = 3
SWAPS = (("cube", "cylinder"), ("plate", "pad"))  # kinds of object an evaluation scene may exchange
# where a skill is filed: lines of its entry's docstring, or comment lines (`# Goal: ...`)
SCENE_LINE = re.compile(r"^\s*(?:#\s*)?Scene:\s*(.+?)\s*$", re.M)
EXAMPLE_LINE = re.compile(r"^\s*(?:#\s*)?Example goal:\s*(.+?)\s*$", re.M)
# The library skills a composite carries its moves out with, and the robot call each
# stands for when the library has lost it.
MOVE_SKILLS = {
    "place_on": ("obj, target", "robot.place_on(robot.find(obj), robot.find(target))"),
    "put_in": ("obj, bowl", "robot.put_in(robot.find(obj), robot.find(bowl))"),
    "place_at": (
        "obj, x, y, yaw=None",
        "robot.place_at(robot.find(obj), (float(x), float(y)), yaw)",
    ),
    "rotate_by": ("obj, angle", "robot.rotate(robot.find(obj), float(angle))"),
    "pick_up": ("obj", "robot.pick(robot.find(obj))"),
}
_DISPATCH = '''def run_move(robot, move):
    """Carry out one planned move with the library's skills."""
    obj = move["object"]
    if move["kind"] == "place_on":
        place_on(robot, obj, move["target"])
    elif move["kind"] == "put_in":
        put_in(robot, obj, move["target"])
    elif move["kind"] == "rotate":
        rotate_by(robot, obj, move["degrees"])
    elif move["kind"] == "pick":
        pick_up(robot, obj)
    else:
        place_at(robot, obj, move["x"], move["y"], move["yaw"])
'''


def composite_code(name: str, template, spec: str, instruction: str, library) -> str:
    """The source of a composite skill for `template` (a `sim.goals.template.Template`)."""
    from sim.goals.formula import SLOT

    params = ", ".join(k for k, _ in template.slots)
    goal = SLOT.sub(r"{\1}", template.text)  # an f-string over the parameters
    doc = (
        f'    """Make the goal `{template.text}` hold for the objects given: plan the moves from\n'
        f"    the scene as it is, carry them out with library skills, plan again if needed.\n\n"
        f"    Goal: {template.text}\n    Scene: {spec}\n    Example goal: {template.fill()}\n\n"
        f'    Examples:\n        {" ".join(instruction.split())}\n    """'
    )
    entry = (
        f"def {name}(robot, {params}):\n{doc}\n"
        f'    goal = f"{goal}"\n'
        f"    for attempt in range({REPLANS}):\n"
        f"        moves = robot.plan(goal)\n"
        f"        if not moves:\n            return\n"
        f"        for move in moves:\n            run_move(robot, move)\n"
    )
    return "\n\n".join([entry, _DISPATCH, *(_move_skill(library, s) for s in MOVE_SKILLS)])


def _move_skill(library, name: str) -> str:
    """A move skill's code: the library's latest verified version, else the plain call."""
    from skills.errors import SkillError

    try:
        v = library.get(name)
        if v.verified:
            return v.code.strip() + "\n"
    except SkillError:
        pass
    args, call = MOVE_SKILLS[name]
    return f'def {name}(robot, {args}):\n    """{name.replace("_", " ")}."""\n    {call}\n'


def merge_sources(codes: list[str]) -> str:
    """Several skills' code as one module: each import and function once (a helper two
    skills share, such as the inlined `place_on`, is kept once). Raises AgentError when
    two of them define one name differently."""
    import ast

    kept: dict[str, tuple[str, str]] = {}  # name -> (ast dump, source)
    imports: dict[str, str] = {}
    for code in codes:
        for node in ast.parse(code).body:
            src = ast.get_source_segment(code, node) or ast.unparse(node)
            if isinstance(node, ast.Import | ast.ImportFrom):
                imports.setdefault(ast.unparse(node), src)
            elif isinstance(node, ast.FunctionDef):
                dump = ast.dump(node)
                if node.name in kept and kept[node.name][0] != dump:
                    raise AgentError(f"two skills of the plan define {node.name!r} differently")
                kept.setdefault(node.name, (dump, src))
    return (
        "\n".join(imports.values())
        + ("\n\n" if imports else "")
        + "\n\n\n".join(src for _, src in kept.values())
        + "\n"
    )


def find(library, text: str, pass_bar: float, evidence=None):
    """The verified skill filed under goal template `text` with enough evidence, or None:
    of each skill its newest verified version (a newer unverified one never hides it).

    With `evidence` (`agent.evaluate.evidence.Evidence`) a version whose recent real runs
    contradict its stats is passed over until a newer verification passes (the reuse
    rule of `agent.evaluate.evidence`)."""
    best = None
    for info in library.list():
        if info.latest.goal_template != text:
            continue
        verified = [x for x in library.history(info.name) if x.verified and x.goal_template == text]
        if not verified:
            continue
        v = library.get(info.name, verified[-1].version)  # with its stats
        episodes, successes = v.stats.get(text, (0, 0))
        good = episodes and successes / episodes >= pass_bar
        if good and evidence is not None:
            good = evidence.doubt(v, text, pass_bar) is None
        if good and (best is None or successes > best.stats[text][1]):
            best = v
    return best


def free_name(library, template) -> str:
    """`template.name`, or `<name>_2`, `_3`... when a skill of another goal has it."""
    from skills.errors import SkillError

    name, k = template.name, 1
    while True:
        try:
            v = library.get(name)
        except SkillError:
            return name
        if v.goal_template == template.text:
            return name  # a new version of the same template's skill
        k += 1
        name = f"{template.name[:60]}_{k}"


def filing(template, spec: str) -> str:
    """Comment lines that file code under a template (for code whose docstring does not)."""
    return f"# Goal: {template.text}\n# Scene: {spec}\n# Example goal: {template.fill()}\n"


def evaluation_jobs(
    world, code: str, entry: str, n: int, timeout: float, seeds: Sequence[int] | None = None
) -> list:
    """`n` evaluation episodes of a skill filed under a goal template, on scenes made
    from the template.

    Seeds are drawn afresh (CSPRNG, the reserved evaluation range: `agent.evaluate.
    evaluator.draw_seeds`) unless `seeds` are given (trusted code reproducing a verdict
    from the seeds stored with it). Scene for seed s: the skill's `Scene:` objects and
    `Example goal:` recolored by a permutation drawn from s, each kind of object swapped with its like half the time
    (cubes with cylinders, plates with pads; not when the goal picks out a set by its
    words), plus 0-2 distractors, laid out until the goal is false and some placement
    makes it hold (`agent.run.setup.words_setup`). Scenes that cannot be built are skipped
    (up to 3n tried).
    """
    from agent.evaluate.evaluator import Job, check_eval_seeds, draw_seeds
    from agent.run.setup import words_setup
    from sim.errors import SimError
    from sim.goals.template import lift, recolor
    from sim.objects import COLORS

    text, spec, example = (_line(rx, code) for rx in (GOAL_LINE, SCENE_LINE, EXAMPLE_LINE))
    template = lift(example)
    if template.text != text:
        raise AgentError(f"the skill's example goal {example!r} is not an instance of {text!r}")
    jobs: list = []
    colors = list(COLORS)
    sets = "all(" in text or "any(" in text
    for seed in draw_seeds(3 * n) if seeds is None else check_eval_seeds(seeds):
        if len(jobs) == n:
            break
        rng = np.random.default_rng([seed, 7])
        perm = dict(zip(colors, (str(c) for c in rng.permutation(colors)), strict=True))
        swap = (
            {}
            if sets
            else {a: b for pair in SWAPS if rng.uniform() < 0.5 for a, b in (pair, pair[::-1])}
        )

        def respell(text: str, perm=perm, swap=swap) -> str:
            return _reshape(recolor(text, perm), swap)

        values = {k: respell(v) if isinstance(v, str) else v for k, v in template.slots}
        try:
            setup = words_setup(
                world, respell(spec), seed, int(rng.integers(0, 3)), template.fill(values)
            )
        except (AgentError, SimError):
            continue
        jobs.append(
            Job(code, entry, None, seed, values, timeout, scene=list(setup.layout), goal=setup.goal)
        )
    if not jobs:
        raise AgentError(f"no evaluation scene could be built for {text}")
    return jobs


def _reshape(text: str, swap: dict[str, str]) -> str:
    """`text` with the shape words of `swap` exchanged ("small cube" is a shape of its own)."""
    if not swap:
        return text
    rx = re.compile(r"(?<!small )\b(" + "|".join(swap) + r")\b")
    return rx.sub(lambda m: swap[m.group(1)], text)


def template_jobs(scenes, version, key: str, n: int) -> list | None:
    """`skills verify`'s episodes for a version filed under goal template `key` (None
    when `key` is not the template it is filed under)."""
    from agent.evaluate.evaluator import DEFAULT_TIMEOUT

    if version.goal_template != key:
        return None
    return evaluation_jobs(scenes.world, version.code, version.name, n, DEFAULT_TIMEOUT)


def _line(rx: re.Pattern, code: str) -> str:
    m = rx.search(code)
    if m is None:
        raise AgentError(
            f"the skill's docstring has no {rx.pattern.split(':')[0].split('*')[-1]}: line"
        )
    return m.group(1)
