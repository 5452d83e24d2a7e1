"""Prompts for the planner and the skill writer: templates in `agent/llm/prompts/*.txt`.

Templates are plain text with `$name` placeholders (`string.Template`), loaded by name
(`load_prompt("retry")`). What they state about the world is generated from the code, so
it cannot drift from it: the robot API reference from the public methods of
`skills.robot.Robot` (signatures and docstrings) and the `SkillError` messages its source
raises; the frame (`sim.goals.FRAME`), object sizes (`sim.objects.SHAPES`), the limits
(`skills.robot.TABLE`, `sim.geometry.WORKSPACE`). The accuracy of place_at and push is
measured (`PLACE_ACCURACY`, `PUSH_ACCURACY`). Builders return a `Prompt` (system + user
text) for `LLM.complete`; the goal side (scene table, skill for a goal template, feedback,
goal writing) is in `agent.llm.goal_prompts`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from agent.errors import AgentError


@dataclass(frozen=True)
class Prompt:
    """A system message and a user message."""

    system: str
    user: str

    @property
    def messages(self) -> list[tuple[str, str]]:
        """The (role, text) pairs `LLM.complete` takes."""
        return [("system", self.system), ("user", self.user)]


@dataclass(frozen=True)
class Example:
    """A library skill shown to the LLM: its name, source code and description."""

    name: str
    code: str
    description: str = ""


@dataclass(frozen=True)
class Accuracy:
    """How far the object's center ends from the (x, y) a move was asked for, meters."""

    mean: float
    p95: float  # 95th percentile
    worst: float
    trials: int
    failed: int = 0  # moves that raised SkillError (left out of the figures)


# Measured with `python scripts/measure_accuracy.py --places 100 --pushes 50 --seed 1000`
# on 2026-12-06 (random scenes, oracle poses; benchmarks/RESULTS.md).
PLACE_ACCURACY = Accuracy(mean=0.0042, p95=0.0054, worst=0.0062, trials=100)
PUSH_ACCURACY = Accuracy(mean=0.0080, p95=0.0152, worst=0.0203, trials=50, failed=1)
ACCURACY_SOURCE = "measured with scripts/measure_accuracy.py on random scenes"


@dataclass(frozen=True)
class Method:
    """One public robot method as the API reference shows it."""

    name: str
    signature: str  # e.g. "place_on(obj: Obj, target: Obj) -> None"
    doc: str


def load_prompt(name: str) -> str:
    """The text of `agent/llm/prompts/<name>.txt`; AgentError if there is no such prompt."""
    if not name.replace("_", "").isalnum():
        raise AgentError(f"bad prompt name {name!r}")
    path = resources.files("agent.llm").joinpath("prompts", f"{name}.txt")
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AgentError(f"no prompt named {name!r}") from None


def render(name: str, **values: object) -> str:
    """Fill the `$placeholders` of a prompt file; every placeholder must be given."""
    try:
        text = string.Template(load_prompt(name)).substitute({k: str(v) for k, v in values.items()})
    except KeyError as exc:
        raise AgentError(f"prompt {name!r} needs a value for {exc.args[0]!r}") from None
    return _tidy(text)


@functools.cache
def robot_methods() -> tuple[Method, ...]:
    """The public methods of `skills.robot.Robot`, in the order the class defines them."""
    from skills.robot import Robot

    methods = []
    for name, member in vars(Robot).items():
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        methods.append(Method(name, f"{name}{_signature(member)}", inspect.getdoc(member) or ""))
    return tuple(methods)


@functools.cache
def api_reference() -> str:
    """The robot API as the LLM sees it: conventions, then `robot.method(sig)` and its docstring."""
    from sim.goals.state import FRAME
    from skills import robot as robot_module

    parts = []
    if robot_module.__doc__:
        parts.append(inspect.cleandoc(robot_module.__doc__))
    parts.append(FRAME)
    obj_doc = inspect.getdoc(robot_module.Obj)
    if obj_doc:
        parts.append(f"Obj: {obj_doc}")
    for m in robot_methods():
        doc = "\n".join(f"    {line}" if line else "" for line in m.doc.splitlines())
        parts.append(f"robot.{m.signature}\n{doc}" if doc else f"robot.{m.signature}")
    parts.append(api_facts())
    return "\n\n".join(parts)


