"""Prompts for goals: the scene as a table, the goal language's predicates, a skill for a
goal template, feedback on failed runs, and a goal formula from an instruction.

Everything a model needs to write code for a goal is stated (from the trial with a real
model, issue 15): the frame, every object of the scene with its pose and size
(`scene_table`), what each predicate of the goal means with its tolerances (from the
predicate registry and its modules' documentation), the robot API with its limits,
measured accuracies and exceptions (`agent.llm.prompts.api_reference`), what each retrieved
library skill does (signature, goal template, description, code) and, on a retry, each
false atom with its numbers and what the robot did (`goal_feedback`). Templates:
`agent/llm/prompts/goal_code.txt`, `goal_write_system.txt`, `goal_write.txt`.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence

from agent.errors import AgentError
from agent.llm.prompts import Prompt, render, system_prompt


def scene_table(state) -> str:
    """Every object of a scene as a table: description, x, y, z (m), yaw (deg), size w x d x h
    (m) and notes (movable or fixed, round, in the gripper, tipped over).

    Args:
        state: a `sim.goals.State` (or its JSON form, `State.to_json()`).
    """
    from sim.goals import State
    from sim.goals.predicates import UPRIGHT_TOL

    if isinstance(state, list | tuple):
        state = State.from_json(list(state))
    if not state.bodies:
        return "(no objects)"
    rows = [
        "| object | x (m) | y (m) | z (m) | yaw (deg) | size w x d x h (m) | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for b in state.bodies:
        s = b.shape
        x, y, z, yaw = b.pose
        notes = ["movable" if s.graspable else "fixed"]
        if s.symmetry == 0:
            notes.append("round")
        if b.held:
            notes.append("in the gripper")
        if b.tilt >= UPRIGHT_TOL:
            notes.append(f"tipped over ({math.degrees(b.tilt):.0f} deg)")
        size = f"{2 * s.footprint[0]:.3f} x {2 * s.footprint[1]:.3f} x {s.height:.3f}"
        yaw_text = "-" if s.symmetry == 0 else _num(math.degrees(yaw), 1)
        xyz = " | ".join(_num(v) for v in (x, y, z))
        rows.append(f"| {b.description} | {xyz} | {yaw_text} | {size} | {', '.join(notes)} |")
    return "\n".join(rows)


def predicate_reference(names: Iterable[str] | None = None, *, tolerances: bool = False) -> str:
    """`signature: meaning` of the predicates `names` (default: all), from the registry;
    with `tolerances`, each one's tolerances from its module's documentation."""
    from sim.goals import load

    preds = load()
    wanted = sorted(preds) if names is None else sorted({n for n in names if n in preds})
    lines = [f"- {preds[n].signature()}: {preds[n].doc}" for n in wanted]
    if tolerances:
        notes = list(dict.fromkeys(note for n in wanted if (note := _tolerance(preds[n]))))
        if notes:
            lines += ["", "Tolerances:", *notes]
    return "\n".join(lines)


def goal_frame() -> str:
    """The frame and the rules every spatial predicate shares."""
    from sim.goals import FRAME

    return (
        f"{FRAME} An object still in the gripper or resting on nothing satisfies no spatial "
        "relation, and a relation between a and b means neither rests on the other."
    )


def goal_code_prompt(
    name: str,
    template: str,
    slots: Mapping[str, object] | Sequence,
    goal_text: str,
    state,
    skills: Sequence = (),
    feedback: str | None = None,
    *,
    previous_code: str | None = None,
    api: str | None = None,
) -> Prompt:
    """Ask for ONE function `def <name>(robot, <slots>)` that makes a goal template hold.

    Args:
        name: the skill's name (made from the template, e.g. "put_left_of").
        template: the goal template, e.g. "left_of(?a, ?b)".
        slots: the slots in parameter order with their values on this scene, e.g.
            {"a": "red cube", "b": "blue bowl"} (or `Template.slots` pairs, or just names).
        goal_text: the goal on this scene, e.g. "left_of(red cube, blue bowl)".
        state: the scene (`sim.goals.State`): every object with its pose and size.
        skills: retrieved library skills (`SkillVersion`s, `Example`s or (name, code,
            description)), closest first: each is shown with its signature, goal template
            (if it has one), description and code.
        feedback: on a retry, what went wrong with the previous attempt (`goal_feedback`).
        previous_code: on a retry, the previous attempt's code.
        api: the API reference (default: generated from `Robot`).
    """
    bound = slot_values(slots)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name or ""):
        raise AgentError(f"a skill name is snake_case, got {name!r}")
    params = ", ".join(bound)
    call = ", ".join(f"{k}={v!r}" for k, v in bound.items() if v is not None)
    notes = [
        f"- `{k}`: {_slot_kind(v)}" + (f", here {v!r}" if v is not None else "")
        for k, v in bound.items()
    ]
    retry = ""
    if feedback is not None or previous_code:
        code = f"```python\n{previous_code.strip(chr(10))}\n```\n" if previous_code else ""
        said = (feedback or "").strip() or "(no details: the goal did not hold)"
        retry = f"\nYour previous attempt did not work.\n{code}What went wrong:\n{said}\n\nFind the cause and fix it.\n"
    user = render(
        "goal_code",
        skill=name,
        template=template.strip(),
        goal=goal_text.strip(),
        call=f"{name}(robot{', ' if call else ''}{call})",
        slot_notes="Parameters:\n" + "\n".join(notes) if notes else "",
        predicates=predicate_reference(_predicate_names(goal_text, template), tolerances=True),
        frame=goal_frame(),
        scene=scene_table(state),
        skills=_skill_cards(skills),
        feedback=retry,
        params=params,
    )
    return Prompt(system_prompt(api), user)


def goal_feedback(results, limit: int = 30) -> str:
    """What went wrong in sandboxed run(s) of a skill, for the next prompt.

    Args:
        results: one `skills.sandbox.SandboxResult` or several (episodes of one
            evaluation): status, reason, goal, atoms ({"atom", "value", "margin", "unit",
            "detail"}), output, objects, and `calls` (the robot API calls made) if present.
        limit: the most robot calls shown.

    Returns:
        The first failed episode in full: its error, each FALSE atom with its numbers, the
        end poses of the objects those atoms name, the robot calls; then counts for the
        other failed episodes. "" when every episode succeeded.
    """
    runs = [results] if _field(results, "status") is not None else list(results)
    failed = [r for r in runs if not (_field(r, "status") == "ok" and _field(r, "success"))]
    if not failed:
        return ""
    lines = [f"{len(failed)} of {len(runs)} episodes failed; the first:"] if len(runs) > 1 else []
    lines += _one_feedback(failed[0], limit)
    counts: dict[str, int] = {}
    for r in failed[1:]:
        for why in _failure_kinds(r):
            counts[why] = counts.get(why, 0) + 1
    if counts:
        lines.append("The other failed episodes:")
        lines += [f"- {n} episode{'s' if n > 1 else ''}: {why}" for why, n in counts.items()]
    return "\n".join(lines)


def goal_plan_prompt(
    instruction: str, goal_text: str, state, skills: Sequence = (), error: str | None = None
) -> Prompt:
    """Ask for the steps of a goal, each with its own goal formula (a JSON list).

    Args:
        instruction: what the person said.
        goal_text: the whole goal, checked, over the scene's descriptions.
        state: the scene (`sim.goals.State`).
        skills: library skills to show by name, goal template and description (no code).
        error: on a retry, why the previous plan was refused.
    """
    cards = []
    for s in skills:
        template = getattr(s, "goal_template", None)
        line = f"- {s.name}" + (f" (goal template {template})" if template else "")
        cards.append(line + f": {' '.join(str(s.description).split())}")
    shown = "Skills in the library:\n" + "\n".join(cards) + "\n" if cards else ""
    retry = f"\nYour previous plan was refused: {error}\n" if error else ""
    user = render(
        "goal_plan",
        instruction=instruction.strip(),
        goal=goal_text.strip(),
        predicates=predicate_reference(_predicate_names(goal_text, goal_text)),
        frame=goal_frame(),
        scene=scene_table(state),
        skills=shown,
        retry=retry,
    )
    return Prompt(render("goal_plan_system"), user)


def goal_writing_prompt(
    instruction: str, state, error: str | None = None, *, previous: str | None = None
) -> Prompt:
    """Ask for the goal formula (text form) an instruction means on this scene.

    Args:
        instruction: what the person said.
        state: the scene (`sim.goals.State`).
        error: on a retry, why the previous formula was refused.
        previous: on a retry, the previous formula (or reply).
    """
    from sim.goals import sets

    set_doc = inspect.getdoc(sets).split("\n\n")[1]
    system = render(
        "goal_write_system",
        sets="\n".join(f"  {line}" for line in set_doc.splitlines()),
        predicates=predicate_reference(),
        frame=goal_frame(),
    )
    retry = ""
    if error:
        was = f"Your previous answer: {previous.strip()}\n" if previous and previous.strip() else ""
        retry = f"\n{was}It was refused: {error.strip()}\nCorrect it.\n"
    user = render(
        "goal_write", instruction=instruction.strip(), scene=scene_table(state), retry=retry
    )
    return Prompt(system, user)


def slot_values(slots) -> dict[str, object]:
    """Slot -> value (None when not given) from a mapping, `Template.slots` pairs or names;
    AgentError when a slot cannot be a parameter name."""
    if isinstance(slots, Mapping):
        out = dict(slots)
    else:
        out = {}
        for item in slots:
            k, v = (item, None) if isinstance(item, str) else item
            out[k] = v
    for k in out:
        if not isinstance(k, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", k) or k == "robot":
            raise AgentError(f"a slot becomes a parameter: {k!r} is not a name like a or obj")
    return out


# -- helpers -------------------------------------------------------------------------------


def _num(value: float, digits: int = 3) -> str:
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # no "-0.000"


def _tolerance(pred) -> str:
    """The tolerance text of a predicate from its module's docstring: its own bullets
    ("- on(a, block): ..."), else the module's paragraphs after the summary (not the frame)."""
    doc = inspect.getdoc(sys.modules.get(pred.fn.__module__)) or ""
    bullets: list[list[str]] = []
    taking = False
    for line in doc.splitlines():
        if line.startswith("- "):
            taking = line.startswith(f"- {pred.name}(")
            if taking:
                bullets.append([])
        elif not line.startswith("  "):
            taking = False
        if taking:
            bullets[-1].append(line.strip())
    if bullets:
        return "\n".join(" ".join(b) for b in bullets)
    paragraphs = doc.split("\n\n")[1:]
    keep = [" ".join(p.split()) for p in paragraphs if not p.startswith("Frame")]
    keep = [re.sub(r"^Tolerances:\s*", "", k) for k in keep]
    names = ", ".join(_siblings(pred))
    return f"- {names}: " + " ".join(keep) if keep else ""


