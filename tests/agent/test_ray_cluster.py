"""`--executor ray` against a real Ray cluster on loopback (issue 16, the Ray half).

The session's cluster (`tests/ray_cluster.py`, the `ray_address` fixture) is a head
started as a user would, connected to by address and stopped by its own PIDs.

(1) the same jobs with the same seeds give the same results and verdict locally and on
Ray, frames included; (2) an actor killed by PID mid-evaluation: its episode runs again on
a new actor, the verdict is the same, nothing hangs, and its sandbox worker does not
outlive it; (3) the pose provider's spec travels to the actors (`--perception policy`
is the policy there, not silently the oracle); (4) so do the home's remembered grasps,
and what an episode learns comes back to the home; and the options Ray cannot honour
are one-line errors.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from agent.errors import AgentError  # noqa: E402
from agent.evaluate.evaluator import EVAL_SEED_BASE, Evaluator, Job, LocalExecutor  # noqa: E402
from agent.evaluate.ray_executor import RayExecutor  # noqa: E402
from agent.factory import AgentOptions, make_executor  # noqa: E402
from skills.errors import SkillError  # noqa: E402
from tests.ray_cluster import free_port, wait_gone  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PLACE_ON = (ROOT / "skills" / "seed" / "place_on.py").read_text()
NOOP = "def noop(robot, **params):\n    pass\n"
SEEDS = [EVAL_SEED_BASE + i for i in range(4)]


def jobs() -> list[Job]:
    """A small suite: the seed skill on its family (the first recorded), and code that
    runs cleanly but reaches no goal."""
    out = [
        Job(PLACE_ON, "place_on", "place", s, None, 30.0, record=i == 0)
        for i, s in enumerate(SEEDS)
    ]
    return out + [Job(NOOP, "noop", "place", SEEDS[0], None, 30.0)]


def outcome(r) -> tuple:
    return (r.status, r.success, r.reason, r.goal, tuple(a["value"] for a in r.atoms), r.perception)


@pytest.fixture(scope="module")
def local():
    """The local executor's results and verdict for the suite (the reference)."""
    ex = LocalExecutor(2)
    try:
        results = ex.run_many(jobs())
        verdict = Evaluator(ex, episodes=len(SEEDS)).evaluate_jobs(
            PLACE_ON, "place_on", "place", jobs()[: len(SEEDS)]
        )
    finally:
        ex.close()
    return results, verdict


def same_verdict(a, b) -> bool:
    return (a.stage, a.passed, a.success_rate, a.seeds, [e.success for e in a.episodes]) == (
        b.stage,
        b.passed,
        b.success_rate,
        b.seeds,
        [e.success for e in b.episodes],
    )


def test_ray_gives_the_local_results_and_verdict_with_frames(ray_address, local):
    want, verdict = local
    assert {r.success for r in want} == {True, False}  # the suite tells success from failure
    ex = RayExecutor(ray_address, workers=2)
    try:
        pids = ex.actor_pids()
        got = ex.run_many(jobs())
        ray_verdict = Evaluator(ex, episodes=len(SEEDS)).evaluate_jobs(
            PLACE_ON, "place_on", "place", jobs()[: len(SEEDS)]
        )
        assert ex.actor_pids() == pids  # the same warm actors, reused across candidates
    finally:
        ex.close()
    assert [outcome(r) for r in got] == [outcome(r) for r in want]
    assert got[0].gif is not None and got[0].gif[:6] in (b"GIF87a", b"GIF89a")
    assert got[0].poses and got[0].poses.keys() == want[0].poses.keys()
    assert all(r.gif is None for r in got[1:])
    assert same_verdict(ray_verdict, verdict) and ray_verdict.passed
    assert len(pids) == 2 and os.getpid() not in pids and ex.retried == 0
    assert not wait_gone(pids)  # close() stops the actors


def test_an_actor_killed_mid_evaluation_loses_nothing(ray_address, local):
    want, verdict = local
    ex = RayExecutor(ray_address, workers=2)
    try:
        victim = ex.actor_pids()[0]
        sandbox = ex.processes()[0]["sandbox"]
        suite = jobs()[: len(SEEDS)] * 2
        box: dict = {}

        def evaluate() -> None:
            ev = Evaluator(ex, episodes=len(suite))
            box["verdict"] = ev.evaluate_jobs(PLACE_ON, "place_on", "place", suite)

        t = threading.Thread(target=evaluate, daemon=True)
        t.start()
        while ex.in_flight == 0 and t.is_alive():
            time.sleep(0.01)
        time.sleep(0.2)  # into the episode
        os.kill(victim, signal.SIGKILL)
        t.join(240)  # a bound against a hang, not a timing
        assert not t.is_alive(), "the evaluation hung after an actor died"
        got = box["verdict"]
        assert ex.retried >= 1 and victim not in ex.actor_pids() and len(ex.actor_pids()) == 2
        later = ex.run_many(jobs())  # the pool is whole again
    finally:
        ex.close()
    assert not wait_gone([victim, *sandbox]), "the killed actor's sandbox worker outlived it"
    assert got.passed and got.stage == verdict.stage and got.seeds == suite_seeds(suite)
    assert [e.success for e in got.episodes] == [e.success for e in verdict.episodes] * 2
    assert [outcome(r) for r in later] == [outcome(r) for r in want]