@functools.cache
def api_facts() -> str:
    """Sizes, limits, measured accuracies and the exceptions of the robot API."""
    from sim.geometry import WORKSPACE
    from sim.objects import SHAPES
    from skills import robot as robot_module

    def span(lo: float, hi: float) -> str:
        return f"{lo:.2f}..{hi:.2f}"

    sizes = []
    for s in SHAPES.values():
        w, d, h = 2 * s.footprint[0], 2 * s.footprint[1], s.height
        kind = ("round, " if s.symmetry == 0 else "") + ("movable" if s.graspable else "fixed")
        sizes.append(f"- {s.name}: {w:.3f} x {d:.3f} x {h:.3f} ({kind})")
    (tx, ty), (wx, wy) = robot_module.TABLE, WORKSPACE
    place, push = PLACE_ACCURACY, PUSH_ACCURACY
    text = render(
        "api_facts",
        sizes="\n".join(sizes),
        fixed=", ".join(f"{s.name}s" for s in SHAPES.values() if not s.graspable),
        table_x=span(*tx),
        table_y=span(*ty),
        workspace_x=span(*wx),
        workspace_y=span(*wy),
        z_range="0.005..0.6",
        max_motions=robot_module.MAX_MOTIONS,
        accuracy_source=ACCURACY_SOURCE,
        place_mean=_cm(place.mean),
        place_p95=_cm(place.p95),
        place_worst=_cm(place.worst),
        place_trials=place.trials,
        push_mean=_cm(push.mean),
        push_p95=_cm(push.p95),
        push_worst=_cm(push.worst),
        push_trials=push.trials,
        push_failed=push.failed,
        errors="\n".join(f"- {m}" for m in skill_errors()),
    )
    return text.strip()


@functools.cache
def skill_errors() -> tuple[str, ...]:
    """The messages `skills/robot.py` raises SkillError with, in source order; the parts
    filled at run time shown as <name> (constants filled in)."""
    from skills import robot as robot_module

    tree = ast.parse(inspect.getsource(robot_module))
    consts = {k: v for k, v in vars(robot_module).items() if type(v) in (int, float)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        call = node.exc if isinstance(node, ast.Raise) else None
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "SkillError"):
            continue
        if call.args and (text := _message_text(call.args[0], consts)):
            found.append((node.lineno, text))
    return tuple(dict.fromkeys(t for _, t in sorted(found)))


