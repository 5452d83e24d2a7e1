"""Learning: exploration, curriculum reports and the continual-learning benchmark.

Exploration (`learn --explore`) is read from the home's database by
`agent.explore.report.exploration` and drawn by `_explore.html`.

Curriculum reports are `<home>/learn/<suite>-<time>/report.json` with `library_growth.png`
and `success.png` beside them (`agent.run.curriculum`). The continual-learning benchmark
writes a Markdown table and R-matrix heatmaps (PNG) into a directory of the home; the
newest such directory is shown (see `continual_dirs`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from agent.explore.report import exploration
from agent.ui.context import UIContext, render
from agent.ui.files import inside
from agent.ui.markdown import render_markdown

router = APIRouter()
CURRICULUM_PLOTS = ("library_growth.png", "success.png")
# Where the continual-learning benchmark leaves its report, relative to the home.
CONTINUAL_GLOBS = ("bench/continual*", "continual*", "policy/bench*", "policy/continual*")
_SAFE = re.compile(r"^[\w][\w.\-]*$")


def curriculum_reports(home: Path) -> list[Path]:
    """Report directories, newest first."""
    learn = home / "learn"
    dirs = [p.parent for p in learn.glob("*/report.json")] if learn.is_dir() else []
    return sorted(dirs, key=lambda d: ((d / "report.json").stat().st_mtime, d.name), reverse=True)


def continual_dirs(home: Path) -> list[Path]:
    """Directories holding a continual-learning benchmark report (Markdown), newest first."""
    found = set()
    for pattern in CONTINUAL_GLOBS:
        for d in home.glob(pattern):
            if d.is_dir() and any(d.glob("*.md")):
                found.add(d)
            elif d.is_dir():  # one level down: a run directory per benchmark
                found.update(x for x in d.iterdir() if x.is_dir() and any(x.glob("*.md")))
    return sorted(found, key=lambda d: max(f.stat().st_mtime for f in d.glob("*.md")), reverse=True)


def _without_title(text: str) -> str:
    """A report without its leading '# title' line (the section has its own heading)."""
    first, _, rest = text.lstrip().partition("\n")
    return rest if first.startswith("# ") else text


def _load_report(d: Path) -> dict | None:
    try:
        data = json.loads((d / "report.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@router.get("/learning")
def learning_page(request: Request, report: str = ""):
    ctx: UIContext = request.app.state.ctx
    reports = curriculum_reports(ctx.home)
    chosen = next((d for d in reports if d.name == report), reports[0] if reports else None)
    data = _load_report(chosen) if chosen else None
    plots = [f for f in CURRICULUM_PLOTS if chosen and (chosen / f).is_file()]
    cont = continual_dirs(ctx.home)
    continual = None
    if cont:
        d = cont[0]
        continual = {
            "dir": d.relative_to(ctx.home).as_posix(),
            "tables": [
                (f.name, render_markdown(_without_title(f.read_text(errors="replace"))))
                for f in sorted(d.glob("*.md"))
            ],
            "images": sorted(f.name for f in d.glob("*.png") if _SAFE.match(f.name)),
        }
    return render(
        request,
        "learning.html",
        {
            "nav_active": "learning",
            "reports": [d.name for d in reports],
            "chosen": chosen.name if chosen else None,
            "report": data,
            "plots": plots,
            "continual": continual,
            "explore": exploration(ctx.home),
        },
    )


@router.get("/learning/curriculum/{name}/{file}")
def curriculum_plot(request: Request, name: str, file: str):
    ctx: UIContext = request.app.state.ctx
    if file not in CURRICULUM_PLOTS or not _SAFE.match(name):
        raise HTTPException(404, "no such plot")
    path = inside(ctx.home, Path("learn") / name / file)
    if path is None:
        raise HTTPException(404, "no such plot")
    return FileResponse(path, media_type="image/png")


@router.get("/learning/continual/{file}")
def continual_image(request: Request, file: str):
    ctx: UIContext = request.app.state.ctx
    dirs = continual_dirs(ctx.home)
    if not dirs or not _SAFE.match(file) or not file.endswith(".png"):
        raise HTTPException(404, "no such image")
    path = inside(ctx.home, dirs[0].relative_to(ctx.home) / file)
    if path is None:
        raise HTTPException(404, "no such image")
    return FileResponse(path, media_type="image/png")
