"""Python syntax highlighting and version diffs as HTML, made on the server.

The highlighter is a small regular-expression scanner (no third-party highlighter and
nothing fetched by the browser): comments, strings (any prefix, triple-quoted too),
numbers, keywords, builtins, the names that `def` and `class` introduce, and decorators
become `<span class="tok-...">`. Everything else is escaped text. It never runs, imports
or parses the code as Python, so any text (even code that does not compile) shows.
"""

from __future__ import annotations

import difflib
import html
import keyword
import re
from dataclasses import dataclass

from markupsafe import Markup

BUILTINS = frozenset(
    [
        "abs",
        "all",
        "any",
        "bool",
        "dict",
        "divmod",
        "enumerate",
        "filter",
        "float",
        "int",
        "isinstance",
        "len",
        "list",
        "map",
        "max",
        "min",
        "print",
        "range",
        "reversed",
        "round",
        "set",
        "sorted",
        "str",
        "sum",
        "tuple",
        "zip",
        "None",
        "True",
        "False",
        "self",
        "robot",
    ]
)
_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>(?:[rRbBuUfF]{1,2})?(?:'''[\s\S]*?(?:'''|$(?![\s\S]))|\"\"\"[\s\S]*?(?:\"\"\"|$(?![\s\S]))
                 |'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?))
  | (?P<number>\b(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+
                 |(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?j?)\b)
  | (?P<decorator>^[ \t]*@[\w.]+)
  | (?P<name>[A-Za-z_]\w*)
    """,
    re.VERBOSE | re.MULTILINE,
)


def highlight_python(code: str) -> Markup:
    """HTML for `code` with token spans; the caller puts it inside `<pre><code>`."""
    out: list[str] = []
    at, after_def = 0, False
    for m in _TOKEN.finditer(code):
        out.append(html.escape(code[at : m.start()]))
        kind, text = m.lastgroup, m.group()
        if kind == "name":
            if after_def:
                kind = "def"
            elif keyword.iskeyword(text):
                kind = "keyword"
            elif text in BUILTINS:
                kind = "builtin"
            else:
                kind = None
            after_def = text in ("def", "class")
        else:
            after_def = False
        out.append(
            f'<span class="tok-{kind}">{html.escape(text)}</span>' if kind else html.escape(text)
        )
        at = m.end()
    out.append(html.escape(code[at:]))
    return Markup("".join(out))


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: kind is "add", "del", "hunk", "file" or "ctx"."""

    kind: str
    text: str


def diff_lines(
    old: str, new: str, old_label: str, new_label: str, context: int = 3
) -> list[DiffLine]:
    """A unified diff (difflib) between two versions' code, classified line by line."""
    raw = difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_label, new_label, n=context, lineterm=""
    )
    out = []
    for line in raw:
        if line.startswith(("---", "+++")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append(DiffLine(kind, line))
    return out