def _siblings(pred) -> list[str]:
    from sim.goals import load

    return [p.name for p in load().values() if p.fn.__module__ == pred.fn.__module__]


def _predicate_names(goal_text: str, template: str) -> list[str]:
    from sim.goals import GoalError, atoms, parse

    try:
        return [a.pred for a in atoms(parse(goal_text))]
    except GoalError:
        return re.findall(r"([a-z_][a-z0-9_]*)\s*\(", f"{goal_text} {template}")


def _slot_kind(value: object) -> str:
    from sim.objects import COLORS

    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    if isinstance(value, str) and value in COLORS:
        return "a color word"
    if value is None:
        return "the slot's value"
    return "an object's description (turn it into an object with robot.find)"


def _skill_cards(skills: Sequence) -> str:
    if not skills:
        return ""
    from skills.store import GOAL_LINE

    cards = []
    for i, s in enumerate(skills, 1):
        if isinstance(s, tuple):  # (name, code, description)
            name, code, description = (str(x or "") for x in s)
        else:
            name, code = str(getattr(s, "name", "")), str(getattr(s, "code", "") or "")
            description = str(getattr(s, "description", "") or "")
        template = getattr(s, "goal_template", None)
        if not template:
            m = GOAL_LINE.search(code) or GOAL_LINE.search(description)
            template = m.group(1) if m else None
        description = " ".join(description.split())
        lines = [f"{i}. {name}{_code_signature(code, name, s)}"]
        if template:
            lines.append(f"   Goal: {template}")
        if description:
            lines.append(f"   {description}")
        if code.strip():
            lines.append(f"```python\n{code.strip()}\n```")
        cards.append("\n".join(lines))
    head = (
        "\nSkills in the library, closest first. They cannot be called by name from your "
        "code: copy what you reuse (with its helpers) into your code block.\n\n"
    )
    return head + "\n\n".join(cards) + "\n"


