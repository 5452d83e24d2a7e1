"""Getting skill code and plans out of LLM replies.

Replies come in many shapes: one ```python block with prose around it, several blocks
(helpers apart from the skill, an old and a fixed version, a usage example), `~~~`
fences, no fence at all, Windows line endings, the whole reply indented, a local
model's `<think>...</think>` preamble. `extract_code` finds the function that takes
`robot` first (the skill's entry), joins the blocks holding the helpers it calls, drops
usage examples at module level, and checks the result parses. `extract_plan` finds the
planner's JSON list of steps; `extract_formula` the goal writer's formula.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import textwrap
from dataclasses import dataclass

from agent.errors import AgentError

PYTHON_LANGS = frozenset({"", "python", "py", "python3", "py3", "python 3"})
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[^\n`]*)\n(?P<body>.*?)(?:^[ \t]*(?P=fence)[ \t]*$|\Z)",
    re.MULTILINE | re.DOTALL,
)
_CODE_START = re.compile(r"^[ \t]*(?:async[ \t]+def|def|import|from[ \t]+[\w.]+[ \t]+import|@\w)\b")
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_STANDARD_IMPORTS = {"np": "import numpy as np", "numpy": "import numpy", "math": "import math"}
_BUILTINS = frozenset(dir(builtins))
_FORMULA_START = re.compile(r"^(?:not\s+)?(?:\(\s*)*(?:[a-z_][a-z0-9_]*\s*\(|\{)", re.IGNORECASE)
_FORMULA_LABEL = re.compile(
    r"^(?:\*\*)?(?:the\s+)?(?:final\s+)?(?:goal|formula|answer)(?:\s+formula)?(?:\*\*)?\s*[:=]\s*(?:\*\*)?",
    re.IGNORECASE,
)
_STEP_KEYS = ("step", "instruction", "description", "task", "action", "text")


@dataclass(frozen=True)
class Extracted:
    """Skill code from a reply and the name of its entry function."""

    code: str
    entry: str
    params: tuple[str, ...] = ()  # the entry's parameters after `robot`


@dataclass(frozen=True)
class _Chunk:
    source: str
    tree: ast.Module

    @property
    def functions(self) -> dict[str, ast.FunctionDef]:
        return {n.name: n for n in self.tree.body if isinstance(n, ast.FunctionDef)}

    @property
    def entries(self) -> list[str]:
        return [name for name, fn in self.functions.items() if _takes_robot(fn)]


def extract_code(reply: str, entry: str | None = None) -> Extracted:
    """The skill code in an LLM reply.

    Args:
        reply: the reply text.
        entry: the entry function's name, if the caller asked for one; preferred when
            the reply defines several functions that take `robot`.

    Returns:
        The code (helpers included, usage examples dropped) and the entry's name.

    Raises:
        AgentError: no function in the reply ("no Python function in the reply"), none
            that takes `robot` first, or code that does not parse (with the line).
    """
    text = _normalize(reply)
    blocks = _fenced(text)
    python_blocks = [body for lang, body in blocks if lang in PYTHON_LANGS]
    other_blocks = [body for lang, body in blocks if lang not in PYTHON_LANGS and "def " in body]
    outside = _FENCE.sub("\n", text) if blocks else text

    syntax_error: str | None = None
    found: list[str] = []
    groups = [
        ("fenced", python_blocks),
        ("fenced", other_blocks),
        ("loose", _loose_regions(outside)),
    ]
    for kind, sources in groups:
        chunks = []
        for source in sources:
            try:
                chunks.append(_parse(source))
            except SyntaxError as exc:
                if kind == "fenced" and syntax_error is None and "def " in source:
                    syntax_error = f"line {exc.lineno}: {exc.msg}"
            except (RecursionError, MemoryError, ValueError):  # nested too deep to parse
                syntax_error = syntax_error or "nested too deeply to parse"
        found += [name for c in chunks for name in c.functions]
        if any(c.entries for c in chunks):
            return _assemble(chunks, entry)
    if syntax_error:
        raise AgentError(f"the code in the reply does not parse: {syntax_error}")
    if found:
        names = ", ".join(dict.fromkeys(found))
        raise AgentError(
            f"the reply defines no function taking `robot` as its first parameter (found: {names})"
        )
    raise AgentError("no Python function in the reply")


def extract_plan(reply: str) -> list[str]:
    """The planner's steps: a JSON list of strings, found in fences or prose.

    Also accepts {"steps": [...]}, a list of {"step": ...} objects, a Python-style list
    with single quotes, and, failing all of those, a numbered or bulleted list.

    Raises:
        AgentError: no list of steps in the reply, or an empty one.
    """
    text = _normalize(reply)
    blocks = [body for _, body in _fenced(text)]
    for candidate in [*blocks, text]:
        steps = _first_list(candidate)
        if steps is not None:
            if not steps:
                raise AgentError("the plan in the reply has no steps")
            return steps
    lines = re.findall(r"^[ \t]*(?:\d+[.)]|[-*\u2022])[ \t]+(.+?)[ \t]*$", text, re.MULTILINE)
    steps = [s for s in (_clean_step(line) for line in lines) if s]
    if steps:
        return steps
    raise AgentError("no plan (a JSON list of steps) in the reply")


def extract_goal_steps(reply: str) -> list[tuple[str, str]]:
    """The goal planner's steps: (step text, goal formula) pairs from a JSON list of
    {"step": ..., "goal": ...} objects (in fences or prose; a {"steps": [...]} object too).

    Raises:
        AgentError: no such list in the reply, or an empty one.
    """
    text = _normalize(reply)
    for candidate in [*(body for _, body in _fenced(text)), text]:
        for _, data in _values(candidate):
            if isinstance(data, dict):
                data = data.get("steps")
            if (
                isinstance(data, list)
                and data
                and all(isinstance(d, dict) and isinstance(d.get("goal"), str) for d in data)
            ):
                return [(str(d.get("step") or d["goal"]).strip(), d["goal"].strip()) for d in data]
    raise AgentError("no plan (a JSON list of {step, goal} objects) in the reply")


def extract_formula(reply: str) -> str:
    """The goal formula in a reply, as text (not checked: `sim.goals.check` does that).

    Looks, in order, in fenced blocks (```goal, ```text, any), inline `code` spans, then
    lines that start like a formula (`pred(`, `not pred(`, `all(`, `(`, or JSON `{`),
    taking the last such line with the lines that continue it (`and ...`, `or ...`). Drops
    a "Goal:" label, comment lines and a trailing period. A one-line reply is taken whole.

    Raises:
        AgentError: nothing in the reply looks like a formula.
    """
    text = _normalize(reply).strip()
    for _, body in _fenced(text):
        formula = _clean_formula(
            " ".join(
                line.strip()
                for line in body.splitlines()
                if line.strip() and not line.lstrip().startswith(("#", "//"))
            )
        )
        if formula:
            return formula
    outside = _FENCE.sub("\n", text)
    for span in re.findall(r"`([^`\n]+)`", outside):
        if _FORMULA_START.match(_clean_formula(span)):
            return _clean_formula(span)
    groups: list[list[str]] = []
    for raw in outside.splitlines():
        line = _clean_formula(raw)
        last = groups[-1] if groups and groups[-1] else None
        if (
            last
            and line
            and (re.search(r"\b(and|or|not)$", last[-1]) or re.match(r"^(and|or)\b", line))
        ):
            last.append(line)  # a formula over several lines
        elif _FORMULA_START.match(line):
            groups.append([line])
        elif line:
            groups.append([])  # prose ends a formula
    found = [g for g in groups if g]
    if found:
        return " ".join(found[-1])
    lines = [line for line in outside.splitlines() if line.strip()]
    if len(lines) == 1:
        return _clean_formula(lines[0])
    raise AgentError("no goal formula in the reply")


def _clean_formula(text: str) -> str:
    text = text.strip().strip("`").strip()
    text = re.sub(r"^(?:[-*\u2022]|\d+[.)])\s+", "", text)  # a list marker
    text = _FORMULA_LABEL.sub("", text).strip().strip("`\"'").strip()
    return text[:-1].rstrip() if text.endswith((".", ";")) else text


# -- code ----------------------------------------------------------------------------------


def _normalize(reply: str) -> str:
    text = str(reply).replace("\r\n", "\n").replace("\r", "\n")
    text = _THINK.sub("", text)
    if "</think>" in text.lower():  # servers that drop the opening tag
        text = text[text.lower().rindex("</think>") + len("</think>") :]
    return text


def _fenced(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _FENCE.finditer(text):
        lang = m.group("lang").strip().lower().lstrip("{.").rstrip("}")
        lang = lang.split()[0] if lang else ""
        out.append((lang, m.group("body")))
    return out


def _parse(source: str) -> _Chunk:
    code = textwrap.dedent(source)
    code = "\n".join(line.rstrip() for line in code.strip("\n").splitlines())
    return _Chunk(code, ast.parse(code))


def _loose_regions(text: str) -> list[str]:
    """Code outside fences: from a line starting with def/import/@ to the longest part that parses."""
    lines = text.split("\n")
    regions, i = [], 0
    while i < len(lines):
        if not _CODE_START.match(lines[i]):
            i += 1
            continue
        end = None
        for j in range(len(lines), i, -1):
            if not lines[j - 1].strip():
                continue
            try:
                ast.parse(textwrap.dedent("\n".join(lines[i:j])))
            except SyntaxError:
                continue
            end = j
            break
        if end is None:
            i += 1
            continue
        regions.append("\n".join(lines[i:end]))
        i = end
    return regions


def _takes_robot(fn: ast.FunctionDef) -> bool:
    args = [*fn.args.posonlyargs, *fn.args.args]
    return bool(args) and args[0].arg == "robot"


def _called_names(nodes) -> set[str]:
    return {
        n.id
        for node in nodes
        for n in ast.walk(node)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


def _assemble(chunks: list[_Chunk], wanted: str | None) -> Extracted:
    # The entry: the wanted name if a block defines it with `robot` first; else the last
    # `robot` function that no other code calls (callers come after helpers).
    defined = [(i, name) for i, c in enumerate(chunks) for name in c.entries]
    chosen = [(i, n) for i, n in defined if n == wanted]
    if not chosen:
        calls: set[str] = set()
        for c in chunks:
            for name, fn in c.functions.items():
                calls |= {n for n in _called_names([fn]) if n != name}
        chosen = [(i, n) for i, n in defined if n not in calls] or defined
    index, entry = chosen[-1]
    main = chunks[index]

    # Helper blocks: other blocks defining names the code uses but does not define.
    included = [index]
    while True:
        code_nodes = [node for k in included for node in chunks[k].tree.body]
        have = {name for k in included for name in chunks[k].functions}
        missing = _called_names(code_nodes) - have - _BUILTINS
        extra = None
        for k in range(len(chunks) - 1, -1, -1):
            if k in included or entry in chunks[k].functions:
                continue
            if missing & set(chunks[k].functions):
                extra = k
                break
        if extra is None:
            break
        included.append(extra)

    parts = [_strip_usage(chunks[k]) for k in sorted(included)]
    code = "\n\n\n".join(p for p in parts if p.strip())
    tree = ast.parse(code)
    imported = {
        a.asname or a.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    used = _called_names(tree.body)
    prelude = [
        _STANDARD_IMPORTS[name] for name in ("math", "np", "numpy") if name in used - imported
    ]
    if prelude:
        code = "\n".join(prelude) + "\n\n\n" + code
        tree = ast.parse(code)
    fn = next(n for n in main.tree.body if isinstance(n, ast.FunctionDef) and n.name == entry)
    params = tuple(a.arg for a in [*fn.args.posonlyargs, *fn.args.args][1:]) + tuple(
        a.arg for a in fn.args.kwonlyargs
    )
    return Extracted(code=code.strip() + "\n", entry=entry, params=params)


def _strip_usage(chunk: _Chunk) -> str:
    """Drop module-level usage examples: bare expressions and `if __name__ == ...` blocks."""
    drop = [node for k, node in enumerate(chunk.tree.body) if _is_usage(node, k)]
    if not drop:
        return chunk.source
    lines = chunk.source.split("\n")
    for node in reversed(drop):
        del lines[node.lineno - 1 : node.end_lineno]
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()  # the comment that introduced a dropped example
    return "\n".join(lines).strip("\n")


def _is_usage(node: ast.stmt, position: int) -> bool:
    if isinstance(node, ast.Expr):  # a call or a stray name; a leading string is the docstring
        return not (position == 0 and isinstance(node.value, ast.Constant))
    if isinstance(node, ast.If):
        return "__name__" in _called_names([node.test])
    if isinstance(node, ast.Assign | ast.AnnAssign):  # robot = Robot(...) in an example
        stored = {
            t.id for t in ast.walk(node) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)
        }
        return "robot" in stored
    return False


# -- plans ---------------------------------------------------------------------------------


SCAN_BUDGET = 1_000_000  # characters read while trying brackets as the start of a value


def _values(text: str, literals: bool = False):
    """(start, value) for each bracket of `text` that starts a JSON value (or, with
    `literals`, a Python literal such as a single-quoted list); value None where none does.

    Each try can read the rest of the text, so all of them together stop after
    `SCAN_BUDGET` characters: a 20 kB reply of "[" ends in milliseconds, not minutes."""
    decoder = json.JSONDecoder()
    spent = 0
    for m in re.finditer(r"[\[{]", text):
        if spent > SCAN_BUDGET:
            return
        start = m.start()
        try:
            value, end = decoder.raw_decode(text, start)
            spent += end - start
        except json.JSONDecodeError as exc:
            spent += exc.pos - start + 1
            value = None
        except (ValueError, RecursionError):  # RecursionError: '[[[[...' 1000 deep
            spent += len(text) - start
            value = None
        if value is None and literals:
            value, read = _literal(text, start)
            spent += read
        yield start, value


def _first_list(text: str) -> list[str] | None:
    for _, value in _values(text, literals=True):
        steps = _steps(value)
        if steps is not None:
            return steps
    return None


def _literal(text: str, start: int):
    """(A Python literal (single-quoted list) starting at `start` or None, characters read)."""
    opening = text[start]
    close = {"[": "]", "{": "}"}[opening]
    depth = 0
    for m in re.finditer(r"[\[\]{}]", text[start:]):
        ch = m.group()
        if ch == opening:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                try:
                    return ast.literal_eval(text[start : start + m.end()]), m.end()
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    return None, m.end()
    return None, len(text) - start


def _steps(value) -> list[str] | None:
    if isinstance(value, dict):
        for key in ("steps", "plan", "subtasks", "tasks"):
            if isinstance(value.get(key), list):
                return _steps(value[key])
        return None
    if not isinstance(value, list):
        return None
    steps = []
    for item in value:
        if isinstance(item, dict):
            item = next((item[k] for k in _STEP_KEYS if isinstance(item.get(k), str)), None)
        if not isinstance(item, str):
            return None
        step = _clean_step(item)
        if step:
            steps.append(step)
    return steps


def _clean_step(step: str) -> str:
    step = step.strip().strip(",").strip().strip("\"'`").strip()
    step = re.sub(r"^(?:step\s*)?\d+\s*[.):]\s*", "", step, flags=re.IGNORECASE)
    return " ".join(step.split())
