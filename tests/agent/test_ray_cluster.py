"""`--executor ray` against a real Ray cluster on loopback (issue 16, the Ray half).

The module starts a head as a user would (`ray start --head --node-ip-address 127.0.0.1
--port P --num-cpus 2 ...`, its own temp dir and ports), connects to it by address, and
stops it by its own processes: those whose command line names its temp dir, and their
descendants (never `ray stop`, which would stop other clusters on this machine).

(1) the same jobs with the same seeds give the same results and verdict locally and on
Ray, frames included; (2) an actor killed by PID mid-evaluation: its episode runs again on
a new actor, the verdict is the same, nothing hangs, and its sandbox worker does not
outlive it; (3) the pose provider's spec travels to the actors (`--perception policy`
is the policy there, not silently the oracle); and the options Ray cannot honour are
one-line errors.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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

ROOT = Path(__file__).resolve().parents[2]
PLACE_ON = (ROOT / "skills" / "seed" / "place_on.py").read_text()
NOOP = "def noop(robot, **params):\n    pass\n"
SEEDS = [EVAL_SEED_BASE + i for i in range(4)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(p.name))
    return kids


def cluster_pids(temp_dir: str, port: int) -> set[int]:
    """This cluster's processes: Ray's that name its temp dir or its GCS port (the client
    server names only the latter), and all their descendants."""
    gcs = re.compile(rf":{port}(\D|$)")
    found = set()
    for p in Path("/proc").iterdir():
        cmd = _cmdline(int(p.name)) if p.name.isdigit() else ""
        if temp_dir in cmd or ("ray" in cmd and gcs.search(cmd)):
            found.add(int(p.name))
    kids, todo = _children(), list(found)
    while todo:
        for k in kids.get(todo.pop(), []):
            if k not in found:
                found.add(k)
                todo.append(k)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pids, seconds: float = 30.0) -> set[int]:
    """The pids still alive after up to `seconds` (a bound against hanging, not a timing)."""
    end = time.monotonic() + seconds
    left = {p for p in pids if alive(p)}
    while left and time.monotonic() < end:
        time.sleep(0.2)
        left = {p for p in left if alive(p)}
    return left


@pytest.fixture(scope="module")
def cluster():
    """A 2-CPU Ray head on loopback; yields its address; stopped by its own PIDs."""
    exe = Path(sys.executable).parent / "ray"
    assert exe.exists(), "the ray CLI is installed next to the interpreter"
    temp_dir = tempfile.mkdtemp(prefix="sgray-", dir="/tmp")  # short: Ray's socket paths
    port = _free_port()
    cmd = [str(exe), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port)]
    cmd += ["--num-cpus", "2", "--disable-usage-stats", "--temp-dir", temp_dir]
    cmd += ["--include-dashboard", "false", "--dashboard-port", str(_free_port())]
    cmd += ["--ray-client-server-port", str(_free_port())]
    cmd += ["--dashboard-agent-listen-port", str(_free_port())]
    env = os.environ | {"RAY_USAGE_STATS_ENABLED": "0"}
    started = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        address = f"127.0.0.1:{port}"
        ray.init(address=address, log_to_driver=False, configure_logging=False)
        assert ray.cluster_resources().get("CPU") == 2
        yield address
    finally:
        ray.shutdown()
        pids = cluster_pids(temp_dir, port)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
            pids = wait_gone(pids, 3)
        leftover = cluster_pids(temp_dir, port)
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not pids and not leftover, f"cluster processes left: {pids | leftover}"


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


def test_ray_gives_the_local_results_and_verdict_with_frames(cluster, local):
    want, verdict = local
    assert {r.success for r in want} == {True, False}  # the suite tells success from failure
    ex = RayExecutor(cluster, workers=2)
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


def test_an_actor_killed_mid_evaluation_loses_nothing(cluster, local):
    want, verdict = local
    ex = RayExecutor(cluster, workers=2)
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


def test_the_pose_provider_travels_to_the_actors(cluster, tmp_path):
    from agent.policy.provider import policy_spec
    from tests.agent.policy_helpers import save_tiny_checkpoint

    save_tiny_checkpoint(tmp_path, {"families": ["place"]})
    ex = RayExecutor(cluster, workers=1, provider=policy_spec(tmp_path))
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
        RayExecutor(cluster, workers=1, provider=broken)
    assert "\n" not in str(exc.value) and str(exc.value)


def test_options_ray_cannot_honour_are_one_line_errors(cluster):
    with pytest.raises(AgentError, match="more than the Ray cluster's 2 CPUs"):
        make_executor(AgentOptions(executor="ray", ray_address=cluster, workers=3))
    with pytest.raises(AgentError, match="--ray-address needs --executor ray"):
        make_executor(AgentOptions(executor="local", ray_address=cluster))
    from agent.evaluate.ray_executor import _check_reachable

    with pytest.raises(SkillError, match="cannot reach the Ray cluster at 127.0.0.1:"):
        _check_reachable(f"127.0.0.1:{_free_port()}")  # a new process's check, before Ray's
    with pytest.raises(AgentError, match="already connected to the Ray cluster"):
        make_executor(AgentOptions(executor="ray", ray_address="127.0.0.1:1"))
    ex = make_executor(AgentOptions(executor="ray", ray_address=cluster, workers=None))
    try:
        assert isinstance(ex, RayExecutor) and ex.workers == 2  # every CPU of the cluster
    finally:
        ex.close()


def test_skills_verify_runs_on_the_cluster(cluster, tmp_path, monkeypatch, capsys):
    import json

    import skills.embed
    from agent.cli import main
    from tests.fakes import FastEmbedder

    monkeypatch.setattr(skills.embed, "MiniLMEmbedder", FastEmbedder)
    home = str(tmp_path / "home")
    args = ["--home", home, "skills", "verify", "place_on", "--episodes", "2", "--json"]
    code = main([*args, "--executor", "ray", "--ray-address", cluster])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, out + err
    data = json.loads(out)
    assert data["summary"]["passed"] == 1 and data["summary"]["episodes"] >= 2
    code = main([*args, "--ray-address", cluster])  # not silently ignored without ray
    out, _ = capsys.readouterr()
    assert code == 1 and json.loads(out) == {"error": "--ray-address needs --executor ray"}
