"""Exit codes of `demo` and `bench` (issue 19, finding 4): 0 only when what ran succeeded /
produced its figures, 3 when it ran but failed (a demo task, a FALSE success, the oracle),
1 on an error (nothing ran), 2 on usage. The benchmark bodies are replaced by their
outcomes (the figures themselves are the benchmarks' business), so these run in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main


def _report(*success: bool) -> dict:
    tasks = [
        {"pass": 1, "family": "pick", "success": ok, "decisions": ["reuse"], "run_id": f"r{i}"}
        for i, ok in enumerate(success)
    ]
    rate = sum(success) / len(success) if success else 0.0
    return {"passes": [], "success_rate": rate, "seconds": 1.0, "tasks": tasks}


@pytest.fixture
def curriculum(monkeypatch, tmp_path):
    """`run_curriculum` answering with the report `reports[0]`."""
    import agent.cli.agent_opts
    import agent.cli.demo

    reports: list[dict] = []

    def run_curriculum(app, suite, opts):
        suite_ = type("S", (), {"description": "fake"})()
        return suite_, reports[0], Path(tmp_path), 3

    monkeypatch.setattr(agent.cli.agent_opts, "run_curriculum", run_curriculum)
    monkeypatch.setattr(agent.cli.demo, "run_curriculum", run_curriculum)
    return reports


@pytest.mark.parametrize("outcomes, code", [((True, True), 0), ((True, False), 3), ((), 1)])
def test_demo_exits_0_only_when_every_task_succeeded(curriculum, tmp_path, capsys, outcomes, code):
    curriculum.append(_report(*outcomes))
    assert main(["--home", str(tmp_path), "demo", "--json"]) == code
    out, err = capsys.readouterr()
    if code == 1:
        assert "ran no task" in err and len(err.strip().splitlines()) == 1
    else:
        assert len(json.loads(out)["tasks"]) == len(outcomes)  # the summary either way
        assert ("1 of 2 tasks failed" in err) == (code == 3)


def test_demo_usage_error_is_2(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "demo", "--no-such-option"]) == 2
    capsys.readouterr()


@pytest.mark.parametrize(
    "false, tasks, code", [(0, 3, 0), (2, 3, 3), (0, 0, 1)], ids=["ok", "false", "none"]
)
def test_bench_open_exits_3_on_a_false_success_and_1_when_nothing_ran(
    monkeypatch, tmp_path, capsys, false, tasks, code
):
    import contextlib

    import agent.factory
    import bench.open_world

    @contextlib.contextmanager
    def build_agent(home, opts, log=None):
        yield None

    def run_open_bench(agent, tasks_, seed, advance):
        return {
            "rows": [],
            "tasks": tasks,
            "successes": tasks - false,
            "honest_failures": 0,
            "refused": 0,
            "false_successes": false,
            "seconds": 0.1,
        }

    monkeypatch.setattr(agent.factory, "build_agent", build_agent)
    monkeypatch.setattr(bench.open_world, "run_open_bench", run_open_bench)
    assert main(["--home", str(tmp_path), "bench", "open", "--limit", "1", "--json"]) == code
    out, err = capsys.readouterr()
    if code == 3:
        assert json.loads(out)["false_successes"] == 2 and "2 FALSE successes" in err
    if code == 1:
        assert "ran no task" in err


@pytest.mark.parametrize("rate, episodes, code", [(1.0, 28, 0), (0.9, 28, 3), (0.0, 0, 1)])
def test_bench_sim_exits_by_its_figures(monkeypatch, tmp_path, capsys, rate, episodes, code):
    import bench.sim

    monkeypatch.setattr(
        bench.sim,
        "run_sim_bench",
        lambda n: {"episodes": episodes, "oracle_success_rate": rate, "overhead_ratio": 0.9},
    )
    assert main(["--home", str(tmp_path), "bench", "sim", "--json"]) == code
    capsys.readouterr()


def test_bench_agent_with_no_task_is_an_error(monkeypatch, tmp_path, capsys):
    import bench.agent

    monkeypatch.setattr(
        bench.agent,
        "run_agent_bench",
        lambda suites, opts, keep, advance: {"suites": {"basic": {"tasks": 0}}, "seconds": 0},
    )
    assert main(["--home", str(tmp_path), "bench", "agent", "--suite", "basic", "--json"]) == 1
    assert "ran no task of basic" in capsys.readouterr().err
