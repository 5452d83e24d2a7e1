"""Prompts for the planner and the skill writer: templates in `agent/prompts/*.txt`.

Templates are plain text with `$name` placeholders (`string.Template`), loaded by name
(`load_prompt("retry")`). The robot API reference in them is generated from the public
methods of `skills.robot.Robot` (signatures and docstrings), so it cannot drift from
the code. Builders return a `Prompt` (system + user text) for `LLM.complete`.
"""

from __future__ import annotations

import functools
import inspect
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from .errors import AgentError


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
class Method:
    """One public robot method as the API reference shows it."""

    name: str
    signature: str  # e.g. "place_on(obj: Obj, target: Obj) -> None"
    doc: str


def load_prompt(name: str) -> str:
    """The text of `agent/prompts/<name>.txt`; AgentError if there is no such prompt."""
    if not name.replace("_", "").isalnum():
        raise AgentError(f"bad prompt name {name!r}")
    path = resources.files("agent").joinpath("prompts", f"{name}.txt")
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
    return "\n\n".join(parts)


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
        block = "\nSkills from the library that show how the API is used:\n\n" + "\n\n".join(
            _show(e) for e in shown
        ) + "\n"  # fmt: skip
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
