"""Out-of-range numbers in the web UI are a 4xx, never a 500 (issue 19, finding 9), and
the Corrections page refuses the angles `policy correct` refuses (one validator)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from agent.errors import AgentError
from agent.policy.corrections import validate_angle
from agent.ui.app import create_app
from agent.ui.corrections import PolicyCorrectionQueue
from skills.embed import HashEmbedder
from skills.index import MemoryIndex
from skills.library import SkillLibrary
from tests.agent.test_ui import BASE, SAME_ORIGIN, FakeQueue

BIG = "9223372036854775807"  # 2**63 - 1
HUGE = "99999999999999999999"  # > 2**64


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("bounds")
    lib = SkillLibrary(home, HashEmbedder(), MemoryIndex())
    yield home, lib
    lib.close()


def _client(home, corrections):
    app = create_app(home[0], library=home[1], corrections=corrections)
    return TestClient(app, base_url=BASE, raise_server_exceptions=False)


@pytest.mark.parametrize(
    "url",
    [
        f"/?page={BIG}",
        f"/?page={HUGE}",
        f"/?page=-{HUGE}",
        "/?page=0",
        f"/runs?page={HUGE}",
        f"/corrections?page={HUGE}",
        f"/skills/stack?v={HUGE}",
        f"/skills/stack?v=-{HUGE}",
        f"/skills/stack?diff={HUGE}",
        f"/?k={HUGE}",
        "/?page=1e400",
    ],
)
def test_big_numbers_in_queries_are_422(home, url):
    with _client(home, FakeQueue()) as c:
        r = c.get(url)
    assert r.status_code == 422, (url, r.status_code)
    assert "bad input" in r.text  # the error page, naming the parameter


def test_numbers_in_range_still_work(home):
    with _client(home, FakeQueue()) as c:
        assert c.get("/", params={"page": 1_000_000}).status_code == 200  # past the end: last page
        assert c.get("/skills/stack", params={"v": 1}).status_code == 200
        assert c.get("/skills/stack", params={"v": 2**31 - 1}).status_code == 404  # no such version


@pytest.mark.parametrize("pid", [HUGE, BIG, "-" + HUGE, "1" * 400])
def test_a_big_prediction_id_is_404_not_500(home, pid):
    from agent.policy.corrections import store_path
    from agent.policy.queue import PendingQueue

    store_path(home[0]).parent.mkdir(parents=True, exist_ok=True)
    PendingQueue(store_path(home[0]))  # a real (empty) correction store: ids go to SQLite
    with _client(home, PolicyCorrectionQueue(home[0])) as c:
        for url in (f"/corrections/{pid}", f"/corrections/{pid}/image.png"):
            assert c.get(url).status_code == 404, url
        form = {"pick_row": "1", "pick_col": "1", "pick_angle": "0"}
        assert c.post(f"/corrections/{pid}", data=form, headers=SAME_ORIGIN).status_code == 404


@pytest.mark.parametrize("angle", ["1e308", "-1e308", "190", "-180.5", "1e400"])
def test_the_page_refuses_the_angles_the_cli_refuses(home, angle):
    with pytest.raises(AgentError):
        validate_angle(float(angle))  # what `policy correct --angle` refuses
    q = FakeQueue()
    with _client(home, q) as c:
        form = {
            "pick_row": "12.5",
            "pick_col": "77.25",
            "pick_angle": angle,
            "place_row": "50",
            "place_col": "90",
            "place_angle": "10",
        }
        r = c.post("/corrections/pred-0", data=form, headers=SAME_ORIGIN, follow_redirects=False)
        assert r.status_code == 422 and q.stored == []
        form = {**form, "pick_angle": "10", "place_angle": angle}
        r = c.post("/corrections/pred-0", data=form, headers=SAME_ORIGIN, follow_redirects=False)
        assert r.status_code == 422 and q.stored == []
        ok = {**form, "place_angle": "180"}
        assert (
            c.post(
                "/corrections/pred-0", data=ok, headers=SAME_ORIGIN, follow_redirects=False
            ).status_code
            == 303
        )
    assert len(q.stored) == 1


def test_the_cli_refuses_a_version_out_of_range_as_a_usage_error(tmp_path, capsys):
    from agent.cli import main

    assert main(["--home", str(tmp_path), "skills", "show", "stack", "-v", HUGE]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
