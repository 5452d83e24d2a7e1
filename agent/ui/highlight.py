"""Python syntax highlighting (pygments) and version diffs as HTML, made on the server.

Code is highlighted by pygments' Python lexer into `<span class="k">`-style tokens; the
colours are `static/pygments.css`, served by the app, so the browser fetches nothing
else. The lexer never runs, imports or parses the code as Python: any text (even code
that does not compile) shows, escaped. Diffs are difflib's unified diff, each line
highlighted as the line of the version it comes from (so a string or docstring that
spans lines keeps its colour inside a hunk).

Regenerate the stylesheet after changing `STYLE`:
    python -m agent.ui.highlight > agent/ui/static/pygments.css
"""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

STYLE = "default"
SCOPE = ".hl"  # the class of the <pre> elements the token colours apply in


def _formatter() -> HtmlFormatter:
    return HtmlFormatter(nowrap=True, style=STYLE)


def _lines(code: str) -> list[str]:
    """`code` split as `str.splitlines` splits it, each line as highlighted HTML."""
    lines = code.splitlines()
    text = "\n".join(lines)
    out = highlight(text, PythonLexer(stripnl=False, ensurenl=False), _formatter()).split("\n")
    # pygments keeps a token's spans within a line, so every line is balanced HTML
    if len(out) < len(lines):  # never seen; fall back to plain escaped text
        return [html.escape(line) for line in lines]
    return out[: len(lines)]


def highlight_python(code: str) -> Markup:
    """HTML for `code` with token spans; the caller puts it inside `<pre class="hl">`."""
    return Markup("\n".join(_lines(code)))


def stylesheet() -> str:
    """The token colours of `STYLE`, scoped to `SCOPE` (what static/pygments.css holds)."""
    head = f"/* pygments style {STYLE!r}: python -m agent.ui.highlight > agent/ui/static/pygments.css */"
    return "\n".join([head, *_formatter().get_token_style_defs(SCOPE)]) + "\n"


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff.

    Attributes:
        kind: "add", "del", "hunk", "file" or "ctx".
        text: the line as `difflib.unified_diff` writes it.
        html: the same line as HTML, its code highlighted.
    """

    kind: str
    text: str
    html: Markup


def _range(start: int, stop: int) -> str:
    """A hunk's line range as unified diffs write it (difflib's own rule)."""
    first, length = start + 1, stop - start
    if length == 1:
        return str(first)
    return f"{first - 1 if not length else first},{length}"


def diff_lines(
    old: str, new: str, old_label: str, new_label: str, context: int = 3
) -> list[DiffLine]:
    """A unified diff between two versions' code, line by line, classified and highlighted."""
    a, b = old.splitlines(), new.splitlines()
    ha, hb = _lines(old), _lines(new)
    out: list[DiffLine] = []

    def plain(kind: str, text: str) -> None:
        out.append(DiffLine(kind, text, Markup(html.escape(text))))

    def code(kind: str, mark: str, line: str, hl: str) -> None:
        out.append(DiffLine(kind, mark + line, Markup(mark + hl)))

    for group in difflib.SequenceMatcher(None, a, b).get_grouped_opcodes(context):
        if not out:
            plain("file", f"--- {old_label}")
            plain("file", f"+++ {new_label}")
        first, last = group[0], group[-1]
        plain("hunk", f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for i in range(i1, i2):
                    code("ctx", " ", a[i], ha[i])
                continue
            if tag in ("replace", "delete"):
                for i in range(i1, i2):
                    code("del", "-", a[i], ha[i])
            if tag in ("replace", "insert"):
                for j in range(j1, j2):
                    code("add", "+", b[j], hb[j])
    return out


if __name__ == "__main__":
    print(stylesheet(), end="")