def suite_seeds(suite: list[Job]) -> list[int]:
    return [j.seed for j in suite]


def test_remembered_grasps_travel_to_the_actors_and_what_they_learn_comes_back(
    ray_address, tmp_path
):
    from tests.skills.test_grasps import GOAL, PUT, assert_corrected, misremembered

    memory, scene = misremembered(tmp_path)
    ex = make_executor(AgentOptions(executor="ray", ray_address=ray_address, workers=1), memory)
    try:
        (res,) = ex.run_many([Job(PUT, "put", None, 0, {}, 60.0, scene=scene, goal=GOAL)])
    finally:
        ex.close()
    assert res.status == "ok" and res.success, res.reason
    assert_corrected(memory)  # sent to the actor, tried, missed; learned there, written here


def test_the_pose_provider_travels_to_the_actors(ray_address, tmp_path):
    from agent.policy.provider import policy_spec
    from tests.agent.policy_helpers import save_tiny_checkpoint

    save_tiny_checkpoint(tmp_path, {"families": ["place"]})
    ex = RayExecutor(ray_address, workers=1, provider=policy_spec(tmp_path))
    try:
        policy, oracle_job = ex.run_many(
            [
                Job(PLACE_ON, "place_on", "place", SEEDS[1], None, 30.0),
                Job(NOOP, "noop", "place", SEEDS[1], None, 30.0),
            ]
        )
    finally:
        ex.close()
    # an untrained policy's poses may miss (an error), yet they were the policy's
    assert policy.perception == "policy" and policy.pose_calls >= 1, policy
    assert "provider" not in (policy.reason or ""), policy.reason
    assert oracle_job.perception == "policy" and oracle_job.pose_calls == 0
    # a provider the actors cannot build is one line, before any episode
    broken = type(policy_spec(tmp_path))("agent.policy.provider:no_such_factory", {})
    with pytest.raises(SkillError) as exc:
        RayExecutor(ray_address, workers=1, provider=broken)
    assert "\n" not in str(exc.value) and str(exc.value)


def test_options_ray_cannot_honour_are_one_line_errors(ray_address):
    with pytest.raises(AgentError, match="more than the Ray cluster's 2 CPUs"):
        make_executor(AgentOptions(executor="ray", ray_address=ray_address, workers=3))
    with pytest.raises(AgentError, match="--ray-address needs --executor ray"):
        make_executor(AgentOptions(executor="local", ray_address=ray_address))
    from agent.evaluate.ray_executor import _check_reachable

    with pytest.raises(SkillError, match="cannot reach the Ray cluster at 127.0.0.1:"):
        _check_reachable(f"127.0.0.1:{free_port()}")  # a new process's check, before Ray's
    with pytest.raises(AgentError, match="already connected to the Ray cluster"):
        make_executor(AgentOptions(executor="ray", ray_address="127.0.0.1:1"))
    ex = make_executor(AgentOptions(executor="ray", ray_address=ray_address, workers=None))
    try:
        assert isinstance(ex, RayExecutor) and ex.workers == 2  # every CPU of the cluster
    finally:
        ex.close()


def test_skills_verify_runs_on_the_cluster(ray_address, tmp_path, monkeypatch, capsys):
    import json

    import skills.embed
    from agent.cli import main
    from tests.fakes import FastEmbedder

    monkeypatch.setattr(skills.embed, "MiniLMEmbedder", FastEmbedder)
    home = str(tmp_path / "home")
    args = ["--home", home, "skills", "verify", "place_on", "--episodes", "2", "--json"]
    code = main([*args, "--executor", "ray", "--ray-address", ray_address])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, out + err
    data = json.loads(out)
    assert data["summary"]["passed"] == 1 and data["summary"]["episodes"] >= 2
    code = main([*args, "--ray-address", ray_address])  # not silently ignored without ray
    out, _ = capsys.readouterr()
    assert code == 2 and json.loads(out) == {"error": "--ray-address needs --executor ray"}
