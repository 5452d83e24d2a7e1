"""A silent LLM server (issue 19, finding 2): a server that accepts the connection and
never answers costs two timeouts, not `max_retries + 1` of them; a call never runs past its
deadline; once found silent it is not waited for again; the timeout is configurable; and a
`run` against it ends in bounded time with one line naming the server and the timeout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from agent.config import DEFAULT_LLM_TIMEOUT as DEFAULT_TIMEOUT
from agent.errors import AgentError, LLMUnavailable
from agent.llm.backends import make_llm
from agent.llm.client import LLM
from agent.llm.settings import resolve_llm_config
from tests.agent.llm_server import PROXY_VARS, SilentServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def silent(monkeypatch):
    for var in (*PROXY_VARS, "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    with SilentServer() as server:
        yield server


def test_a_silent_server_costs_two_timeouts_and_one_line(silent):
    llm = make_llm("openai:m", base_url=silent.base_url, timeout=0.5)  # 3 retries by default
    start = time.perf_counter()
    with pytest.raises(LLMUnavailable) as info:
        llm.complete("hi")
    elapsed = time.perf_counter() - start
    assert elapsed < 2.5  # 2 x 0.5 s + one 0.5 s backoff; every retry would take 5.5 s
    assert silent.connections == 2
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(
        f"LLM server at {silent.base_url} did not answer within 0.5 s: timed out (2 attempts)"
    )
    assert "SKILLGROVE_LLM_TIMEOUT" in message  # what to change
    assert not isinstance(info.value, AgentError)  # no stage of a run swallows it


def test_a_server_found_silent_is_not_waited_for_again(silent):
    llm = make_llm("openai:m", base_url=silent.base_url, timeout=0.3, max_retries=0)
    with pytest.raises(LLMUnavailable):
        llm.complete("hi")
    start = time.perf_counter()
    with pytest.raises(LLMUnavailable, match="did not answer within 0.3 s"):
        llm.complete("and again")
    assert time.perf_counter() - start < 0.1 and silent.connections == 1


class SlowFailure:
    """A backend that takes `seconds` and then fails with a transient error (HTTP 503)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def invoke(self, messages):
        self.calls += 1
        time.sleep(self.seconds)
        error = RuntimeError("service unavailable")
        error.status_code = 503
        raise error


def test_no_retry_starts_that_would_end_past_the_deadline():
    model = SlowFailure(0.2)
    llm = LLM(
        model,
        name="slow",
        max_retries=20,
        backoff=0.05,
        max_backoff=0.05,
        timeout=0.2,
        deadline=1.0,
    )
    start = time.perf_counter()
    with pytest.raises(AgentError, match=r"failed \(HTTP 503\)"):
        llm.complete("hi")
    assert time.perf_counter() - start <= 1.05
    assert 2 <= model.calls <= 4  # 20 retries allowed, the deadline stopped them


class Echo:
    def invoke(self, messages):
        return AIMessage(content="x")


def test_the_default_deadline_is_twice_the_timeout_and_some():
    assert make_llm("openai:m", base_url="http://127.0.0.1:9/v1", timeout=10).deadline == 50
    llm = LLM(Echo())  # an in-process model: no request timeout, no deadline
    assert llm.deadline is None and llm.complete("hi") == "x"


def test_the_timeout_is_configurable_by_environment_and_config(tmp_path):
    assert resolve_llm_config("openai:m", None, tmp_path, {}).timeout == DEFAULT_TIMEOUT
    env = {"SKILLGROVE_LLM_TIMEOUT": "7.5"}
    assert resolve_llm_config("openai:m", None, tmp_path, env).timeout == 7.5
    (tmp_path / "config.toml").write_text('llm = "openai:m"\nllm_timeout = 9\n')
    assert resolve_llm_config(None, None, tmp_path, {}).timeout == 9
    assert resolve_llm_config(None, None, tmp_path, env).timeout == 7.5  # environment first


@pytest.mark.parametrize("value", ["soon", "0", "-3", "inf", "nan", "99999"])
def test_a_bad_timeout_is_one_line(tmp_path, value):
    with pytest.raises(
        AgentError, match=r"^SKILLGROVE_LLM_TIMEOUT must be a number of seconds in \(0, 3600\], got"
    ):
        resolve_llm_config("openai:m", None, tmp_path, {"SKILLGROVE_LLM_TIMEOUT": value})
    (tmp_path / "config.toml").write_text(f'llm = "openai:m"\nllm_timeout = "{value}"\n')
    with pytest.raises(
        AgentError, match=r"llm_timeout in .*config.toml must be a number of seconds"
    ):
        resolve_llm_config(None, None, tmp_path, {})


def test_a_run_against_a_silent_server_ends_with_one_line_naming_it(silent, tmp_path):
    """The whole command: the run stops at the first unanswered call (nothing recorded),
    within seconds of start-up, instead of waiting on every stage for ever."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLGROVE_", "OPENAI_"))}
    env = {k: v for k, v in env.items() if k not in PROXY_VARS}
    env["SKILLGROVE_LLM_TIMEOUT"] = "1"
    home = tmp_path / "home"
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "--home",
            str(home),
            "run",
            "put the red cube in the blue bowl",
            "--llm",
            "openai:m",
            "--llm-base-url",
            silent.base_url,
            "--json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    elapsed = time.perf_counter() - start
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    error = json.loads(proc.stdout)["error"]
    assert error.startswith(f"LLM server at {silent.base_url} did not answer within 1 s: timed out")
    lines = [
        ln for ln in proc.stderr.splitlines() if ln.strip() and "pybullet build time" not in ln
    ]
    assert lines == [f"error: {error}"], proc.stderr
    assert silent.connections == 2 and elapsed < 60
    runs = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--home", str(home), "runs", "list", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(runs.stdout) == {"runs": []}  # the run ended before anything was recorded
