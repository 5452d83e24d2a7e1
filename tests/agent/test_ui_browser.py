"""End to end in a real headless Chromium: search the library, open a skill, store a correction.

The app is served by uvicorn on 127.0.0.1 and a free port in a thread; Chromium is driven
over the DevTools protocol by `agent.ui.devtools` (stdlib only). Skipped, with the reason,
when no chromium binary is installed (Debian: `apt-get install -y chromium`).
"""

from __future__ import annotations

import pytest

from agent.ui.app import create_app
from agent.ui.devtools import Browser, find_chromium, serve

from .test_ui import FakeQueue, make_home

pytestmark = pytest.mark.skipif(
    find_chromium() is None, reason="chromium is not installed (apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    home = tmp_path_factory.mktemp("browser") / "home"
    lib = make_home(home)
    queue = FakeQueue()
    app = create_app(home, library=lib, corrections=queue)
    with serve(app) as url, Browser(width=1200, height=800) as browser:
        yield url, browser, queue, lib
    lib.close()


def test_search_open_a_skill_and_correct_a_prediction(site):
    url, b, queue, lib = site
    b.goto(url + "/")
    assert b.evaluate("document.title").startswith("Library")
    rows = b.evaluate("document.querySelectorAll('#listing a.skill-link').length")
    assert rows == len(lib.list())

    # search: type into the box, press Enter, the Searcher's decision and scores come back
    query = "stack the red cube on the blue cube"
    b.click_selector("#q")
    b.type_text(query)
    b.events.clear()
    b.press_enter()
    b.wait_event("Page.loadEventFired")
    b.wait_for("document.querySelector('#search-results') !== null")
    expected = lib.search(query, 10)
    shown = b.evaluate(
        "Array.from(document.querySelectorAll('#search-results a.skill-link')).map(a => a.textContent)"
    )
    assert shown == [m.name for m in expected.matches]
    assert b.evaluate(f"!!document.querySelector('#search-results .decision-{expected.decision}')")
    scores = b.evaluate(
        "Array.from(document.querySelectorAll('#search-results .score')).map(e => Number(e.textContent))"
    )
    assert scores == [round(m.score, 3) for m in expected.matches]

    # open the best match
    b.events.clear()
    b.click_selector("#search-results a.skill-link")
    b.wait_event("Page.loadEventFired")
    assert b.evaluate("location.pathname") == f"/skills/{expected.matches[0].name}"
    assert b.evaluate("document.querySelector('#skill-name').textContent").startswith(
        expected.matches[0].name
    )
    assert b.evaluate("document.querySelectorAll('#code .tok-keyword').length") > 0

    # correct a prediction: click the point on the scene image, set the angle, store
    b.goto(url + "/corrections")
    b.events.clear()
    b.click_selector("#queue a.card")
    b.wait_event("Page.loadEventFired")
    item = queue.items[0]
    assert b.evaluate("location.pathname") == f"/corrections/{item.id}"
    b.wait_for("document.querySelector('#scene').dataset.ready === '1'")
    box = b.evaluate("(() => { const e = document.querySelector('#scene-img'); e.scrollIntoView({block: 'center'});"
                     " const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")  # fmt: skip
    left, top, width, height = box
    assert width > item.width  # shown enlarged
    want_col, want_row = 0.25 * item.width, 0.5 * item.height
    b.click(left + width * 0.25, top + height * 0.5)
    assert b.evaluate("!document.querySelector('#new-pick').classList.contains('hidden')")
    # the angle slider, moved with the keyboard as a person would
    b.click_selector("#angle")
    start = b.evaluate("Number(document.querySelector('#angle').value)")
    for _ in range(5):
        for kind in ("keyDown", "keyUp"):
            b.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key="ArrowRight",
                code="ArrowRight",
                windowsVirtualKeyCode=39,
            )
    angle = b.evaluate("Number(document.querySelector('[name=pick_angle]').value)")
    assert angle == start + 5
    b.events.clear()
    b.click_selector("#store")
    b.wait_event("Page.loadEventFired")
    assert b.evaluate("!!document.querySelector('#stored')")
    assert len(queue.stored) == 1
    pid, pick, place = queue.stored[0]
    assert pid == item.id
    assert abs(pick.col - want_col) < 1.0 and abs(pick.row - want_row) < 1.0 and pick.angle == angle
    assert place == item.place  # not touched: the prediction is kept
    assert b.console == []  # app.js ran under the CSP, nothing was blocked, no script error
