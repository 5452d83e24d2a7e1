"""The open-world suite with `--llm`: the agent talks to a model through the real OpenAI
client and a scripted OpenAI-compatible server on 127.0.0.1 (a rule-following stand-in,
`scripted_model.py`, answers). A quarter of both splits (every fourth task) runs: no false
success, refusals kept, and every planning prompt carries the scene and the frame."""

from __future__ import annotations

import pytest

from agent.llm.backends import make_llm
from bench.open_world import SPLITS, load_open_suite, run_open_bench
from tests.agent import scripted_model
from tests.agent.test_loop import make_agent


@pytest.mark.slow
def test_the_open_suite_runs_with_a_model(tmp_path, executor, scenes, llm_server):
    llm_server.responder = scripted_model.respond
    llm = make_llm("openai:test-model", base_url=llm_server.base_url, timeout=30, max_retries=0)
    agent = make_agent(tmp_path, executor, scenes, llm=llm)
    tasks = [t for split in SPLITS for t in load_open_suite(split)[::4]]
    out = run_open_bench(agent, tasks, seed=1)
    meant = [r for r in out["rows"] if not r["refuse"]]
    assert out["false_successes"] == 0
    assert out["not_refused_but_should"] == 0
    assert out["successes"] >= 0.8 * len(meant), [
        (r["instruction"], r.get("reason")) for r in meant if r["outcome"] != "success"
    ]
    assert any(len(r.get("decisions") or []) > 1 for r in meant)  # steps, each its own goal
    plans = [t for t in llm_server.user_texts() if "Goal (what will be checked at the end)" in t]
    assert plans and all("| object | x (m) |" in t and "left = -y" in t for t in plans)
