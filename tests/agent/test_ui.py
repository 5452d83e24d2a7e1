"""The web UI through FastAPI's TestClient: every route, the access rules, 10k skills, empty homes.

The library uses the small deterministic HashEmbedder and an in-memory index; nothing
here loads the real model or starts a browser (see test_ui_browser.py for that).
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.errors import AgentError
from agent.run.records import Decision, RunRecord, RunStore
from agent.ui.app import create_app
from agent.ui.corrections import CorrectionQueue, KeyPose, PendingPrediction, StoredCorrection
from agent.ui.highlight import diff_lines, highlight_python, stylesheet
from agent.ui.markdown import render_markdown
from skills.embed import HashEmbedder
from skills.index import MemoryIndex
from skills.library import SkillLibrary

BASE = "http://127.0.0.1:8765"
SAME_ORIGIN = {"Origin": BASE}

STACK_V2 = '''
def stack(robot, top, base):
    """Stack one block on top of another block, centered, then let go slowly.

    Examples:
        stack the red cube on the blue cube
    """
    # a second version: lift first
    robot.pick(robot.find(top))
    robot.place_on(robot.find(top), robot.find(base))
'''

STACK_PAIR = '''
def stack_pair(robot, top, base, lift=0.05):
    """Stack two <b>blocks</b> <script>alert(1)</script> and check the tower.

    Examples:
        put the small cube on the big cube
    """
    robot.place_on(robot.find(top), robot.find(base))
'''


def tiny_png(w: int = 8, h: int = 6) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (40, 120, 80)).save(buf, format="PNG")
    return buf.getvalue()


def tiny_gif() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    return buf.getvalue()


class FakeQueue:
    """A correction queue in memory (the page's interface, `CorrectionQueue`)."""

    def __init__(self, items: int = 3, width: int = 144, height: int = 96) -> None:
        import numpy as np

        self.items = [
            PendingPrediction(
                f"pred-{i}",
                f"put the red cube in the blue bowl {i}",
                "put-in-bowl",
                2 * i + 1,
                "pick_place",
                ("position", "orientation", "")[i % 3],
                "position error 4.1 cm",
                width,
                height,
                KeyPose(30.0 + i, 40.0, 10.0),
                KeyPose(60.0, 100.0, -20.0),
                1000.0 + i,
            )
            for i in range(items)
        ]
        if items:
            self.items.append(
                PendingPrediction(
                    "pred-pickonly",
                    "pick up the green cylinder",
                    "pick",
                    9,
                    "pick",
                    "position",
                    "",
                    width,
                    height,
                    KeyPose(20.0, 20.0, 0.0),
                    None,
                )
            )
        rng = np.random.default_rng(0)
        self.rgb = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        self.stored: list[tuple[str, KeyPose, KeyPose | None]] = []

    def pending(self, limit=50, offset=0):
        return self.items[offset : offset + limit]

    def count(self):
        return len(self.items)

    def get(self, prediction_id):
        for it in self.items:
            if it.id == prediction_id:
                return it
        raise KeyError(prediction_id)

    def image(self, prediction_id):
        self.get(prediction_id)
        return self.rgb

    def correct(self, prediction_id, pick, place):
        item = self.get(prediction_id)
        self.items.remove(item)
        self.stored.append((prediction_id, pick, place))
        return StoredCorrection(
            f"c{len(self.stored)}",
            prediction_id,
            item.instruction,
            item.family,
            time.time(),
            f"pick at ({pick.row:.1f}, {pick.col:.1f})",
        )

    def recent(self, limit=20):
        return [
            StoredCorrection(f"c{i + 1}", p, "x", "f", 0.0, "s")
            for i, (p, _, _) in enumerate(self.stored)
        ][::-1][:limit]


def make_home(home: Path) -> SkillLibrary:
    """A library with seeds, a second version, an adapted skill and stats; a run; reports."""
    lib = SkillLibrary(home, HashEmbedder(), MemoryIndex())
    lib.add("stack", STACK_V2, author="synthesizer", parent=("stack", 1), stats={"stack": (5, 4)})
    lib.add("stack_pair", STACK_PAIR, author="llm:test-model", verified=False, parent=("stack", 2))
    lib.record_stats("stack_pair", 1, "stack", 3, 1, stage="runtime")
    lib.record_use("stack")
    runs = RunStore(home)
    rec = RunRecord(
        run_id="run0000001",
        instruction="stack the red cube on the blue cube",
        family="stack",
        family_source="given",
        seed=3,
        planner="offline",
        perception="oracle",
        plan=("stack the red cube on the blue cube",),
        decisions=(
            Decision(
                "stack the red cube on the blue cube",
                "reuse",
                0.9123,
                "stack",
                2,
                1,
                ({"recipe": "library:stack@v2", "stage": "success", "success_rate": 0.8},),
            ),
        ),
        skills=("stack@v2",),
        success=True,
        status="ok",
        reason=None,
        seconds=1.5,
        llm_calls=0,
        tokens=0,
        args={"top": "red cube", "base": "blue cube"},
        poses={"red cube": [0.5, 0.1, 0.05, 12.0]},
    )
    runs.save(rec, gif=tiny_gif())
    runs.save(
        dataclasses.replace(
            rec,
            run_id="run0000002",
            success=False,
            skills=(),
            gif=None,
            instruction="swap the cubes",
            created=rec.created + 1,
            reason="no skill",
        )
    )
    runs.close()
    rep = home / "learn" / "basic-20260101-000000"
    rep.mkdir(parents=True)
    report = {
        "suite": "basic",
        "seconds": 12.5,
        "success_rate": 0.75,
        "library_size": [11, 12],
        "passes": [
            {
                "pass": 1,
                "tasks": 2,
                "success_rate": 0.5,
                "reuse_rate": 0.5,
                "synthesized": 1,
                "llm_calls": 0,
            }
        ],
        "tasks": [
            {
                "pass": 1,
                "family": "stack",
                "seed": 3,
                "instruction": "stack it",
                "success": True,
                "decisions": ["reuse"],
                "seconds": 1.0,
                "run_id": "run0000001",
            }
        ],
    }
    (rep / "report.json").write_text(json.dumps(report))
    (rep / "library_growth.png").write_bytes(tiny_png())
    (rep / "success.png").write_bytes(tiny_png())
    cont = home / "bench" / "continual"
    cont.mkdir(parents=True)
    (cont / "continual.md").write_text(
        "# Continual learning\n\n| strategy | ACC | BWT |\n|---|--:|--:|\n| ewc | 0.81 | -0.02 |\n| <script>x</script> | 1 | 0 |\n"
    )
    (cont / "r_matrix_ewc.png").write_bytes(tiny_png())
    return lib


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("ui") / "home"
    lib = make_home(home)
    yield home, lib
    lib.close()


@pytest.fixture(scope="module")
def queue():
    return FakeQueue()


@pytest.fixture(scope="module")
def client(home, queue):
    app = create_app(home[0], library=home[1], corrections=queue)
    with TestClient(app, base_url=BASE) as c:
        yield c


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# -- library -----------------------------------------------------------------------------
def test_library_lists_every_skill_with_its_facts(client, home):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    lib = home[1]
    page = r.text
    for info in lib.list():
        assert f'href="/skills/{info.name}"' in page
    row = page[page.index('href="/skills/stack"') :].split("</tr>")[0]
    t = text_of(row)
    assert (
        "synthesizer" in t and "v2" in t and "80%" in t and "4/5" in t
    )  # author, version, success rate
    assert re.search(r"\b1\s*$", t)  # uses
    pair = text_of(page[page.index('href="/skills/stack_pair"') :].split("</tr>")[0])
    assert "unverified" in pair and "33%" in pair and "llm:test-model" in pair
    assert "&lt;script&gt;" in page and "<script>alert" not in page  # descriptions are escaped


def test_library_search_uses_the_real_searcher(client, home):
    q = "stack the red cube on the blue cube"
    expected = home[1].search(q, 5)
    r = client.get("/", params={"q": q, "k": 5})
    assert r.status_code == 200
    section = r.text[r.text.index('id="search-results"') :]
    assert f"decision-{expected.decision}" in section
    names = re.findall(r'class="skill-link" href="/skills/(\w+)"', section.split("</section>")[0])
    assert names == [m.name for m in expected.matches]
    for m in expected.matches:
        assert f"{m.score:.3f}" in section
    assert expected.chosen is not None and "chosen" in section
    nonsense = client.get("/", params={"q": "qqq zzzz xylophone"})
    assert "decision-synthesize" in nonsense.text and "would synthesize" in nonsense.text
    blank = client.get("/", params={"q": "   "})
    assert blank.status_code == 200 and 'id="search-results"' not in blank.text


def test_library_filters_by_author_status_and_stage(client):
    synth = client.get("/", params={"author": "synthesizer"}).text
    listed = re.findall(r'class="skill-link" href="/skills/(\w+)"', synth)
    assert listed == ["stack"]
    unver = client.get("/", params={"status": "unverified"}).text
    assert re.findall(r'class="skill-link" href="/skills/(\w+)"', unver) == ["stack_pair"]
    runtime = client.get("/", params={"stage": "runtime"}).text
    assert re.findall(r'class="skill-link" href="/skills/(\w+)"', runtime) == ["stack_pair"]
    seeds = client.get("/", params={"author": "seed", "status": "verified"}).text
    names = re.findall(r'class="skill-link" href="/skills/(\w+)"', seeds)
    assert "stack" not in names and "pick_up" in names
    # filters apply to search matches too
    s = client.get("/", params={"q": "stack the red cube on the blue cube", "author": "seed"}).text
    section = s[s.index('id="search-results"') :].split("</section>")[0]
    assert (
        'class="skill-link" href="/skills/stack"' not in section
        and "hidden by the filters" in section
    )
    bogus = client.get("/", params={"status": "bogus", "stage": "nope", "sort": "drop table"})
    assert bogus.status_code == 200


def test_library_sorts_and_pages(home, queue):
    app = create_app(home[0], library=home[1], corrections=queue, page_size=4)
    with TestClient(app, base_url=BASE) as c:
        total = len(home[1].list())
        seen = []
        for page in range(1, (total + 3) // 4 + 1):
            r = c.get("/", params={"page": page})
            seen += re.findall(r'class="skill-link" href="/skills/(\w+)"', r.text)
        assert seen == sorted(i.name for i in home[1].list())
        last = c.get("/", params={"page": 999}).text  # past the end: the last page
        assert (
            re.findall(r'class="skill-link" href="/skills/(\w+)"', last)
            == seen[-(total % 4 or 4) :]
        )
        r = c.get("/", params={"page": 2, "author": "seed"})
        assert 'href="?page=3&amp;author=seed"' in r.text or "author=seed&amp;page=3" in r.text
        by_uses = re.findall(
            r'class="skill-link" href="/skills/(\w+)"', c.get("/", params={"sort": "uses"}).text
        )
        assert by_uses[0] == "stack"
        assert c.get("/", params={"page": "x"}).status_code == 422


# -- skill -------------------------------------------------------------------------------
def test_skill_page_shows_code_versions_lineage_stats_and_runs(client, home):
    r = client.get("/skills/stack")
    assert r.status_code == 200
    page = r.text
    code = page[page.index('id="code"') :].split("</pre>")[0]
    assert '<span class="k">def</span><span class="w"> </span><span class="nf">stack</span>' in code
    assert '<span class="c1"># a second version: lift first</span>' in code
    shown = html.unescape(re.sub(r"<[^>]+>", "", code.split("<code>", 1)[1].split("</code>")[0]))
    assert shown == home[1].get("stack").code.rstrip("\n")  # every character, in order
    assert "v1" in page and "v2" in page and "/skills/stack?v=1" in page
    diff = page[page.index('id="diff"') :]
    assert (
        'class="d-add"' in diff
        and 'class="d-del"' in diff
        and "stack v1" in diff
        and "stack v2" in diff
    )
    lineage = text_of(page[page.index('id="lineage"') : page.index('id="stats"')])
    assert "adapted from stack v1" in lineage and "stack_pair v1 (from v2)" in lineage
    stats = text_of(page[page.index('id="stats"') : page.index('id="history"')])
    assert "stack 5 4 80%" in stats
    runs = page[page.index('id="runs"') :]
    assert 'href="/runs/run0000001"' in runs and "run0000002" not in runs


def test_skill_page_versions_and_diffs(client):
    v1 = client.get("/skills/stack", params={"v": 1}).text
    assert "# a second version" not in v1 and "(latest v2)" in v1
    both = client.get("/skills/stack", params={"v": 2, "diff": 1}).text
    added = re.findall(r'<span class="d-add">(.*?)</span>\n?(?=<span class="d-|</pre>)', both)
    assert '+    <span class="c1"># a second version: lift first</span>' in added
    same = client.get("/skills/stack", params={"v": 2, "diff": 2}).text
    assert 'class="d-add"' not in same
    child = client.get("/skills/stack_pair").text
    assert "adapted from" in text_of(child) and 'href="/skills/stack?v=2"' in child
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in child and "<script>alert(1)" not in child


@pytest.mark.parametrize("url", ["/skills/nope", "/skills/stack?v=9", "/skills/..%2F..%2Fetc"])
def test_unknown_skill_or_version_is_404(client, url):
    r = client.get(url)
    assert r.status_code == 404
    if "etc" not in url:
        assert "no skill named" in r.text or "has no version 9" in r.text


# -- runs --------------------------------------------------------------------------------
def test_runs_list_and_detail(client):
    r = client.get("/runs")
    assert r.status_code == 200
    assert r.text.index("run0000002") < r.text.index("run0000001")  # newest first
    d = client.get("/runs/run0000001")
    t = text_of(d.text)
    assert d.status_code == 200
    assert 'src="/runs/run0000001/replay.gif"' in d.text
    assert "stack the red cube on the blue cube" in t and "reuse" in t and "0.912" in t
    assert "library:stack@v2" in t and "80%" in t and "success" in t
    assert 'href="/skills/stack?v=2"' in d.text and "red cube" in t
    gif = client.get("/runs/run0000001/replay.gif")
    assert (
        gif.status_code == 200
        and gif.headers["content-type"] == "image/gif"
        and gif.content[:6] == b"GIF89a"
    )
    failed = client.get("/runs/run0000002")
    assert "failed" in failed.text and "no skill" in failed.text and "No replay" in failed.text
    assert client.get("/runs/run0000002/replay.gif").status_code == 404
    assert client.get("/runs/missing").status_code == 404


def test_run_gif_never_leaves_the_home(home, queue, tmp_path):
    secret = home[0].parent / "secret.gif"
    secret.write_bytes(tiny_gif())
    store = RunStore(home[0])
    rec = store.get("run0000001")
    store.save(dataclasses.replace(rec, run_id="evil", gif="../secret.gif"))
    store.close()
    app = create_app(home[0], library=home[1], corrections=queue)
    with TestClient(app, base_url=BASE) as c:
        assert c.get("/runs/evil/replay.gif").status_code == 404
        assert 'replay.gif"' not in c.get("/runs/evil").text
    store = RunStore(home[0])
    store._db.execute("DELETE FROM runs WHERE run_id = 'evil'")
    store._db.commit()
    store.close()


def test_runs_are_paged(tmp_path):
    lib = SkillLibrary(tmp_path, HashEmbedder(), MemoryIndex(), install_seeds=False)
    store = RunStore(tmp_path)
    base = RunRecord(
        "r",
        "pick up the red cube",
        "pick",
        "given",
        0,
        "offline",
        "oracle",
        ("pick",),
        (),
        (),
        True,
        "ok",
        None,
        0.1,
        0,
        0,
    )
    for i in range(7):
        store.save(dataclasses.replace(base, run_id=f"run{i:03d}", created=1000.0 + i))
    store.close()
    app = create_app(tmp_path, library=lib, corrections=FakeQueue(), page_size=3)
    with TestClient(app, base_url=BASE) as c:
        p1 = re.findall(r'href="/runs/(run\d+)"', c.get("/runs").text)
        p3 = re.findall(r'href="/runs/(run\d+)"', c.get("/runs", params={"page": 3}).text)
        assert p1 == ["run006", "run005", "run004"] and p3 == ["run000"]
    lib.close()


# -- learning ----------------------------------------------------------------------------
def test_learning_page_shows_curriculum_and_continual_results(client):
    r = client.get("/learning")
    assert r.status_code == 200
    t = text_of(r.text)
    assert "basic" in t and "75%" in t and "11 → 12 skills" in t
    assert 'src="/learning/curriculum/basic-20260101-000000/library_growth.png"' in r.text
    assert 'src="/learning/curriculum/basic-20260101-000000/success.png"' in r.text
    cont = r.text[r.text.index('id="continual"') :]
    assert '<th class="al-right">ACC</th>' in cont and '<td class="al-right">0.81</td>' in cont
    assert "&lt;script&gt;" in cont
    assert 'src="/learning/continual/r_matrix_ewc.png"' in cont
    for url in (
        "/learning/curriculum/basic-20260101-000000/library_growth.png",
        "/learning/continual/r_matrix_ewc.png",
    ):
        img = client.get(url)
        assert img.status_code == 200 and img.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    "url",
    [
        "/learning/curriculum/basic-20260101-000000/report.json",
        "/learning/curriculum/..%2F..%2Fsecret/success.png",
        "/learning/curriculum/nope/success.png",
        "/learning/continual/..%2Fcontinual.md",
        "/learning/continual/continual.md",
        "/learning/continual/missing.png",
    ],
)
def test_learning_files_are_whitelisted(client, url):
    assert client.get(url).status_code == 404


# -- corrections -------------------------------------------------------------------------
def test_correction_queue_and_page(client, queue):
    assert isinstance(queue, CorrectionQueue)
    r = client.get("/corrections")
    assert r.status_code == 200
    for it in queue.items:
        assert (
            f'href="/corrections/{it.id}"' in r.text
            and f'src="/corrections/{it.id}/image.png"' in r.text
        )
        # each card has the predicted poses drawn over its image
        k = it.pick
        assert f'transform="translate({k.col:.2f} {k.row:.2f}) rotate({-k.angle:.1f})"' in r.text
    page = client.get("/corrections/pred-1").text
    assert 'id="pred-pick" class="glyph" transform="translate(40.00 31.00) rotate(-10.0)"' in page
    assert 'id="pred-place" class="glyph" transform="translate(100.00 60.00) rotate(20.0)"' in page
    assert 'viewBox="0 0 144 96"' in page and 'name="place_row"' in page and "position" in page
    pick_only = client.get("/corrections/pred-pickonly").text
    assert 'name="place_row"' not in pick_only and 'id="pred-place"' not in pick_only
    img = client.get("/corrections/pred-1/image.png")
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    from PIL import Image

    assert Image.open(io.BytesIO(img.content)).size == (144, 96)
    assert client.get("/corrections/nope").status_code == 404
    assert client.get("/corrections/nope/image.png").status_code == 404
    assert client.get("/corrections/..%2Fx").status_code == 404


def test_storing_a_correction(home):
    q = FakeQueue()
    app = create_app(home[0], library=home[1], corrections=q)
    with TestClient(app, base_url=BASE) as c:
        form = {
            "pick_row": "12.5",
            "pick_col": "77.25",
            "pick_angle": "30",
            "place_row": "50",
            "place_col": "90",
            "place_angle": "-170",
        }
        r = c.post("/corrections/pred-0", data=form, headers=SAME_ORIGIN, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/corrections/pred-1?stored=c1"
        assert q.stored == [("pred-0", KeyPose(12.5, 77.25, 30.0), KeyPose(50.0, 90.0, -170.0))]
        nxt = c.get(r.headers["location"]).text
        assert 'id="stored"' in nxt and "c1" in nxt
        assert c.get("/corrections/pred-0").status_code == 404  # dequeued
        # Sec-Fetch-Site and Referer also prove the same origin
        r = c.post(
            "/corrections/pred-pickonly",
            data={"pick_row": "1", "pick_col": "2", "pick_angle": "0"},
            headers={"Sec-Fetch-Site": "same-origin"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and q.stored[-1] == (
            "pred-pickonly",
            KeyPose(1.0, 2.0, 0.0),
            None,
        )
        bad = [
            {**form, "pick_row": "500"},  # outside the image
            {**form, "pick_col": "-1"},
            {**form, "pick_angle": "nan"},
            {k: v for k, v in form.items() if k != "place_col"},  # the place is missing
            {**form, "pick_row": "abc"},
        ]
        for f in bad:
            assert (
                c.post(
                    "/corrections/pred-1", data=f, headers={"Referer": BASE + "/corrections/pred-1"}
                ).status_code
                == 422
            ), f
        assert c.post("/corrections/nope", data=form, headers=SAME_ORIGIN).status_code == 404
        assert len(q.stored) == 2
        for _ in range(len(q.items)):
            r = c.post(
                f"/corrections/{q.items[0].id}",
                data=form,
                headers=SAME_ORIGIN,
                follow_redirects=False,
            )
        assert r.headers["location"].startswith("/corrections?stored=")  # the queue is empty now
        assert "Nothing is waiting" in c.get(r.headers["location"]).text


def test_without_a_correction_store_the_page_says_so(home):
    app = create_app(home[0], library=home[1], corrections=None)
    app.state.ctx.corrections = None
    with TestClient(app, base_url=BASE) as c:
        assert "No correction store" in c.get("/corrections").text
        assert c.get("/corrections/pred-0").status_code == 404


# -- empty home --------------------------------------------------------------------------
def test_an_empty_home_renders_every_page(tmp_path):
    lib = SkillLibrary(tmp_path, HashEmbedder(), MemoryIndex(), install_seeds=False)
    app = create_app(tmp_path, library=lib, corrections=FakeQueue(items=0))
    with TestClient(app, base_url=BASE) as c:
        assert "The library is empty" in c.get("/").text
        s = c.get("/", params={"q": "pick up the red cube"})
        assert s.status_code == 200 and "decision-synthesize" in s.text
        assert "No runs yet" in c.get("/runs").text
        learning = c.get("/learning").text
        assert (
            "No curriculum report yet" in learning
            and "No continual-learning benchmark yet" in learning
        )
        assert "Nothing is waiting" in c.get("/corrections").text
        assert c.get("/skills/pick_up").status_code == 404
    lib.close()


# -- 10k skills --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big(tmp_path_factory):
    home = tmp_path_factory.mktemp("big")
    lib = SkillLibrary(home, HashEmbedder(), MemoryIndex(), install_seeds=False)
    code = 'def {n}(robot, obj):\n    """Move block {i} to spot {j}."""\n    robot.pick(robot.find(obj))\n'
    tmpl = lib.prepare("s_00000", code.format(n="s_00000", i=0, j=0))
    versions = [
        dataclasses.replace(
            tmpl,
            name=f"s_{i:05d}",
            code=code.format(n=f"s_{i:05d}", i=i, j=i % 97),
            description=f"Move block {i} to spot {i % 97}.",
            examples=(),
            author=("synthesizer", "human")[i % 2],
            stats={"pick": (4, i % 5)},
        )
        for i in range(10_000)
    ]
    lib.add_many(versions, uses={f"s_{i:05d}": i % 13 for i in range(10_000)})
    yield home, lib
    lib.close()


def test_ten_thousand_skills_page_and_search_fast(big):
    home, lib = big
    app = create_app(home, library=lib, corrections=FakeQueue())
    with TestClient(app, base_url=BASE) as c:
        t0 = time.perf_counter()
        r = c.get("/")
        first = time.perf_counter() - t0
        assert r.status_code == 200 and "10000 skills" in r.text
        assert len(re.findall(r'class="skill-link"', r.text)) == 50
        assert 'href="?page=200"' in r.text and len(r.text) < 200_000  # a page, not the library
        t0 = time.perf_counter()
        last = c.get("/", params={"page": 200, "author": "human", "sort": "success"})
        assert time.perf_counter() - t0 < 2.0 and first < 2.0
        assert (
            len(re.findall(r'class="skill-link"', last.text)) == 50 and "5000 of 10000" in last.text
        )
        s = c.get("/", params={"q": "move block 4242 to spot 71", "k": 5})
        assert s.status_code == 200
        section = s.text[s.text.index('id="search-results"') :]
        assert 'href="/skills/s_04242"' in section
        assert c.get("/skills/s_09999").status_code == 200


# -- access rules ------------------------------------------------------------------------
def test_pages_carry_a_strict_content_security_policy(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
        and "unsafe-inline" not in csp
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in r.text  # no inline scripts: only /static/app.js


def test_foreign_host_header_is_refused(client):
    # a page on another site re-pointing its name at 127.0.0.1 (DNS rebinding)
    assert client.get("/", headers={"host": "evil.example:8765"}).status_code == 421
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


def test_writes_need_the_same_origin(client, queue):
    item = queue.items[0].id
    form = {"key": "pick", "row": "10", "col": "20", "yaw_deg": "15"}
    assert client.post(f"/corrections/{item}", data=form).status_code == 403  # no Origin at all
    assert (
        client.post(
            f"/corrections/{item}", data=form, headers={"Origin": "http://evil.example"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/corrections/{item}", data=form, headers={"Sec-Fetch-Site": "cross-site"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/corrections/{item}", data=form, headers={"Referer": "http://evil.example/x"}
        ).status_code
        == 403
    )
    assert not queue.stored


def test_token_mode(home, queue):
    with pytest.raises(AgentError, match="needs a token"):
        create_app(home[0], library=home[1], corrections=queue, host="0.0.0.0")
    app = create_app(
        home[0], library=home[1], corrections=queue, host="0.0.0.0", token="s3cret-token"
    )
    with TestClient(app, base_url="http://192.168.1.5:8765") as c:
        assert c.get("/").status_code == 401
        assert c.get("/static/style.css").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/", params={"token": "wrong"}).status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        assert c.get("/runs", headers={"X-Skillgrove-Token": "s3cret-token"}).status_code == 200
        r = c.get("/runs", params={"token": "s3cret-token", "page": "1"}, follow_redirects=False)
        assert (
            r.status_code == 303
            and "token" not in r.headers["location"]
            and "page=1" in r.headers["location"]
        )
        cookie = r.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        assert c.get("/runs").status_code == 200  # the cookie now
        # a write: cookie plus same origin, or the token in a header
        item = queue.items[-1].id
        form = {"key": "pick", "row": "10", "col": "20", "yaw_deg": "15"}
        assert c.post(f"/corrections/{item}", data=form).status_code == 403
        c.cookies.clear()
        assert (
            c.post(
                f"/corrections/{item}", data=form, headers={"Origin": "http://192.168.1.5:8765"}
            ).status_code
            == 401
        )


def test_cli_refuses_to_expose_the_ui_without_a_token(tmp_path, capsys):
    from agent.cli import main

    assert main(["--home", str(tmp_path), "ui", "--host", "0.0.0.0"]) != 0
    err = capsys.readouterr().err
    assert "--token" in err and "Traceback" not in err
    assert main(["--home", str(tmp_path), "ui", "--token", "short"]) != 0


# -- assets and helpers ------------------------------------------------------------------
def test_every_asset_is_local(client):
    root = Path(__file__).resolve().parents[2] / "agent" / "ui"
    for f in [*root.glob("templates/*.html"), *root.glob("static/*")]:
        text = f.read_text()
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), f
        assert "@import" not in text and "cdn" not in text.lower(), f
    for name in ("style.css", "pygments.css", "app.js", "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200
    assert 'href="/static/pygments.css"' in client.get("/").text


def _css_classes(markup: str) -> set[str]:
    return {c for attr in re.findall(r'class="([^"]*)"', markup) for c in attr.split()}


def test_highlighter_marks_tokens_keeps_every_character_and_escapes():
    code = (
        "@deco\ndef f(robot, x=0x1F):  # </code></pre><script>alert(1)</script>\n"
        '    return \'a<b\' + """c\n""" if x else 2.5e-3\n'
    )
    out = str(highlight_python(code))
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert '<span class="nd">@deco</span>' in out and '<span class="nf">f</span>' in out
    assert '<span class="k">def</span>' in out and '<span class="mh">0x1F</span>' in out
    assert html.unescape(re.sub(r"<[^>]+>", "", out)) == code.rstrip("\n")
    # every token class the seed skills need has a colour in the stylesheet the app serves
    css = (Path(__file__).resolve().parents[2] / "agent/ui/static/pygments.css").read_text()
    seeds = Path(__file__).resolve().parents[2] / "skills" / "seed"
    used = set().union(*(_css_classes(highlight_python(f.read_text())) for f in seeds.glob("*.py")))
    styled = set(re.findall(r"^\.hl \.(\S+) ", stylesheet(), re.M))  # what the style colours
    served = set(re.findall(r"^\.hl \.(\S+) ", css, re.M))
    assert {"k", "nf", "sd"} <= used & styled and used & styled <= served


def test_diffs_are_difflibs_unified_diff_highlighted_in_context():
    import difflib

    old = 'def f(robot):\n    """Doc\n    more <b>\n    """\n    return 1\n'
    new = old.replace("more", "less").replace("return 1", "return 2  # two")
    lines = diff_lines(old, new, "f v1", "f v2", context=1)
    want = difflib.unified_diff(
        old.splitlines(), new.splitlines(), "f v1", "f v2", n=1, lineterm=""
    )
    assert [d.text for d in lines] == list(want)
    assert [d.kind for d in lines] == [
        "file",
        "file",
        "hunk",
        "ctx",
        "del",
        "add",
        "ctx",
        "del",
        "add",
    ]
    for d in lines:
        assert html.unescape(re.sub(r"<[^>]+>", "", d.html)) == d.text
    # a line inside a docstring is coloured as the docstring it belongs to, even alone in a hunk
    assert lines[4].html == '-<span class="sd">    more &lt;b&gt;</span>'
    assert '<span class="c1"># two</span>' in lines[8].html
    assert diff_lines(old, old, "a", "b") == []


def test_markdown_tables_are_rendered_and_escaped():
    out = render_markdown(
        "## R\n\n| a | b |\n|---|--:|\n| `x` | **<i>** |\n\ntext & more\n- item\n\n"
        "<script>alert(1)</script>\n\n[bad](javascript:alert(1)) [ok](https://example.org/r)"
    )
    assert "<h3>R</h3>" in out and "<th>a</th>" in out and "<td><code>x</code></td>" in out
    assert '<table class="grid">' in out and '<th class="al-right">b</th>' in out
    assert "style=" not in out  # the CSP refuses inline styles: alignment is a class
    assert (
        "<strong>&lt;i&gt;</strong>" in out
        and "<p>text &amp; more</p>" in out
        and "<li>item</li>" in out
    )
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert re.findall(r"<a [^>]*>", out) == ['<a href="https://example.org/r">']  # no javascript:
    assert '<a href="https://example.org/r">ok</a>' in out


def test_keys_on_the_image_map_to_world_poses_and_back():
    import math

    from agent.policy.geometry import ImageSpec
    from agent.ui.corrections import key_from_pose, pose_from_key

    spec = ImageSpec()
    for pose in [(0.5, 0.1, 0.02, 0.3), (0.42, -0.15, 0.05, -1.2), (0.6, 0.0, 0.0, 2.8)]:
        key = key_from_pose(spec, pose)
        h, w = spec.shape
        assert 0 <= key.row < h and 0 <= key.col < w
        back = pose_from_key(spec, key, pose[2])
        assert math.dist(back[:2], pose[:2]) < 1e-6 and back[2] == pose[2]
        assert abs(math.remainder(back[3] - pose[3], 2 * math.pi)) < 1e-6
    # turning the key on the image turns the pose by the same amount (the top camera looks down)
    k = key_from_pose(spec, (0.5, 0.0, 0.02, 0.0))
    turned = pose_from_key(spec, KeyPose(k.row, k.col, k.angle + 30), 0.02)
    assert abs(abs(math.degrees(turned[3])) - 30) < 1e-6
