"""`run --perception policy`: the sandbox's robot API asks the learned policy for poses.

The provider itself first (the robot API's protocol, one camera view for a pick and its
place, the place instruction it builds). Then the sandbox: a tiny checkpoint (a small
untrained PoseNet over the hashing embedder) is enough for the plumbing: the worker
loads and hash-checks it before its lockdown, the skill's poses come from it, the agent
verifies with oracle poses and records the run's perception, and skill code still
cannot open a file (not even the checkpoint the worker read)."""

from __future__ import annotations

import inspect
import json
import math
import shutil

import pytest

from agent.errors import AgentError
from agent.evaluate.evaluator import LocalExecutor
from agent.policy.provider import policy_spec
from skills.sandbox import _Worker, _WorkerLost
from tests.agent.policy_helpers import (
    SPEC,
    fails,
    flip_a_bit,
    run,
    save_tiny_checkpoint,
    tiny_encoder,
    tiny_model,
)

PLACE = """
def place(robot, obj, target, **params):
    robot.place_on(robot.find(obj), robot.find(target))
"""
# The worker's own layers, validator bypassed: reach the real open() through a walk.
READ_FILE = """
def _os_namespace():
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__


def attack(robot, **params):
    print(_os_namespace()["__builtins__"]["open"]({path!r}, "rb").read(64))
"""


def test_provider_satisfies_the_pose_provider_protocol_and_reuses_the_pre_pick_view(
    world, monkeypatch
):
    from agent.policy import provider as P
    from agent.policy.policy import Policy
    from sim.runner import reset_task
    from skills.poses import PoseProvider

    for name in ("pick_pose", "place_pose"):
        want = list(inspect.signature(getattr(PoseProvider, name)).parameters)
        assert list(inspect.signature(getattr(P.PolicyPoseProvider, name)).parameters) == want
    prov = P.PolicyPoseProvider(Policy(tiny_model(), SPEC, tiny_encoder(), threads=1))
    assert prov.name == "policy"
    task = reset_task(world, "place", 1)
    views = []
    real = P.observe
    monkeypatch.setattr(P, "observe", lambda w, s: views.append(1) or real(w, s))
    pick = prov.pick_pose(world, task.obj, turn=math.radians(30))
    place = prov.place_pose(world, task.obj, task.target)
    assert len(pick) == 4 and len(place) == 4 and all(math.isfinite(v) for v in (*pick, *place))
    assert len(views) == 1  # the place was read from the image taken before the pick


