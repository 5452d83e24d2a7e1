"""Runs: the list of recorded runs and one run with its GIF replay, plan and decisions."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from agent.errors import AgentError
from agent.inputs import PAGE
from agent.run.records import DamagedRecord
from agent.ui.context import UIContext, pager, render
from agent.ui.files import inside

router = APIRouter()


@router.get("/runs")
def runs_page(request: Request, page: int = PAGE.query(1)):
    ctx: UIContext = request.app.state.ctx
    store = ctx.runs()
    try:
        p = pager(page, ctx.page_size, store.count())
        records = store.list(p.size, p.offset)
    except DamagedRecord as exc:  # one line naming the run and the field
        raise HTTPException(422, str(exc)) from None
    finally:
        store.close()
    return render(request, "runs.html", {"nav_active": "runs", "runs": records, "pager": p})


def _record(ctx: UIContext, run_id: str):
    store = ctx.runs()
    try:
        return store.get(run_id)
    except DamagedRecord as exc:
        raise HTTPException(422, str(exc)) from None
    except AgentError as exc:
        raise HTTPException(404, str(exc)) from None
    finally:
        store.close()


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: str):
    ctx: UIContext = request.app.state.ctx
    rec = _record(ctx, run_id)
    has_gif = bool(rec.gif) and inside(ctx.home, rec.gif) is not None
    from sim.goals.state import FRAME

    return render(
        request,
        "run.html",
        {
            "nav_active": "runs",
            "run": rec,
            "has_gif": has_gif,
            "decisions": [asdict(d) for d in rec.decisions],
            "frame": FRAME,
        },
    )


@router.get("/runs/{run_id}/replay.gif")
def run_gif(request: Request, run_id: str):
    ctx: UIContext = request.app.state.ctx
    rec = _record(ctx, run_id)
    path = inside(ctx.home, rec.gif) if rec.gif else None
    if path is None:
        raise HTTPException(404, f"run {run_id} has no replay")
    return FileResponse(path, media_type="image/gif")
