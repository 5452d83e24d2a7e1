"""`skills verify`: re-run each skill's evaluation, mark what no longer passes.

The library tests use the fake embedder; the command tests run episodes in the real
sandbox on a fresh home's seed library.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from agent.cli import main
from agent.evaluate import verify
from agent.evaluate.evaluator import Evaluator, Job
from agent.evaluate.verify import KeyCheck, VersionCheck, check_version, jobs_for_key, record
from skills.embed import HashEmbedder
from skills.index import MemoryIndex
from skills.library import SkillLibrary
from tests.agent.test_evaluator_wilson import CountingExecutor
from tests.fakes import FastEmbedder

TEMPLATE = "left_of({a}, {b})"
NOOP_PICK = '''
def pick_up(robot, obj):
    """Pick up an object (broken on purpose: it only looks)."""
    robot.find(obj)
'''


@pytest.fixture
def lib(tmp_path):
    with SkillLibrary(tmp_path / "lib", HashEmbedder(), MemoryIndex()) as library:
        yield library


@pytest.fixture
def no_generators(monkeypatch):
    """An empty registry of scene generators for this test."""
    monkeypatch.setattr(verify, "_KEY_JOBS", [])


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """`skillgrove --home HOME skills ...` in this process: (exit code, stdout)."""
    import skills.embed

    monkeypatch.setattr(skills.embed, "MiniLMEmbedder", FastEmbedder)
    home = tmp_path / "home"

    def run(*args: str) -> tuple[int, str]:
        code = main(["--home", str(home), "skills", *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out

    run.home = home
    return run


# -- which keys, and what decides --------------------------------------------------------
def test_a_version_is_judged_on_what_it_claims(lib):
    lib.add(
        "nudge",
        "def nudge(robot, obj, zone):\n    robot.find(obj)\n",
        "x",
        stats={"push": (5, 5), "place": (4, 1)},
    )
    v = lib.get("nudge")
    assert verify.keys_for(v, 0.8) == [("place", False), ("push", True)]
    seed = lib.get("place_on")  # no stats: the families its parameters fit, none claimed
    assert verify.keys_for(seed, 0.8) == [("place", False), ("align", False)]
    assert verify.keys_for(lib.get("open_gripper"), 0.8) == []

    def check(*checks: KeyCheck) -> str:
        return VersionCheck("x", 1, checks, True).status

    ok, bad = KeyCheck("push", "passed"), KeyCheck("push", "failed", "runtime", reason="0/2")
    weak_bad = KeyCheck("place", "failed", "runtime", claimed=False)
    weak_ok = KeyCheck("place", "passed", "success", claimed=False)
    assert check(ok, weak_bad) == "passed"  # a weak key cannot fail it
    assert check(bad, weak_ok) == "failed"  # a claimed key that fails does
    assert check(weak_ok, KeyCheck("align", "failed", "runtime", claimed=False)) == "passed"
    assert check(weak_bad) == "failed"  # claiming nothing, it must pass somewhere
    assert check(KeyCheck(TEMPLATE, "skipped", reason="no scene generator")) == "skipped"
    assert check() == "skipped"
    assert VersionCheck("x", 1, (bad, weak_ok), True).reason == "push: 0/2"


def test_an_unknown_key_is_skipped_until_a_generator_is_registered(lib, no_generators):
    v = lib.add(
        "put_left", "def put_left(robot, a, b):\n    robot.find(a)\n", "x", stats={TEMPLATE: (5, 5)}
    )
    ex = CountingExecutor("FFFFF")
    ev = Evaluator(ex)
    (skipped,) = check_version(ev, None, v, [(TEMPLATE, True)], 5)
    assert skipped.status == "skipped" and skipped.reason == f"no scene generator for {TEMPLATE}"
    done = record(lib, v, (skipped,))
    assert done.status == "skipped" and lib.get("put_left").verified and ex.ran == []

    seen = []

    def template_jobs(scenes, version, key, n):
        if "{" not in key:
            return None  # not a goal template: another generator's key
        seen.append((version.name, key, n))
        return [
            Job(version.code, version.name, None, i, {"a": "red cube", "b": "blue cube"})
            for i in range(n)
        ]

    assert verify.register_key_jobs(template_jobs) is template_jobs
    verify.register_key_jobs(template_jobs)  # twice: still one
    assert verify._KEY_JOBS.count(template_jobs) == 1
    assert (
        len(jobs_for_key(None, v, TEMPLATE, 3)) == 3
        and jobs_for_key(None, v, "a-family?", 3) is None
    )
    (failed,) = check_version(ev, None, v, [(TEMPLATE, True)], 5)
    assert failed.status == "failed" and failed.episodes == 2 and failed.stopped_early
    done = record(lib, v, (failed,))
    after = lib.get("put_left")
    assert done.status == "failed" and not done.verified and not after.verified
    assert after.stats == {TEMPLATE: (7, 5)} and after.stage == "runtime"


def test_a_generator_named_by_module_is_imported_on_first_use(lib, no_generators):
    v = lib.add("put_left", "def put_left(robot, a, b):\n    robot.find(a)\n", "x")
    verify.register_key_jobs("tests.agent.test_verify:_named_generator")
    assert [j.seed for j in jobs_for_key(None, v, TEMPLATE, 2)] == [0, 1]


def _named_generator(scenes, version, key, n):
    return [Job(version.code, version.name, None, i, {}) for i in range(n)]


def test_a_generator_that_cannot_build_a_scene_skips_the_key(lib, no_generators):
    from agent.errors import AgentError

    def broken(scenes, version, key, n):
        raise AgentError(f"no evaluation scene could be built for {key}")

    verify.register_key_jobs(broken)
    v = lib.add(
        "put_left", "def put_left(robot, a, b):\n    robot.find(a)\n", "x", stats={TEMPLATE: (5, 5)}
    )
    (c,) = check_version(Evaluator(CountingExecutor("S")), None, v, [(TEMPLATE, True)], 2)
    assert c.status == "skipped" and c.reason.endswith(f"could be built for {TEMPLATE}")
    assert record(lib, v, (c,)).status == "skipped" and lib.get("put_left").verified


def test_a_family_whose_scenes_do_not_fit_fails_that_key(lib, scenes):
    v = lib.add(
        "wave", "def wave(robot, hand, speed):\n    robot.find(hand)\n", "x", stats={"pick": (5, 5)}
    )
    (c,) = check_version(Evaluator(CountingExecutor("S")), scenes, v, [("pick", True)], 2)
    assert c.status == "failed" and c.stage == "syntax" and "do not fit" in c.reason


# -- the command, through the real sandbox -----------------------------------------------
def test_verify_a_seed_passes_and_records_the_evidence(cli):
    code, out = cli("verify", "stack", "--episodes", "3", "--json")
    data = json.loads(out)
    assert code == 0, out
    (skill,) = data["skills"]
    assert skill["name"] == "stack" and skill["status"] == "passed" and skill["verified"]
    (key,) = skill["keys"]
    assert key["key"] == "stack" and key["passed"] and (key["episodes"], key["successes"]) == (3, 3)
    assert key["interval"] == [0.4385, 1.0]
    assert data["summary"]["passed"] == 1 and data["summary"]["failed"] == 0
    code, out = cli("show", "stack", "--json")
    assert json.loads(out)["stats"]["stack"]["episodes"] == 3
    code, out = cli("verify", "stack", "--episodes", "2")  # the table; now a claim
    assert code == 0 and "stack" in out and "yes" in out and "1 passed, 0 failed" in out


def test_a_broken_version_is_marked_unverified_with_exit_code_3(cli):
    from skills.library import open_library

    with open_library(cli.home, embedder=HashEmbedder()) as lib:
        lib.add(
            "pick_up",
            NOOP_PICK,
            author="human",
            verified=True,
            stage="success",
            stats={"pick": (5, 5)},
        )
    code, out = cli("verify", "pick_up", "--json")
    assert code == 3, out
    (skill,) = json.loads(out)["skills"]
    assert skill["version"] == 2 and skill["status"] == "failed" and not skill["verified"]
    assert skill["stage"] == "runtime" and skill["reason"].startswith("pick: ")
    (key,) = skill["keys"]
    assert key["claimed"] and key["stopped_early"] and (key["episodes"], key["successes"]) == (2, 0)
    with open_library(cli.home, embedder=HashEmbedder()) as lib:
        v2, v1 = lib.get("pick_up", 2), lib.get("pick_up", 1)
        assert not v2.verified and v2.stage == "runtime" and v2.stats == {"pick": (7, 5)}
        assert v1.verified  # only the latest version is checked
    code, out = cli("verify", "pick_up")
    assert (
        code == 3 and "pick_up v2 failed: pick: the code ran" in out and "(now unverified)" in out
    )
    code, out = cli("verify", "no_such_skill", "--json")
    assert code == 1 and json.loads(out) == {"error": "no skill named 'no_such_skill'"}


@pytest.mark.slow
def test_ci_verifies_the_whole_seed_library(tmp_path):
    """What CI runs: `skills verify --json` over a fresh home's seed library passes."""
    t0 = time.perf_counter()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "--home",
            str(tmp_path / "home"),
            "skills",
            "verify",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads(res.stdout)
    status = {s["name"]: s["status"] for s in data["skills"]}
    # the gripper and free-pose seeds fit no task family: nothing to check them on
    assert {n for n, s in status.items() if s == "skipped"} == {
        "close_gripper",
        "open_gripper",
        "move_to",
        "place_at",
    }
    assert {n for n, s in status.items() if s == "passed"} == {
        "align_with",
        "pick_up",
        "place_on",
        "push_to",
        "put_in",
        "rotate_by",
        "stack",
    }
    assert data["summary"]["failed"] == 0 and all(s["verified"] for s in data["skills"])
    print(f"skills verify over the seed library: {time.perf_counter() - t0:.1f} s")
