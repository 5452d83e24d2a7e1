"""Library and skill pages: the list (filters, pages, search) and one skill in full."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Query, Request

from agent.inputs import PAGE, VERSION
from agent.ui import queries
from agent.ui.context import UIContext, pager, render
from agent.ui.highlight import diff_lines, highlight_python
from skills.errors import SkillError
from skills.search import TAU_HIGH, TAU_LOW  # SkillLibrary.search uses the defaults

router = APIRouter()
STAGES = ("unverified", "syntax", "runtime", "success")
MAX_K = 50


@dataclass(frozen=True)
class MatchRow:
    """A search match with what the list shows of its skill."""

    name: str
    version: int
    score: float
    description: str
    verified: bool
    author: str
    stage: str
    chosen: bool


@router.get("/")
def library_page(
    request: Request,
    q: str = "",
    k: int = Query(10, ge=1, le=MAX_K),
    author: str = "",
    status: str = "",
    stage: str = "",
    sort: str = "name",
    page: int = PAGE.query(1),
):
    """Every skill, a page at a time; with `q`, the Searcher's decision and matches."""
    ctx: UIContext = request.app.state.ctx
    if sort not in queries.SORTS:
        sort = "name"
    stage = stage if stage in STAGES else ""
    status = status if status in queries.STATUSES else ""
    filters = {"author": author, "status": status, "stage": stage}
    search, error, hidden = None, None, 0
    if q.strip():
        try:
            result = ctx.library.search(q, k)
        except SkillError as exc:
            error = str(exc)
        else:
            rows = _match_rows(ctx, result)
            kept = [r for r in rows if _keep(r, filters)]
            hidden = len(rows) - len(kept)
            search = {
                "decision": result.decision,
                "chosen": result.chosen,
                "matches": kept,
                "tau_high": TAU_HIGH,
                "tau_low": TAU_LOW,
            }
    want = (max(page, 1) - 1) * ctx.page_size
    listing = queries.skill_page(ctx.db, **filters, sort=sort, limit=ctx.page_size, offset=want)
    p = pager(page, ctx.page_size, listing.total)
    if p.offset != want:  # past the last page: show the last one
        listing = queries.skill_page(
            ctx.db, **filters, sort=sort, limit=ctx.page_size, offset=p.offset
        )
    return render(
        request,
        "library.html",
        {
            "nav_active": "library",
            "q": q,
            "k": k,
            "filters": filters,
            "sort": sort,
            "sorts": list(queries.SORTS),
            "stages": STAGES,
            "statuses": queries.STATUSES,
            "listing": listing,
            "pager": p,
            "search": search,
            "error": error,
            "hidden": hidden,
        },
    )


def _match_rows(ctx: UIContext, result) -> list[MatchRow]:
    out = []
    for m in result.matches:
        try:
            v = ctx.library.get(m.name)
            author, stage = v.author, v.stage
        except SkillError:  # removed since the search
            continue
        chosen = result.chosen is not None and result.chosen.name == m.name
        out.append(
            MatchRow(m.name, m.version, m.score, m.description, m.verified, author, stage, chosen)
        )
    return out


def _keep(r: MatchRow, f: dict) -> bool:
    return (
        (not f["author"] or r.author == f["author"])
        and (not f["status"] or r.verified == (f["status"] == "verified"))
        and (not f["stage"] or r.stage == f["stage"])
    )


@router.get("/skills/{name}")
def skill_page(
    request: Request, name: str, v: int | None = VERSION.query(), diff: int | None = VERSION.query()
):
    """One skill: code, versions and diffs, lineage, stats per family, the runs that used it."""
    ctx: UIContext = request.app.state.ctx
    try:
        history = ctx.library.history(name)
        info = ctx.library.info(name)
        current = ctx.library.get(name, v)
    except SkillError as exc:
        raise HTTPException(404, str(exc)) from None
    numbers = [h.version for h in history]
    base = diff if diff in numbers and diff != current.version else None
    if base is None and diff is None:
        older = [n for n in numbers if n < current.version]
        base = older[-1] if older else None
    lines = []
    if base is not None:
        old = next(h for h in history if h.version == base)
        lines = diff_lines(old.code, current.code, f"{name} v{base}", f"{name} v{current.version}")
    stats = [
        {"family": f, "episodes": e, "successes": s, "rate": s / e if e else None}
        for f, (e, s) in sorted(current.stats.items())
    ]
    total_e = sum(e for _, (e, _) in current.stats.items())
    total_s = sum(s for _, (_, s) in current.stats.items())
    return render(
        request,
        "skill.html",
        {
            "nav_active": "library",
            "skill": current,
            "info": info,
            "history": history,
            "numbers": numbers,
            "code": highlight_python(current.code),
            "base": base,
            "diff": lines,
            "stats": stats,
            "total": {
                "episodes": total_e,
                "successes": total_s,
                "rate": total_s / total_e if total_e else None,
            },
            "stages": STAGES,
            "stage_index": STAGES.index(current.stage) if current.stage in STAGES else 0,
            "children": queries.adapted_into(ctx.db, name),
            "runs": queries.runs_using(ctx.db, name),
        },
    )