def test_place_instructions_follow_the_target_kind():
    from agent.policy.provider import place_instruction

    assert place_instruction("red cube", "blue bowl", "bowl") == "put the red cube in the blue bowl"
    assert (
        place_instruction("red cube", "blue cube", "cube") == "stack the red cube on the blue cube"
    )
    assert place_instruction("red cube", "blue pad", "pad") == "place the red cube on the blue pad"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A data home with one tiny checkpoint, v0001."""
    home = tmp_path_factory.mktemp("home")
    save_tiny_checkpoint(home, {"families": ["place"]})
    return home


@pytest.fixture(scope="module")
def runner(home):
    ex = LocalExecutor(1, provider=policy_spec(home))
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def oracle():
    ex = LocalExecutor(1)
    yield ex
    ex.close()


def test_the_policy_gives_the_poses_in_the_sandbox(runner):
    r = runner.pool.run(PLACE, "place", "place", 1)
    assert r.perception == "policy" and r.pose_calls >= 1, r


def test_skill_code_still_cannot_open_files_with_the_policy_loaded(runner, oracle, home, tmp_path):
    from agent.policy.checkpoint import resolve

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    secret.chmod(0o644)
    probe = runner.pool.run("def f(robot, **params):\n    pass\n", "f", "pick", 0)
    for path in (secret, resolve(home).path):  # the checkpoint too: the worker read it before
        r = runner.pool._execute(READ_FILE.format(path=str(path)), "attack", "pick", 0)
        assert r.status == "error" and "PermissionError" in (r.reason or ""), r
        assert "TOP-SECRET" not in r.output and "PK" not in r.output
    assert probe.status == "ok" and probe.perception == "policy"
    same = oracle.pool.run("def f(robot, **params):\n    pass\n", "f", "pick", 0)
    assert same.perception == "oracle" and probe.layers == same.layers  # every layer in force


def test_agent_verifies_with_the_oracle_and_runs_with_the_policy(runner, oracle, tmp_path):
    from agent.evaluate.evaluator import Evaluator
    from agent.loop import Agent
    from agent.plan.planner import OfflinePlanner
    from agent.run.records import RunStore
    from agent.run.scenes import Scenes
    from agent.synth.synthesizer import OfflineSynthesizer
    from skills.embed import HashEmbedder
    from skills.index import MemoryIndex
    from skills.library import SkillLibrary

    library = SkillLibrary(tmp_path, HashEmbedder(), MemoryIndex(), install_seeds=True)
    scenes, runs = Scenes(), RunStore(tmp_path)
    try:
        agent = Agent(
            library,
            Evaluator(oracle, episodes=1, pass_bar=1.0),
            OfflinePlanner(),
            OfflineSynthesizer(),
            runs,
            scenes,
            runner=runner,
            perception="policy",
        )
        record = agent.run(scenes.scene("place", 3).instruction, "place", 3)
        assert record.perception == "policy" and runs.get(record.run_id).perception == "policy"
        verdicts = [v for d in record.decisions for v in d.verdicts]
        assert verdicts and verdicts[-1]["success_rate"] == 1.0  # verified with oracle poses
        assert record.status in ("ok", "error") and record.skills
    finally:
        scenes.close()
        runs.close()
        library.close()


def test_missing_checkpoint_is_a_one_line_error(tmp_path):
    assert "no policy checkpoint" in fails(
        tmp_path, "run", "pick up the red cube", "--perception", "policy", code=1
    )
    assert "needs --perception policy" in fails(
        tmp_path, "run", "pick up the red cube", "--policy-version", "2", code=1
    )


def test_bench_open_runs_its_tasks_with_the_policy(home, tmp_path):
    mine = tmp_path / "home"
    shutil.copytree(home, mine)
    suite = tmp_path / "suite.json"
    task = {"instruction": "put the red cube in the blue bowl", "expect": "in(red cube, blue bowl)"}
    suite.write_text(json.dumps({"tasks": [task]}))
    out = run(mine, "bench", "open", "--suite", str(suite), "--perception", "policy")
    assert [r["perception"] for r in out["rows"]] == ["policy"]
    assert out["false_successes"] == 0  # a tiny random policy may fail; it may not lie
    assert "no policy checkpoint" in fails(
        tmp_path / "empty", "bench", "open", "--perception", "policy", code=1
    )
    assert "needs --perception policy" in fails(
        mine, "bench", "open", "--policy-version", "1", code=1
    )


def test_a_corrupt_checkpoint_is_refused_by_the_cli_and_by_the_worker(home, tmp_path):
    from agent.policy.checkpoint import resolve

    bad = tmp_path / "bad"
    shutil.copytree(home, bad)
    spec = policy_spec(bad)  # checked while still intact: the worker must check again
    flip_a_bit(resolve(bad).path, 0xFF)
    assert "corrupt" in fails(
        bad,
        "run",
        "pick up the red cube",
        "--perception",
        "policy",
        "--policy-version",
        "1",
        code=1,
    )
    with pytest.raises(AgentError, match="corrupt"):
        policy_spec(bad, 1)
    worker = _Worker(provider=spec)  # one start (a pool would try twice)
    try:
        with pytest.raises(_WorkerLost, match="failed to start: AgentError: .*corrupt"):
            worker.wait_ready()
    finally:
        worker.kill()