def _code_signature(code: str, name: str, skill) -> str:
    try:
        for node in ast.parse(code).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return f"({ast.unparse(node.args)})"
    except SyntaxError:
        pass
    params = [getattr(p, "name", p) for p in getattr(skill, "params", ()) or ()]
    return f"(robot{''.join(f', {p}' for p in params)})"


def _field(result, key: str, default=None):
    if isinstance(result, Mapping):
        return result.get(key, default)
    return getattr(result, key, default)


def _false_atoms(result) -> list:
    """The atoms (dicts, or `AtomResult`s) that were false."""
    return [a for a in _field(result, "atoms", ()) or () if not _field(a, "value")]


def _atom_args(atom) -> list[str]:
    """The arguments of an atom's text: "on(red cube, blue plate)" -> ["red cube", "blue plate"]."""
    m = re.search(r"\((.*)\)", str(atom or ""))
    return [x.strip() for x in m.group(1).split(",")] if m else []


def _margin(atom) -> str:
    m, unit = _field(atom, "margin"), _field(atom, "unit", "m")
    if not isinstance(m, int | float):
        return ""
    return f" (off by {100 * -m:.1f} cm)" if unit == "m" else f" (off by {-m:.1f} {unit})"


def _one_feedback(r, limit: int) -> list[str]:
    status, reason = _field(r, "status"), (_field(r, "reason") or "").strip()
    lines = []
    if status == "rejected":
        lines.append(f"The code was rejected before it ran: {reason}")
    elif status == "timeout":
        lines.append(f"The run was stopped: {reason or 'it took too long'}")
    elif status != "ok":
        lines.append(f"The skill raised an exception, which ended the run: {reason}")
    goal, atoms = _field(r, "goal"), list(_field(r, "atoms", ()) or ())
    false = _false_atoms(r)
    if goal and status != "rejected":
        met = "met" if _field(r, "success") else "not met"
        lines.append(f"The goal {goal} was {met} at the end.")
    if false:
        lines.append("False at the end:")
        lines += [f"- {_field(a, 'atom')}: {_field(a, 'detail', '')}{_margin(a)}" for a in false]
    held = [str(_field(a, "atom")) for a in atoms if _field(a, "value")]
    if held and false:
        lines.append("True at the end: " + "; ".join(held))
    named = {x for a in false for x in _atom_args(_field(a, "atom"))}
    ends = [o for o in _field(r, "objects", None) or () if o.get("description") in named]
    if ends:
        lines.append("Those objects, start -> end [x, y, z (m), yaw (deg)]:")
        lines += [f"- {o['description']}: {o.get('start')} -> {o.get('end')}" for o in ends]
    calls = _field(r, "calls", None)
    if calls:
        shown = list(calls)[-limit:]
        more = f" (the last {limit} of {len(calls)})" if len(calls) > limit else ""
        lines.append(f"Robot calls the skill made{more}:")
        lines += [f"- {_call_text(c)}" for c in shown]
    output = (_field(r, "output") or "").strip()
    if output:
        lines.append(f"What it printed:\n{output[:1000]}")
    return lines or ["The goal did not hold at the end."]


def _failure_kinds(r) -> list[str]:
    status, reason = _field(r, "status"), " ".join(str(_field(r, "reason") or "").split())
    out = [f"{status}, {reason[:160]}"] if status != "ok" else []
    out += [f"{str(_field(a, 'atom', '')).split('(')[0]} false" for a in _false_atoms(r)]
    return out or ["the goal did not hold"]


def _call_text(call) -> str:
    if isinstance(call, str):
        return call
    if isinstance(call, Mapping):
        method = call.get("method") or call.get("name") or call.get("call") or "?"
        args = call.get("args", "")
        if isinstance(args, list | tuple):
            args = ", ".join(repr(a) for a in args)
        elif isinstance(args, Mapping):
            args = ", ".join(f"{k}={v!r}" for k, v in args.items())
        text = f"{method}({args})"
        if call.get("error"):
            text += f" -> raised {call['error']}"
        elif call.get("result") is not None:
            text += f" -> {call['result']}"
        return text
    return repr(call)
