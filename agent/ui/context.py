"""What the app and its pages share: the routes' context, page numbers and `render`.

`app.py` builds a `UIContext` and includes the pages' routers; the pages read the context
from the request and answer with `render`. Neither imports the other's module for these.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from agent.ui.security import Guard

PAGE_SIZE = 50


@dataclass
class UIContext:
    """What the routes share: the data home and the clients.

    Attributes:
        home: the data home.
        library: the skill library (`skills.library.SkillLibrary`).
        corrections: the queue of policy predictions waiting for a person's correction
            (`agent.ui.corrections.CorrectionQueue`), None where the policy is missing.
        runs: opens the run store (one per request: its SQLite connection stays in one thread).
        guard: the access rules.
    """

    home: Path
    library: Any
    corrections: Any
    runs: Callable[[], Any]
    guard: Guard
    page_size: int = PAGE_SIZE
    notes: list[str] = field(default_factory=list)

    @property
    def db(self) -> Path:
        return Path(self.library.store.path)


def render(request: Request, name: str, context: dict, status_code: int = 200) -> HTMLResponse:
    """A template with the request and the shared context."""
    ctx: UIContext = request.app.state.ctx
    return request.app.state.templates.TemplateResponse(
        request, name, {"ctx": ctx, **context}, status_code=status_code
    )


@dataclass(frozen=True)
class Pager:
    """Page numbers for a list of `total` rows."""

    page: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def first_row(self) -> int:
        return min(self.total, self.offset + 1)

    @property
    def last_row(self) -> int:
        return min(self.total, self.offset + self.size)

    def window(self, width: int = 2) -> list[int | None]:
        """Page numbers to link: first, last and those around the current one (None: a gap)."""
        keep = {1, self.pages, *range(self.page - width, self.page + width + 1)}
        out: list[int | None] = []
        for p in sorted(x for x in keep if 1 <= x <= self.pages):
            if out and out[-1] is not None and p > out[-1] + 1:
                out.append(None)
            out.append(p)
        return out


def pager(page: int, size: int, total: int) -> Pager:
    """The pager of `total` rows, `size` a page, with `page` clamped to the pages there are."""
    pages = max(1, math.ceil(total / size))
    return Pager(min(max(1, page), pages), size, total)
