"""End to end in a real headless Chromium: search the library, open a skill, store a correction.

The app is served by uvicorn on 127.0.0.1 and a free port in a thread (`agent.ui.server`);
Playwright drives Debian's `chromium` (`agent.ui.chromium`, nothing downloaded). The
Corrections page runs on the policy's real store: a tiny checkpoint trained in the home,
its failures queued with `enqueue_failures` (see test_ui_queue.py). Skipped, with the
reason, when playwright or a chromium binary is missing.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agent.ui.app import create_app
from agent.ui.chromium import open_page, playwright_missing
from agent.ui.server import serve
from tests.agent.test_ui import make_home
from tests.agent.test_ui_queue import cli_scene, queued_home, stored_rows, with_policy

pytestmark = pytest.mark.skipif(playwright_missing() is not None, reason=str(playwright_missing()))


@pytest.fixture(scope="module")
def browser():
    """One Chromium page for the module (Playwright's sync API runs one at a time)."""
    with open_page(width=1200, height=800) as (page, errors):
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        yield page, errors, dialogs


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    home = tmp_path_factory.mktemp("browser") / "home"
    lib = make_home(home)
    with_policy(queued_home(tmp_path_factory), home)
    app = create_app(home, library=lib)
    with serve(app) as url:
        yield url, *browser, app.state.ctx.corrections, lib, home
    lib.close()


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    return "rgb({}, {}, {})".format(*(int(h[i : i + 2], 16) for i in (0, 2, 4)))


def test_script_in_skill_code_and_reports_stays_text(site):
    url, page, errors, dialogs, _, _, _ = site
    page.goto(url + "/skills/stack_pair")  # its docstring holds <script>alert(1)</script>
    assert "<script>alert(1)</script>" in page.inner_text("#code")
    assert page.eval_on_selector_all("script", "s => s.map(e => e.getAttribute('src'))") == [
        "/static/app.js"
    ]
    # the pygments colours are served by the app and applied under the CSP
    css = (Path(__file__).resolve().parents[2] / "agent/ui/static/pygments.css").read_text()
    keyword = re.search(r"^\.hl \.k \{ color: (#[0-9A-Fa-f]+)", css, re.M).group(1)
    assert page.eval_on_selector("#code .k", "e => getComputedStyle(e).color") == _rgb(keyword)
    page.goto(url + "/learning")  # the continual report's table holds <script>x</script>
    cells = page.locator("#continual td").all_inner_texts()
    assert "<script>x</script>" in cells and "0.81" in cells
    # a right-aligned column (`--:`) is aligned by a class: the CSP refuses inline styles
    acc = page.locator("#continual td", has_text="0.81")
    assert acc.evaluate("e => getComputedStyle(e).textAlign") == "right"
    assert page.eval_on_selector_all("#continual script", "s => s.length") == 0
    assert dialogs == [] and errors == []


def test_search_open_a_skill_and_correct_a_prediction(site):
    url, page, errors, _, queue, lib, home = site
    page.goto(url + "/")
    assert page.title().startswith("Library")
    assert page.locator("#listing a.skill-link").count() == len(lib.list())

    # search: type into the box, press Enter, the Searcher's decision and scores come back
    query = "stack the red cube on the blue cube"
    page.click("#q")
    page.keyboard.type(query)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expected = lib.search(query, 10)
    assert page.locator("#search-results a.skill-link").all_text_contents() == [
        m.name for m in expected.matches
    ]
    assert page.locator(f"#search-results .decision-{expected.decision}").count() > 0
    scores = [float(t) for t in page.locator("#search-results .score").all_text_contents()]
    assert scores == [round(m.score, 3) for m in expected.matches]

    # open the best match
    with page.expect_navigation():
        page.locator("#search-results a.skill-link").first.click()
    assert page.evaluate("location.pathname") == f"/skills/{expected.matches[0].name}"
    assert page.inner_text("#skill-name").startswith(expected.matches[0].name)
    assert page.locator("#code .k").count() > 0  # highlighted: keywords have their class

    # correct a prediction: click the point on the scene image, set the angle, store
    item = queue.pending()[0]
    page.goto(url + "/corrections")
    with page.expect_navigation():
        page.locator("#queue a.card").first.click()
    assert page.evaluate("location.pathname") == f"/corrections/{item.id}"
    page.wait_for_function("document.querySelector('#scene').dataset.ready === '1'")
    img = page.locator("#scene-img")
    img.scroll_into_view_if_needed()
    box = img.bounding_box()
    assert box["width"] > item.width  # shown enlarged
    want_col, want_row = 0.25 * item.width, 0.5 * item.height
    img.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.5})
    assert "hidden" not in (page.get_attribute("#new-pick", "class") or "")
    # the angle slider, moved with the keyboard as a person would
    page.click("#angle")
    start = float(page.input_value("#angle"))
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    angle = float(page.input_value("[name=pick_angle]"))
    assert angle == start + 5
    row = float(page.input_value("[name=pick_row]"))
    col = float(page.input_value("[name=pick_col]"))
    assert abs(col - want_col) < 1.0 and abs(row - want_row) < 1.0
    with page.expect_navigation():
        page.click("#store")
    assert page.locator("#stored").count() == 1
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
    assert errors == []  # app.js ran under the CSP, nothing was blocked, no script error


def test_skillgrove_ui_serves_a_fresh_home_and_stops_by_its_pid(tmp_path, browser):
    """`skillgrove ui --port 0` in its own process: the printed URL shows the seed skills."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--home", str(tmp_path / "home"), "ui", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(300, proc.kill)  # a server that never says where it listens
    watchdog.start()
    try:
        line = proc.stderr.readline()  # printed once the socket listens
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert found, line + proc.stderr.read() if proc.poll() is not None else line
        page, errors, _ = browser
        seen = len(errors)
        page.goto(found.group(1))
        names = page.locator("#listing a.skill-link").all_text_contents()
        seeds = Path(__file__).resolve().parents[2] / "skills" / "seed"
        assert names == sorted(f.stem for f in seeds.glob("*.py") if f.stem != "__init__")
        assert errors[seen:] == []
    finally:
        proc.terminate()  # SIGTERM to this server's own PID: uvicorn shuts down, the library closes
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        watchdog.cancel()
        proc.stderr.close()
    assert code == 0  # stopped by SIGTERM: shut down and closed the library, not killed
