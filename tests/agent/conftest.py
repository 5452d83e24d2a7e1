"""Fixtures of the agent tests: the agent's executor and scenes, a scripted LLM server, and
the policy tests' (their plain helpers are in policy_helpers.py and llm_server.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def one_thread():
    """Torch work outside the policy's own thread setting runs on one thread (on a busy
    machine two spinning threads are many times slower than one)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def fast_embeddings(request):
    """Every policy command of the module embeds instructions with the hashing embedder
    instead of loading MiniLM: `policy_helpers.TINY_DIM` wide (for `tiny_model`), or the
    module's `EMBED_DIM`."""
    import agent.policy.embed
    from skills.embed import HashEmbedder
    from tests.agent.policy_helpers import TINY_DIM

    dim = getattr(request.module, "EMBED_DIM", TINY_DIM)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(agent.policy.embed, "default_embedder", lambda: HashEmbedder(dim))
        yield


@pytest.fixture(scope="module")
def executor():
    """Two warm sandbox workers for the agent's episodes (oracle poses)."""
    from agent.evaluate.evaluator import LocalExecutor

    ex = LocalExecutor(workers=2)
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def scenes():
    """The agent's scene cache (one World of its own)."""
    from agent.run.scenes import Scenes

    s = Scenes()
    yield s
    s.close()


@pytest.fixture
def llm_server(monkeypatch):
    """A scripted OpenAI-compatible chat server on 127.0.0.1 (tests/agent/llm_server.py):
    `queue(...)` replies, read back `requests` / `messages(i)` / `user_texts()`. Proxies, keys
    and LLM settings from the environment are cleared for the test."""
    from tests.agent.llm_server import ScriptedServer, isolate

    isolate(monkeypatch)
    with ScriptedServer() as server:
        yield server


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, str]:
    """A data home holding one recorded run of the agent (pick, seed 1) and its id (the
    replay and dataset exports read it)."""
    home = tmp_path_factory.mktemp("home")
    res = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--home", str(home), "run"]
        + ["pick up the orange cylinder", "--task", "pick", "--seed", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return home, json.loads(res.stdout)["run_id"]
