"""Corrections: failed predictions waiting for a person, and storing what they correct.

GET pages only read. `POST /corrections/{id}` is the UI's one write: it stores a
correction through the queue (the policy's correction store); the access rules in
`security` apply to it (same origin, and the token where one is set).
"""

from __future__ import annotations

import math
import re
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from agent.errors import AgentError
from agent.inputs import PAGE
from agent.policy.corrections import validate_angle
from agent.ui.context import UIContext, pager, render
from agent.ui.corrections import KeyPose, png_bytes

router = APIRouter()
_ID = re.compile(r"^[\w.\-]{1,80}$")


def _queue(ctx: UIContext):
    if ctx.corrections is None:
        raise HTTPException(404, "the policy's correction store is not available")
    return ctx.corrections


def _item(ctx: UIContext, prediction_id: str):
    if not _ID.match(prediction_id):
        raise HTTPException(404, "no such prediction")
    try:
        return _queue(ctx).get(prediction_id)
    except KeyError:
        raise HTTPException(
            404, f"no prediction {prediction_id!r} is waiting for a correction"
        ) from None


@router.get("/corrections")
def queue_page(request: Request, page: int = PAGE.query(1), stored: str = ""):
    ctx: UIContext = request.app.state.ctx
    q = ctx.corrections
    if q is None:
        return render(
            request,
            "corrections.html",
            {
                "nav_active": "corrections",
                "available": False,
                "items": [],
                "recent": [],
                "pager": pager(1, ctx.page_size, 0),
                "stored": None,
            },
        )
    p = pager(page, ctx.page_size, q.count())
    items = q.pending(p.size, p.offset)
    recent = q.recent(20)
    done = next((c for c in recent if c.id == stored), None) if stored else None
    # the commands that fill an empty queue (the policy's queue knows what the home lacks)
    steps = q.setup_steps() if not items and hasattr(q, "setup_steps") else []
    return render(
        request,
        "corrections.html",
        {
            "nav_active": "corrections",
            "available": True,
            "items": items,
            "recent": recent,
            "pager": p,
            "stored": done,
            "steps": steps,
        },
    )


@router.get("/corrections/{prediction_id}")
def correction_page(request: Request, prediction_id: str, stored: str = ""):
    ctx: UIContext = request.app.state.ctx
    item = _item(ctx, prediction_id)
    done = next((c for c in ctx.corrections.recent(20) if c.id == stored), None) if stored else None
    return render(
        request,
        "correction.html",
        {
            "nav_active": "corrections",
            "item": item,
            "stored": done,
            "scale": max(1, min(6, 720 // max(item.width, 1))),
        },
    )


@router.get("/corrections/{prediction_id}/image.png")
def correction_image(request: Request, prediction_id: str):
    ctx: UIContext = request.app.state.ctx
    item = _item(ctx, prediction_id)
    return Response(
        png_bytes(ctx.corrections.image(item.id)),
        media_type="image/png",
        headers={"Cache-Control": "no-store"},
    )


def _key(item, row: float | None, col: float | None, angle: float | None, name: str) -> KeyPose:
    if row is None or col is None or angle is None:
        raise HTTPException(422, f"the {name} pose needs a point and an angle")
    if not all(math.isfinite(v) for v in (row, col, angle)):
        raise HTTPException(422, f"the {name} pose must be finite numbers")
    if not (0 <= row <= item.height and 0 <= col <= item.width):
        raise HTTPException(
            422,
            f"the {name} point ({row:.1f}, {col:.1f}) is outside the {item.width}x{item.height} image",
        )
    try:  # the validator of `policy correct --angle`: the page refuses what the CLI refuses
        angle = validate_angle(angle)
    except AgentError as exc:
        raise HTTPException(422, f"the {name} {exc}") from None
    return KeyPose(float(row), float(col), float((angle + 180.0) % 360.0 - 180.0))


@router.post("/corrections/{prediction_id}")
def store_correction(
    request: Request,
    prediction_id: str,
    pick_row: float | None = Form(None),
    pick_col: float | None = Form(None),
    pick_angle: float | None = Form(None),
    place_row: float | None = Form(None),
    place_col: float | None = Form(None),
    place_angle: float | None = Form(None),
):
    """Store a correction and go on to the next waiting prediction."""
    ctx: UIContext = request.app.state.ctx
    item = _item(ctx, prediction_id)
    pick = _key(item, pick_row, pick_col, pick_angle, "pick")
    place = (
        _key(item, place_row, place_col, place_angle, "place") if item.place is not None else None
    )
    try:
        done = ctx.corrections.correct(item.id, pick, place)
    except KeyError:
        raise HTTPException(404, f"prediction {prediction_id!r} was corrected meanwhile") from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    nxt = ctx.corrections.pending(1, 0)
    tag = quote(done.id, safe="")
    url = (
        f"/corrections/{quote(nxt[0].id, safe='')}?stored={tag}"
        if nxt
        else f"/corrections?stored={tag}"
    )
    return RedirectResponse(url, status_code=303)
