"""The web UI's app factory: `create_app(home, library=...)`.

Server-rendered pages (Jinja2 templates in `templates/`), a little JavaScript and CSS of
our own in `static/`; nothing is fetched from anywhere else. The clients (library,
corrections queue) are passed in; `skillgrove ui` builds them. Access rules are in
`security.Guard`; every response carries a Content-Security-Policy that allows only this
origin's scripts, styles and images.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.ui import pages_corrections, pages_learning, pages_library, pages_runs
from agent.ui.context import PAGE_SIZE, UIContext, render
from agent.ui.security import Guard

HERE = Path(__file__).parent
CSP = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def create_app(
    home: str | Path,
    *,
    library=None,
    embedder=None,
    library_url: str | None = None,
    store_url: str | None = None,
    corrections=None,
    runs: Callable[[], Any] | None = None,
    token: str | None = None,
    host: str = "127.0.0.1",
    allowed_hosts: tuple[str, ...] = (),
    page_size: int = PAGE_SIZE,
) -> FastAPI:
    """The UI app for a data home.

    Args:
        home: the data home.
        library: the skill library; default `open_library(home, library_url, embedder=embedder)`
            (then closed with the app).
        embedder: the embedder of a library built here (tests pass a small one).
        library_url: a Chroma server for a library built here.
        store_url: a Postgres store for a library built here (default: the settings).
        corrections: the correction queue; default the policy's store in the home.
        runs: a factory of run stores; default `RunStore(home)`.
        token: the shared secret; required when `host` is not a loopback address.
        host: the address the server listens on (decides the Host check).
        allowed_hosts: more host names the Host header may name without a token.
        page_size: rows per page of the library and runs lists.
    """
    from agent.ui.security import is_loopback

    home = Path(home)
    if not token and not is_loopback(host):
        from agent.errors import AgentError

        raise AgentError(f"serving the UI on {host} needs a token (--token), or use 127.0.0.1")
    own_library = library is None
    if own_library:
        from agent.factory import open_home_library

        library = open_home_library(home, library_url, store_url, embedder=embedder)
    if runs is None:
        from agent.run.records import RunStore

        def runs() -> RunStore:
            return RunStore(home)

    notes: list[str] = []
    if corrections is None:
        from agent.ui.corrections import default_queue

        corrections, note = default_queue(home)
        if note:
            notes.append(note)
    ctx = UIContext(
        home,
        library,
        corrections,
        runs,
        Guard.for_bind(host, token, allowed_hosts),
        page_size,
        notes,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        if own_library:
            library.close()

    app = FastAPI(
        title="skillgrove", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.ctx = ctx
    app.state.templates = templates()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        refused = ctx.guard.check(request)
        response = refused if refused is not None else await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.detail},
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body", "path"))
            parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
        return render(
            request,
            "error.html",
            {"status": 422, "message": "bad input: " + "; ".join(parts)},
            status_code=422,
        )

    for module in (pages_library, pages_runs, pages_corrections, pages_learning):
        app.include_router(module.router)
    return app


def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters.update(pct=pct, when=when, num=num)
    t.env.globals.update(nav=NAV, qs=qs)
    return t


def qs(request: Request, **changes) -> str:
    """The current page's query string with some parameters changed (empty ones dropped)."""
    params = dict(request.query_params)
    params.update({k: str(v) for k, v in changes.items()})
    return "?" + urlencode({k: v for k, v in params.items() if v != ""})


NAV = (
    ("library", "/", "Library"),
    ("runs", "/runs", "Runs"),
    ("corrections", "/corrections", "Corrections"),
    ("learning", "/learning", "Learning"),
)


def pct(x: float | None, digits: int = 0) -> str:
    """0.873 -> '87%'; None -> '–'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f}%"


def num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def when(ts: float | None) -> str:
    """A timestamp as local 'YYYY-MM-DD HH:MM'."""
    if not ts:
        return "–"
    return dt.datetime.fromtimestamp(float(ts)).strftime("%Y-%m-%d %H:%M")
