"""Screenshots of every page of the web UI, for the README.

Usage:
    python scripts/screenshots.py --home DIR [--out docs/screenshots] [--width 1200 --height 800]

DIR is a data home with something in it (run `skillgrove --home DIR demo` first; the
continual-learning table appears after `skillgrove --home DIR bench continual`, and the
Corrections pages show a queue after `skillgrove --home DIR policy train` and
`skillgrove --home DIR policy queue --family place`). The home
is copied to a temporary directory first, so the screenshots never change it. The UI is
served on 127.0.0.1 and a free port, and Debian's `chromium`, driven by Playwright (a dev
extra; `agent.ui.chromium`, no browser downloaded), takes the pictures. PNGs are reduced
to a 256-colour palette to keep them small.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEARCH = "put the yellow block on top of the red one"


def shrink(path: Path) -> None:
    """Quantize a screenshot to 256 colours (a UI has few) and save it optimized."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    small.save(path, optimize=True)


def pick_skill(lib) -> str | None:
    """The most interesting skill to show: adapted from another, else the most used."""
    infos = lib.list()
    if not infos:
        return None
    adapted = [i for i in infos if i.latest.parent]
    return max(adapted or infos, key=lambda i: (i.versions, i.uses)).name


def oracle_key(home: Path, prediction_id: str):
    """Where the scripted oracle would have acted in a queued scene (the pose to click), or None."""
    try:
        from agent.policy.queue import open_queue
        from agent.ui.corrections import key_from_pose

        item = open_queue(home).get(int(prediction_id))
        return key_from_pose(item.spec, item.oracle_pick)
    except (ImportError, KeyError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--home", required=True, type=Path, help="the data home to show (copied, never changed)"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=800)
    args = ap.parse_args(argv)

    from agent.run.records import RunStore
    from agent.ui.app import create_app
    from agent.ui.chromium import open_page, playwright_missing
    from agent.ui.server import serve
    from skills.library import open_library

    missing = playwright_missing()
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 1
    if not (args.home / "skillgrove.db").is_file():
        print(
            f"error: {args.home} is not a data home (run `skillgrove --home {args.home} demo`)",
            file=sys.stderr,
        )
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="skillgrove-shots-"))
    home = tmp / "home"
    shutil.copytree(args.home, home, ignore=shutil.ignore_patterns("*.lock"))
    args.out.mkdir(parents=True, exist_ok=True)
    lib = open_library(home)
    runs = RunStore(home)
    recs = runs.list(200)
    runs.close()
    # the run to show: one that had to write code, else the latest
    run = next(
        (
            r
            for r in recs
            if any(d.decision != "reuse" for d in r.decisions) and r.success and r.gif
        ),
        recs[0] if recs else None,
    )
    skill = pick_skill(lib)
    app = create_app(home, library=lib)
    queue = app.state.ctx.corrections
    pending = queue.pending(1) if queue is not None else []
    pages = [
        ("library", "/"),
        ("search", f"/?q={SEARCH.replace(' ', '+')}"),
        ("runs", "/runs"),
        ("corrections", "/corrections"),
        ("learning", "/learning"),
    ]
    if skill:
        pages.insert(2, ("skill", f"/skills/{skill}"))
    if run:
        pages.insert(4, ("run", f"/runs/{run.run_id}"))
    fix = None
    if pending:
        pages.append(("correction", f"/corrections/{pending[0].id}"))
        fix = oracle_key(home, pending[0].id)
    t0 = time.perf_counter()
    with serve(app) as url, open_page(args.width, args.height) as (page, errors):
        for name, path in pages:
            page.goto(url + path)
            # lazy images do not hold the load event back: wait for those on screen
            page.wait_for_function(
                "Array.from(document.images).every(i => i.complete || i.getBoundingClientRect().top > innerHeight)"
            )
            if name == "correction":  # show a correction being made: a click and a turn
                page.wait_for_function("document.querySelector('#scene').dataset.ready === '1'")
                box = page.locator("#scene-img").bounding_box()
                p = fix or pending[0].pick
                if fix is None:
                    p = type(p)(p.row + 4, p.col + 6, p.angle + 30)
                page.mouse.click(
                    box["x"] + box["width"] * min(0.99, p.col / pending[0].width),
                    box["y"] + box["height"] * min(0.99, p.row / pending[0].height),
                )
                page.evaluate(
                    "a => { const s = document.querySelector('#angle'); s.value = String(a);"
                    " s.dispatchEvent(new Event('input')); }",
                    round(p.angle),
                )
            elif name == "learning":  # the policy's benchmark when there is one, else the top
                page.evaluate(
                    "() => { const t = document.querySelector('#continual .md');"
                    " if (t) document.querySelector('#continual').scrollIntoView(); else window.scrollTo(0, 0); }"
                )
            out = args.out / f"{name}.png"
            page.screenshot(path=str(out))
            shrink(out)
            print(
                f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}  {out.stat().st_size // 1024} KiB"
            )
        if errors:
            print("browser console errors:", *errors, sep="\n  ", file=sys.stderr)
    lib.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(pages)} screenshots in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
