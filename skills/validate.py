"""Static allow-list check of skill code (the first layer of the sandbox).

A skill is Python source with one entry function `def <name>(robot, **params)` and
optional helper functions. `validate` parses it (never runs it) and rejects, with a
one-line reason naming the line, anything outside a small safe subset:

- module level: only imports, function definitions and a docstring;
- imports: `math` and `numpy` (and numpy's `linalg`, `random`, `fft`) only;
- no names or attributes that reach interpreter internals: dunder names, attributes
  starting with "_" (the robot's internals are private attributes), frame, traceback,
  generator, code and Cython function attributes (`gi_`, `f_`, `tb_`, `co_`, `func_`...),
  `format`/`format_map` (format strings walk attributes),
  `mro`, and the names of modules that numpy or the standard library keep as attributes;
- no dynamic-execution or introspection builtins (`eval`, `exec`, `getattr`, `vars`,
  `open`, `type`, ...), no numpy file, pickle or ctypes functions;
- no classes, async, generators (`yield`), `global`/`nonlocal`, decorators, attribute
  assignment, star imports, or `match` class patterns that read attributes.

What passes still runs in a locked-down worker process (see `skills.sandbox`): this
check is one layer of several, not the whole defence.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass

from skills.errors import SkillError
from skills.validate_rules import (
    ALLOWED_MODULES,
    ALLOWED_NODES,
    DENIED_ATTRS,
    DENIED_NAMES,
    DENIED_PREFIXES,
    WHY,
    attr_allowed,
)

__all__ = [
    "ALLOWED_MODULES",
    "DENIED_ATTRS",
    "DENIED_NAMES",
    "DENIED_PREFIXES",
    "MAX_CODE_CHARS",
    "Validated",
    "attr_allowed",
    "validate",
]

MAX_CODE_CHARS = 100_000
_PARSE_LOCK = threading.Lock()  # the Evaluator validates jobs from several threads at once


@dataclass(frozen=True)
class Validated:
    """What a valid skill defines.

    Attributes:
        entry: name of the entry function (called as `entry(robot, **params)`).
        params: the entry function's parameters as written, e.g. ("robot", "**params").
        functions: every top-level function, in source order.
        helpers: the top-level functions other than the entry.
    """

    entry: str
    params: tuple[str, ...]
    functions: tuple[str, ...]
    helpers: tuple[str, ...]


def validate(code: str, entry: str | None = None) -> Validated:
    """Check skill source against the allow-list without running it.

    Args:
        code: the skill's Python source.
        entry: name of the entry function; default: the first public (not
            underscore-prefixed) top-level function that takes `**params`, else the
            first public one.

    Returns:
        The skill's functions and the entry's parameters.

    Raises:
        SkillError: with a one-line reason ("line 3: ... is not allowed") on anything
            outside the allow-list, a syntax error, or a missing entry function.
    """
    if not isinstance(code, str):
        raise SkillError(f"skill code must be a string, got {type(code).__name__}")
    if len(code) > MAX_CODE_CHARS:
        raise SkillError(
            f"skill code is too long ({len(code)} characters, at most {MAX_CODE_CHARS})"
        )
    if "\x00" in code:
        raise SkillError("skill code contains a NUL character")
    try:
        with _PARSE_LOCK:  # CPython 3.11's AST conversion is not thread-safe (SystemError)
            tree = ast.parse(code, filename="<skill>", mode="exec")
    except SyntaxError as exc:
        raise SkillError(f"syntax error at line {exc.lineno}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise SkillError(f"skill code cannot be parsed: {type(exc).__name__}") from None
    functions = _check_module(tree)
    try:
        _Checker().visit(tree)
    except RecursionError:
        raise SkillError("skill code is nested too deeply") from None
    return _pick_entry(functions, entry)


def _fail(node: ast.AST | None, message: str) -> SkillError:
    line = getattr(node, "lineno", None)
    return SkillError(f"line {line}: {message}" if line else message)


def _check_module(tree: ast.Module) -> list[ast.FunctionDef]:
    """Module level holds only a docstring, imports and plain function definitions."""
    functions: list[ast.FunctionDef] = []
    seen: set[str] = set()
    for i, stmt in enumerate(tree.body):
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            continue
        if (
            i == 0
            and isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        ):
            continue  # the docstring
        if isinstance(stmt, ast.FunctionDef):
            if stmt.name in seen:
                raise _fail(stmt, f"function {stmt.name!r} is defined twice")
            seen.add(stmt.name)
            _check_signature_is_inert(stmt)
            functions.append(stmt)
            continue
        if type(stmt) in WHY:
            raise _fail(stmt, WHY[type(stmt)])
        raise _fail(
            stmt,
            f"module-level {type(stmt).__name__} statements are not allowed "
            "(only imports, function definitions and a docstring)",
        )
    return functions


def _check_signature_is_inert(fn: ast.FunctionDef) -> None:
    """Defaults, annotations and decorators of top-level functions run at import time."""
    if fn.decorator_list:
        raise _fail(fn.decorator_list[0], "decorators are not allowed")
    args = fn.args
    for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
        if not _is_literal(default):
            raise _fail(default, f"default values of {fn.name}() must be literal constants")
    annotations = [
        a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.annotation
    ]
    annotations += [
        a.annotation for a in (args.vararg, args.kwarg) if a is not None and a.annotation
    ]
    if fn.returns is not None:
        annotations.append(fn.returns)
    for ann in annotations:
        for node in ast.walk(ann):
            if not isinstance(
                node,
                ast.Name
                | ast.Attribute
                | ast.Subscript
                | ast.Constant
                | ast.Tuple
                | ast.BinOp
                | ast.BitOr
                | ast.Load
                | ast.List,
            ):
                raise _fail(node, "annotations may only name types")


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return isinstance(node.operand, ast.Constant) and isinstance(
            node.operand.value, int | float | complex
        )
    if isinstance(node, ast.Tuple):
        return all(_is_literal(e) for e in node.elts)
    return False


def _pick_entry(functions: list[ast.FunctionDef], entry: str | None) -> Validated:
    names = [f.name for f in functions]
    if entry is not None:
        if entry not in names:
            have = ", ".join(names) or "none"
            raise SkillError(
                f"no entry function {entry!r} defined at top level (functions: {have})"
            )
        fn = functions[names.index(entry)]
    else:
        public = [f for f in functions if not f.name.startswith("_")]
        if not public:
            raise SkillError("no entry function: define def <name>(robot, **params) at top level")
        fn = next((f for f in public if f.args.kwarg), public[0])
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    if not positional:
        raise _fail(fn, f"entry function {fn.name}() must take the robot as its first parameter")
    params = [a.arg for a in positional]
    if args.vararg:
        params.append("*" + args.vararg.arg)
    params += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        params.append("**" + args.kwarg.arg)
    return Validated(fn.name, tuple(params), tuple(names), tuple(n for n in names if n != fn.name))


class _Checker(ast.NodeVisitor):
    """Walks every node: allow-listed node types, names and attributes only."""

    def generic_visit(self, node: ast.AST) -> None:
        kind = type(node)
        if kind not in ALLOWED_NODES:
            raise _fail(node, WHY.get(kind, f"{kind.__name__} is not allowed"))
        super().generic_visit(node)

    # -- names ---------------------------------------------------------------------------
    def _name(self, node: ast.AST, name: str | None) -> None:
        if name is None:
            return
        if name.startswith("__"):
            raise _fail(
                node, f"name {name!r} is not allowed (dunder names reach interpreter internals)"
            )
        if name in DENIED_NAMES:
            raise _fail(node, f"{name!r} is not allowed in skill code")

    def visit_Name(self, node: ast.Name) -> None:
        self._name(node, node.id)
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> None:
        self._name(node, node.arg)
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        self._name(node, node.arg)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._name(node, node.name)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._name(node, node.name)
        if node.decorator_list:
            raise _fail(node.decorator_list[0], "decorators are not allowed")
        self.generic_visit(node)

    # -- attributes ----------------------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        if name.startswith("__"):
            raise _fail(
                node,
                f"attribute {name!r} is not allowed (dunder attributes reach interpreter internals)",
            )
        if name.startswith("_"):
            raise _fail(
                node, f"attribute {name!r} is not allowed (names starting with '_' are private)"
            )
        if name in ("format", "format_map"):
            raise _fail(
                node,
                f"attribute {name!r} is not allowed (format strings can read attributes); use f-strings",
            )
        if name.startswith(DENIED_PREFIXES):
            raise _fail(
                node,
                f"attribute {name!r} is not allowed (frame, traceback, generator, code and function internals)",
            )
        if name in ("ndarray", "recarray"):
            raise _fail(
                node,
                f"attribute {name!r} is not allowed (its constructor reads raw memory); "
                "use np.array or np.asarray",
            )
        if name in DENIED_ATTRS:
            raise _fail(node, f"attribute {name!r} is not allowed in skill code")
        if not isinstance(node.ctx, ast.Load):
            raise _fail(node, f"assigning or deleting attribute {name!r} is not allowed")
        self.generic_visit(node)

    # -- imports -------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in ALLOWED_MODULES:
                raise _fail(node, f"import of {alias.name!r} is not allowed (only math and numpy)")
            self._name(node, alias.asname)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        if node.level or module not in ALLOWED_MODULES:
            raise _fail(node, f"import from {module!r} is not allowed (only math and numpy)")
        for alias in node.names:
            if alias.name == "*":
                raise _fail(
                    node, f"'from {module} import *' is not allowed; import names explicitly"
                )
            if not attr_allowed(alias.name):
                raise _fail(node, f"importing {alias.name!r} from {module} is not allowed")
            self._name(node, alias.asname)
        self.generic_visit(node)

    # -- match statements ----------------------------------------------------------------
    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        if node.patterns or node.kwd_patterns:
            raise _fail(
                node, "class patterns with sub-patterns are not allowed (they read attributes)"
            )
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self._name(node, node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        self._name(node, node.name)
        self.generic_visit(node)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self._name(node, node.rest)
        self.generic_visit(node)
