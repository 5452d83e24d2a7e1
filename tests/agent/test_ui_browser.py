"""End to end in a real headless Chromium: search the library, open a skill, store a correction.

The app is served by uvicorn on 127.0.0.1 and a free port in a thread; Chromium is driven
over the DevTools protocol by `agent.ui.devtools` (stdlib only). The Corrections page runs
on the policy's real store: a tiny checkpoint trained in the home, its failures queued
with `enqueue_failures` (see test_ui_queue.py). Skipped, with the reason, when no chromium
binary is installed (Debian: `apt-get install -y chromium`).
"""

from __future__ import annotations

import math

import pytest

from agent.ui.app import create_app
from agent.ui.devtools import Browser, find_chromium, serve
from tests.agent.test_ui import make_home
from tests.agent.test_ui_queue import cli_scene, queued_home, stored_rows, with_policy

pytestmark = pytest.mark.skipif(
    find_chromium() is None, reason="chromium is not installed (apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    home = tmp_path_factory.mktemp("browser") / "home"
    lib = make_home(home)
    with_policy(queued_home(tmp_path_factory), home)
    app = create_app(home, library=lib)
    with serve(app) as url, Browser(width=1200, height=800) as browser:
        yield url, browser, app.state.ctx.corrections, lib, home
    lib.close()


def test_search_open_a_skill_and_correct_a_prediction(site):
    url, b, queue, lib, home = site
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
    item = queue.pending()[0]
    b.goto(url + "/corrections")
    b.events.clear()
    b.click_selector("#queue a.card")
    b.wait_event("Page.loadEventFired")
    assert b.evaluate("location.pathname") == f"/corrections/{item.id}"
    b.wait_for("document.querySelector('#scene').dataset.ready === '1'")
    box = b.evaluate(
        "(() => { const e = document.querySelector('#scene-img'); e.scrollIntoView({block: 'center'});"
        " const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()"
    )
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
    row, col = b.evaluate(
        "['pick_row', 'pick_col'].map(n => Number(document.querySelector(`[name=${n}]`).value))"
    )
    assert abs(col - want_col) < 1.0 and abs(row - want_row) < 1.0
    b.events.clear()
    b.click_selector("#store")
    b.wait_event("Page.loadEventFired")
    assert b.evaluate("!!document.querySelector('#stored')")
    # stored in the policy's store, as `policy correct --pixel U V --angle DEG` stores it
    from agent.policy.corrections import clip_to_workspace
    from agent.policy.draw import SCALE
    from agent.policy.human import corrected_pose
    from agent.ui.corrections import KeyPose, key_from_pose, pose_from_key

    (got,) = stored_rows(home)
    scene, spec = cli_scene(home, item.family, item.seed)
    z = corrected_pose(spec, scene, "pick", (col * SCALE, row * SCALE))[2]
    yaw = math.degrees(pose_from_key(spec, KeyPose(row, col, angle), z)[3])
    assert got.corrected_pick == corrected_pose(
        spec, scene, "pick", (col * SCALE, row * SCALE), yaw
    )
    assert got.predicted_pick == clip_to_workspace(scene.pick) and got.expert == "human:ui"
    if scene.place is not None:  # not touched: the prediction is kept
        assert got.corrected_place == clip_to_workspace(scene.place)
    back = key_from_pose(spec, got.corrected_pick)  # drawn where it was clicked, at that angle
    assert abs(back.row - row) < 0.01 and abs(back.col - col) < 0.01
    assert abs(math.remainder(math.radians(back.angle - angle), 2 * math.pi)) < 1e-6
    assert item.id not in [i.id for i in queue.pending()]
    assert b.console == []  # app.js ran under the CSP, nothing was blocked, no script error
