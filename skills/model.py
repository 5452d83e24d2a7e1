"""What a stored skill is: its versions, parameters and info, and the checks on them.

Typed records (`SkillVersion`, `SkillInfo`, `Param`) cross the store's boundary; the
store turns rows into them (`skills.store`). The checks here (names, authors, the entry
function's source) run before anything is written.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass, field

from skills.errors import SkillError

AUTHORS = ("seed", "synthesizer", "human")  # plus "llm:<model>"
STAGES = ("unverified", "syntax", "runtime", "success")
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
# the goal template a skill is filed under: a docstring line or a comment `Goal: ...`
GOAL_LINE = re.compile(r"^\s*(?:#\s*)?Goal:\s*(.+?)\s*$", re.M)


@dataclass(frozen=True)
class Param:
    """One parameter of a skill's entry function (after `robot`)."""

    name: str
    required: bool
    default: str | None = None  # source text of the default, when there is one


@dataclass(frozen=True)
class SkillVersion:
    """One stored version of a skill."""

    name: str
    version: int
    code: str
    description: str
    examples: tuple[str, ...]
    params: tuple[Param, ...]
    author: str
    verified: bool
    stage: str
    parent: tuple[str, int] | None
    content_hash: str
    created: float
    stats: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    @property
    def success_rate(self) -> dict[str, float]:
        """Success rate per task family or goal template (those with an episode)."""
        return {f: s / e for f, (e, s) in self.stats.items() if e}

    @property
    def goal_template(self) -> str | None:
        """The goal template the skill is filed under (`Goal: left_of(?a, ?b)`), if any."""
        m = GOAL_LINE.search(self.code)
        return m.group(1) if m else None


@dataclass(frozen=True)
class SkillInfo:
    """A skill: its latest version plus usage counts."""

    latest: SkillVersion
    versions: int
    uses: int
    created: float
    updated: float
    last_used: float | None

    @property
    def name(self) -> str:
        return self.latest.name


@dataclass(frozen=True)
class ParsedSource:
    """What `parse_source` reads from skill code."""

    params: tuple[Param, ...]
    docstring: str
    examples: tuple[str, ...]


def check_name(name: str) -> str:
    """A skill name is a lowercase Python identifier (it is also the entry function)."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise SkillError(
            f"bad skill name {name!r}: use lowercase letters, digits and _ (e.g. pick_up)"
        )
    return name


def check_author(author: str) -> str:
    if author in AUTHORS or (author.startswith("llm:") and len(author) > 4):
        return author
    raise SkillError(f"bad author {author!r}: one of seed, synthesizer, human, llm:<model>")


def parse_source(code: str, entry: str) -> ParsedSource:
    """Parameters, docstring and example instructions of the entry function `entry`.

    Example instructions are the indented lines under an `Examples:` heading in the
    entry function's docstring.

    Raises:
        SkillError: the code does not parse, or has no `def entry(robot, ...)`.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise SkillError(f"syntax error in skill code, line {exc.lineno}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError) as exc:  # `x = 1+1+...` 3000 deep
        raise SkillError(f"skill code cannot be parsed: {type(exc).__name__}") from None
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry), None)
    if fn is None:
        raise SkillError(f"the skill code has no entry function 'def {entry}(robot, ...)'")
    args = fn.args
    positional = args.posonlyargs + args.args
    if not positional or positional[0].arg != "robot":
        raise SkillError(f"the entry function {entry}() must take `robot` as its first parameter")
    params: list[Param] = []
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for a, d in zip(positional[1:], defaults[1:], strict=True):
        params.append(Param(a.arg, d is None, None if d is None else ast.unparse(d)))
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append(Param(a.arg, d is None, None if d is None else ast.unparse(d)))
    doc = ast.get_docstring(fn) or ""
    return ParsedSource(tuple(params), doc, tuple(_examples(doc)))


def _examples(doc: str) -> list[str]:
    out, inside = [], False
    for line in doc.splitlines():
        if line.strip().lower() in ("examples:", "example instructions:"):
            inside = True
        elif inside and line.startswith((" ", "\t")) and line.strip():
            out.append(line.strip().lstrip("-* ").strip())
        elif inside and line.strip():
            break
    return out


def summary(doc: str) -> str:
    """First paragraph of a docstring, on one line."""
    return " ".join(doc.strip().split("\n\n")[0].split())


def content_hash(*parts: str) -> str:
    """sha256 (hex, 16 chars) over the parts, order-sensitive."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]
