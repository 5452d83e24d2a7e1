"""What the UI's learning page shows of exploration, read from the data home.

`exploration(home)` reads the history (`agent.explore.store.read_home`, no writes) and
returns the sessions, competence per goal template now and over time (each template's
episodes in order, held or not, with the running success rate), library growth and the
running success rate over all episodes (as SVG polyline points, drawn by the template:
the page's Content-Security-Policy allows no inline styles or scripts), and the latest
episodes with what was practised, why, and the verdict.
"""

from __future__ import annotations

from pathlib import Path

from agent.explore.competence import competence
from agent.explore.store import histories, read_home
from agent.explore.templates import by_id

CHART_W, CHART_H = 600, 160
ROLLING = 10  # episodes in the running success rate
LATEST = 100  # episodes listed


def _points(values: list[float], top: float) -> str:
    """SVG polyline points for `values` (0..top) over the chart's width."""
    if not values:
        return ""
    n = len(values)
    step = CHART_W / max(1, n - 1)
    top = top or 1.0
    return " ".join(
        f"{i * step:.1f},{CHART_H - (v / top) * (CHART_H - 10) - 5:.1f}"
        for i, v in enumerate(values)
    )


def exploration(home: Path) -> dict | None:
    """The learning page's exploration section; None when nothing was explored yet."""
    sessions, rows = read_home(home)
    if not sessions and not rows:
        return None
    eps = [r for r in rows if r["kind"] == "episode"]
    known = by_id()
    names = list(dict.fromkeys([*known, *(r["template"] for r in rows)]))
    comps = []
    for h in histories(rows, names):
        c = competence(h)
        if c.attempts == 0 and c.state == "new":
            continue
        mine = [r for r in eps if r["template"] == h.template]
        running, ok = [], 0
        for i, r in enumerate(mine, 1):
            ok += bool(r["success"])
            running.append(round(ok / i, 3))
        group = known[h.template].group if h.template in known else "-"
        comps.append(
            c.to_dict()
            | {
                "group": group,
                "timeline": [bool(r["success"]) for r in mine],
                "running": running,
                "false_atoms": next(
                    (r["false_atoms"] for r in reversed(mine) if r["false_atoms"]), []
                ),
            }
        )
    sizes = [r["library_size"] for r in eps if r["library_size"] is not None]
    rolling = []
    for i in range(len(eps)):
        window = eps[max(0, i - ROLLING + 1) : i + 1]
        rolling.append(sum(bool(r["success"]) for r in window) / len(window))
    per_session = {s["id"]: [r for r in eps if r["session"] == s["id"]] for s in sessions}
    return {
        "sessions": [
            s
            | {
                "episodes": len(per_session[s["id"]]),
                "held": sum(bool(r["success"]) for r in per_session[s["id"]]),
                "library": (s.get("summary") or {}).get("library", {}),
            }
            for s in reversed(sessions)
        ],
        "episodes": len(eps),
        "held": sum(bool(r["success"]) for r in eps),
        "dropped": sum(r["kind"] == "dropped" for r in rows),
        "competence": sorted(comps, key=lambda c: (c["state"], c["template"])),
        "library": {"first": sizes[0] if sizes else None, "last": sizes[-1] if sizes else None},
        "chart": {
            "width": CHART_W,
            "height": CHART_H,
            "library": _points([float(s) for s in sizes], max(sizes, default=1)),
            "success": _points(rolling, 1.0),
            "top": max(sizes, default=0),
        },
        "latest": list(reversed(rows[-LATEST:])),
    }
