"""The settings tree (agent/config.py): precedence, file forms, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import ConfigError, LLMSettings, Settings, load_settings
from agent.errors import AgentError
from agent.llm.backends import make_llm
from agent.llm.settings import resolve_llm_config
from tests.agent.llm_server import server_error

ROOT = Path(__file__).resolve().parents[2]


def write(home: Path, text: str, name: str = "config.toml") -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / name).write_text(text)
    return home / name


def test_each_key_takes_the_highest_source_that_sets_it(tmp_path):
    write(tmp_path, '[llm]\nmodel = "ollama:a"\nbase_url = "http://file:1"\ntimeout = 9\n')
    env = {"SKILLGROVE_LLM": "openai:b", "SKILLGROVE_LLM_RETRIES": "5"}
    s = load_settings(tmp_path, {"llm": {"base_url": "http://flag:2", "model": None}}, env)
    assert (s.llm.model, s.llm.base_url, s.llm.timeout, s.llm.retries) == (
        "openai:b",
        "http://flag:2",
        9.0,
        5,
    )
    assert [s.origin(f"llm.{k}") for k in ("model", "base_url", "timeout", "retries")] == [
        "env",
        "flag",
        "config",
        "env",
    ]
    default = load_settings(tmp_path / "nothing", env={})
    assert default.llm == LLMSettings() and default.origin("llm.model") == "default"
    assert default.llm.model is None and default.llm.timeout == 120.0


def test_the_long_variable_and_the_short_one(tmp_path):
    s = load_settings(None, env={"SKILLGROVE_LLM_MODEL": "openai:x", "SKILLGROVE_LLM_TIMEOUT": "7"})
    assert (s.llm.model, s.llm.timeout) == ("openai:x", 7.0)
    blank = load_settings(None, env={"SKILLGROVE_LLM": "  ", "SKILLGROVE_LLM_TIMEOUT": ""})
    assert blank.llm.model is None and blank.origin("llm.model") == "default"


def test_the_flat_keys_of_earlier_versions_still_work(tmp_path):
    old = load_settings(
        write(
            tmp_path / "a", 'llm = "openai:m"\nllm_base_url = "http://u/v1"\nllm_timeout = 30\n'
        ).parent,
        env={},
    )
    new = load_settings(
        write(
            tmp_path / "b", '[llm]\nmodel = "openai:m"\nbase_url = "http://u/v1"\ntimeout = 30\n'
        ).parent,
        env={},
    )
    assert old.llm == new.llm and old.llm.timeout == 30.0


def test_json_is_read_when_there_is_no_toml(tmp_path):
    write(tmp_path, json.dumps({"llm": {"model": "ollama:j", "retries": 0}}), "config.json")
    assert load_settings(tmp_path, env={}).llm.retries == 0
    write(tmp_path, '[llm]\nmodel = "ollama:t"\n')
    assert load_settings(tmp_path, env={}).llm.model == "ollama:t"  # the TOML comes first


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            '[llm]\nmodle = "openai:m"\n',
            r"^unknown key llm\.modle in .*config\.toml \(known: model,",
        ),
        ('[lm]\nmodel = "openai:m"\n', r"^unknown key 'lm' in .*config\.toml \(sections: llm"),
        (
            '[llm]\nretries = "many"\n',
            r"^llm\.retries in .*config\.toml: input should be a valid integer.*, got 'many'$",
        ),
        (
            "[llm]\nretries = 99\n",
            r"^llm\.retries in .*config\.toml: input should be less than or equal to 20, got 99$",
        ),
        (
            "[llm]\ntimeout = true\n",
            r"^llm\.timeout in .*config\.toml must be a number of seconds in \(0, 3600\], got True$",
        ),
        ('[llm]\nmodel = "gpt4"\n', r"^llm\.model in .*config\.toml: unknown LLM spec 'gpt4'"),
        ("llm = 3\n", r"^llm in .*config\.toml must be a table of settings, got 3$"),
        ("llm = [broken\n", r"^cannot read .*config\.toml: "),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_key(tmp_path, text, line):
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=line) as caught:
        load_settings(tmp_path, env={})
    assert "\n" not in str(caught.value) and isinstance(caught.value, AgentError)


def test_a_bad_variable_or_flag_is_named(tmp_path):
    with pytest.raises(
        ConfigError, match=r"^SKILLGROVE_LLM_RETRIES: input should be a valid integer"
    ):
        load_settings(tmp_path, env={"SKILLGROVE_LLM_RETRIES": "x"})
    with pytest.raises(ConfigError, match=r"^SKILLGROVE_LLM: unknown LLM spec 'gpt4'"):
        load_settings(tmp_path, env={"SKILLGROVE_LLM": "gpt4"})
    with pytest.raises(ConfigError, match=r"^--llm: unknown LLM spec 'gpt4'"):
        resolve_llm_config("gpt4", None, tmp_path, {})


def test_the_configured_retries_reach_the_client(tmp_path, llm_server):
    """`[llm] retries = 1`: a server failing with 500 is asked twice, not four times."""
    write(tmp_path, f'[llm]\nmodel = "openai:m"\nbase_url = "{llm_server.base_url}"\nretries = 1\n')
    config = resolve_llm_config(None, None, tmp_path, {})
    assert (config.source, config.retries) == ("config", 1)
    llm_server.script = [server_error(500, "boom")] * 5
    llm = make_llm(
        config.spec,
        config.base_url,
        timeout=config.timeout,
        max_retries=config.retries,
        sleep=lambda s: None,
    )
    with pytest.raises(AgentError, match=r"failed \(HTTP 500\) \(2 attempts\)"):
        llm.complete("hi")
    assert len(llm_server.requests) == 2


def test_a_run_with_a_bad_config_file_stops_with_one_line(tmp_path):
    home = tmp_path / "home"
    path = write(home, '[llm]\ntimeout = "soon"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLGROVE_", "OPENAI_"))}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "--home",
            str(home),
            "run",
            "pick up the red cube",
            "--json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0, proc.stdout
    error = json.loads(proc.stdout)["error"]
    assert error == f"llm.timeout in {path} must be a number of seconds in (0, 3600], got 'soon'"
    assert sorted(p.name for p in home.iterdir()) == ["config.toml"]  # nothing written


def test_settings_built_directly_read_keywords_then_the_environment(monkeypatch):
    monkeypatch.setenv("SKILLGROVE_LLM_TIMEOUT", "7")
    monkeypatch.setenv("SKILLGROVE_LLM", "ollama:env")
    s = Settings(llm={"model": "openai:kw"})
    assert (s.llm.model, s.llm.timeout) == ("openai:kw", 7.0)
