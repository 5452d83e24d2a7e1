"""Markdown to HTML (markdown-it-py) for the benchmark reports the UI shows.

CommonMark plus pipe tables. Raw HTML in a report is escaped, never passed through
(`html=False`), and links with a `javascript:`, `vbscript:`, `file:` or `data:` URL are
not made (markdown-it's `validateLink`). Two adjustments for the page: headings move one
level down (the page has its own h1), and a table column's alignment becomes a class
(`al-right`), since the Content-Security-Policy refuses inline `style` attributes.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markupsafe import Markup

_ALIGN = re.compile(r"^text-align:(left|center|right)$")


def _for_the_page(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        elif token.type == "table_open":
            token.attrSet("class", "grid")
        elif token.type in ("th_open", "td_open") and token.attrs.get("style"):
            m = _ALIGN.match(str(token.attrs.pop("style")))
            if m:
                token.attrSet("class", f"al-{m.group(1)}")


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.core.ruler.push("for_the_page", _for_the_page)
    return md


_MD = _parser()  # stateless once built: rendering does not change it


def render_markdown(text: str) -> Markup:
    """HTML for a Markdown document, safe to put in a page as it is."""
    return Markup(_MD.render(text))
