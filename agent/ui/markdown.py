"""A very small Markdown-to-HTML renderer for the benchmark reports the UI shows.

It knows headings, pipe tables, bullet lists, paragraphs, `code` and **bold**; every
piece of text is escaped first, so a report can never inject markup.
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    t = html.escape(text.strip(), quote=False)
    t = _CODE.sub(r"<code>\1</code>", t)
    return _BOLD.sub(r"<strong>\1</strong>", t)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _is_rule(line: str) -> bool:
    return bool(re.fullmatch(r"\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?", line.strip()))


def render_markdown(text: str) -> Markup:
    """HTML for a Markdown document (the subset above)."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if not s:
            i += 1
        elif s.startswith("#"):
            level = min(len(s) - len(s.lstrip("#")), 4) + 1  # the page has its own h1
            out.append(f"<h{level}>{_inline(s.lstrip('#'))}</h{level}>")
            i += 1
        elif s.startswith("|") and i + 1 < len(lines) and _is_rule(lines[i + 1]):
            head = "".join(f"<th>{_inline(c)}</th>" for c in _cells(s))
            i += 2
            body = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                body.append(
                    "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _cells(lines[i])) + "</tr>"
                )
                i += 1
            out.append(
                f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            )
        elif s.startswith(("- ", "* ")):
            items = []
            while i < len(lines) and lines[i].strip().startswith(("- ", "* ")):
                items.append(f"<li>{_inline(lines[i].strip()[2:])}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
        else:
            para = []
            while (
                i < len(lines)
                and lines[i].strip()
                and not lines[i].strip().startswith(("#", "|", "- ", "* "))
            ):
                para.append(lines[i])
                i += 1
            if not para:  # a lone table-looking line without a rule
                para, i = [lines[i]], i + 1
            out.append(f"<p>{_inline(' '.join(para))}</p>")
    return Markup("\n".join(out))