def _message_text(node: ast.AST, consts: Mapping[str, object]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    out = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.append(str(part.value))
            continue
        e = part.value
        if isinstance(e, ast.Name) and e.id in consts:
            out.append(str(consts[e.id]))
        elif isinstance(e, ast.Attribute) and e.attr == "__name__":
            out.append("<type>")
        elif isinstance(e, ast.Name | ast.Attribute):
            name = f"<{e.id if isinstance(e, ast.Name) else e.attr}>"
            out.append(f"'{name}'" if part.conversion == ord("r") else name)
        else:
            out.append("<...>")
    return "".join(out)


def system_prompt(api: str | None = None) -> str:
    """The skill writer's system message: the rules for skill code and the API reference."""
    return render("system", api=api if api is not None else api_reference())


def synthesis_prompt(
    task_instruction: str,
    scene_objects: Sequence[str],
    examples: Sequence[Example | tuple[str, str, str]] = (),
    api: str | None = None,
    *,
    name: str | None = None,
    params: Mapping[str, str] | None = None,
) -> Prompt:
    """Ask for a new skill: the task, the scene, a few library skills as examples.

    Args:
        task_instruction: the task in plain language, e.g. "stack the red cube on the blue cube".
        scene_objects: descriptions of the objects in the scene.
        examples: library skills that show the API in use (name, code, description).
        api: the API reference (default: generated from `Robot`).
        name: the function name the skill must have, if the caller has chosen one.
        params: the keyword arguments the skill will be called with, e.g.
            {"top": "red cube", "base": "blue cube"}.
    """
    shown = [_example(e) for e in examples]
    block = ""
    if shown:
        block = (
            "\nSkills from the library that show how the API is used:\n\n"
            + "\n\n".join(_show(e) for e in shown)
            + "\n"
        )
    user = render(
        "synthesize",
        instruction=task_instruction.strip(),
        scene=_scene(scene_objects),
        call=_call(name, params),
        examples=block,
    )
    return Prompt(system_prompt(api), user)


def adapt_prompt(
    task_instruction: str,
    scene_objects: Sequence[str],
    skills: Sequence[Example | tuple[str, str, str]],
    api: str | None = None,
    *,
    name: str | None = None,
    params: Mapping[str, str] | None = None,
) -> Prompt:
    """Ask to adapt the top-k retrieved skills (closest first) to a new task."""
    shown = [_example(e) for e in skills]
    if not shown:
        raise AgentError("adapt_prompt needs at least one retrieved skill")
    user = render(
        "adapt",
        instruction=task_instruction.strip(),
        scene=_scene(scene_objects),
        call=_call(name, params),
        skills="\n\n".join(f"{i}. {_show(e)}" for i, e in enumerate(shown, 1)),
    )
    return Prompt(system_prompt(api), user)


def retry_prompt(
    previous_code: str,
    error_or_failed_check: str,
    evaluator_observation: str = "",
    *,
    task_instruction: str = "",
    scene_objects: Sequence[str] = (),
    name: str | None = None,
    params: Mapping[str, str] | None = None,
    api: str | None = None,
) -> Prompt:
    """Ask to fix code that failed (Voyager-style): previous code, its error, what was seen.

    Args:
        previous_code: the code that was run.
        error_or_failed_check: the exception or the failed success check, e.g.
            "SkillError: nothing in the scene matches 'red block'" or "the red cube is not
            on the blue cube (3.2 cm off)".
        evaluator_observation: what the evaluator saw (final poses, pass rate), if anything.
        task_instruction, scene_objects, name, params, api: as in `synthesis_prompt`.
    """
    error = error_or_failed_check.strip() or "(no error message: the task's success check failed)"
    observation = evaluator_observation.strip()
    user = render(
        "retry",
        instruction=task_instruction.strip() or "(as before)",
        scene=_scene(scene_objects),
        call=_call(name, params),
        code=previous_code.strip("\n"),
        error=error,
        observation=f"\nWhat the evaluator observed:\n{observation}\n" if observation else "",
    )
    return Prompt(system_prompt(api), user)


def plan_prompt(
    instruction: str, scene_objects: Sequence[str], known_skills: Sequence[str] = ()
) -> Prompt:
    """Ask for the steps of an instruction as a JSON list of strings.

    Args:
        instruction: the user's instruction.
        scene_objects: descriptions of the objects in the scene.
        known_skills: optional "name: description" lines for skills already in the library.
    """
    capabilities = ", ".join(m.signature.split(" ->")[0] for m in robot_methods())
    skills = ""
    if known_skills:
        skills = (
            "\nSkills in the library:\n" + "\n".join(f"- {s.strip()}" for s in known_skills) + "\n"
        )
    user = render(
        "plan", instruction=instruction.strip(), scene=_scene(scene_objects), skills=skills
    )
    return Prompt(render("plan_system", capabilities=capabilities), user)


# -- helpers -------------------------------------------------------------------------------


def _signature(func) -> str:
    sig = inspect.signature(func)
    params = []
    for p in list(sig.parameters.values())[1:]:  # drop self
        text = p.name
        if p.annotation is not inspect.Parameter.empty:
            text += f": {_annotation(p.annotation)}"
        if p.default is not inspect.Parameter.empty:
            text += (
                f" = {p.default!r}"
                if p.annotation is not inspect.Parameter.empty
                else f"={p.default!r}"
            )
        params.append(text)
    out = f"({', '.join(params)})"
    if sig.return_annotation is not inspect.Signature.empty:
        out += f" -> {_annotation(sig.return_annotation)}"
    return out


def _annotation(ann: object) -> str:
    if isinstance(ann, str):
        return ann
    if isinstance(ann, type):
        return ann.__name__
    return str(ann).replace("typing.", "")


def _example(e: Example | tuple[str, str, str]) -> Example:
    if isinstance(e, Example):
        return e
    try:
        name, code, description = e
    except (TypeError, ValueError):
        raise AgentError("a prompt example is (name, code, description)") from None
    return Example(str(name), str(code), str(description or ""))


def _show(e: Example) -> str:
    head = f"{e.name}: {' '.join(e.description.split())}" if e.description.strip() else e.name
    return f"{head}\n```python\n{e.code.strip()}\n```"


def _scene(objects: Sequence[str]) -> str:
    names = [str(o).strip() for o in objects if str(o).strip()]
    return ", ".join(names) if names else "(not given: call robot.objects() to see them)"


def _call(name: str | None, params: Mapping[str, str] | None) -> str:
    fn = name or "<name>"
    if params:
        args = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"The skill will be called as `{fn}(robot, {args})`.\n"
    if name:
        return f"Name the entry function `{name}`.\n"
    return "Name the entry function after what it does, in snake_case.\n"


def _tidy(text: str) -> str:
    """Collapse runs of blank lines that empty placeholders leave, outside code fences only."""
    lines, blank, fenced = [], 0, False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced:
            lines.append(line)
            blank = 0
            continue
        blank = blank + 1 if not line.strip() else 0
        if blank <= 1:
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


def _cm(meters: float) -> str:
    return f"{100 * meters:.2f}"
