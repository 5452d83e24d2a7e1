"""Which LLM a command uses: the `llm` section of the settings (`agent.config`), resolved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agent.config import DEFAULT_LLM_RETRIES, DEFAULT_LLM_TIMEOUT, load_settings
from agent.llm.spec import OFFLINE_SPECS


@dataclass(frozen=True)
class LLMConfig:
    """Which LLM to use and where its spec came from ("flag", "env" or "config")."""

    spec: str
    base_url: str | None = None
    source: str = "flag"
    timeout: float = DEFAULT_LLM_TIMEOUT  # seconds per request
    retries: int = DEFAULT_LLM_RETRIES  # retries of transient failures per call


def resolve_llm_config(
    flag_spec: str | None,
    flag_base_url: str | None,
    home: str | Path | None,
    env: Mapping[str, str] | None = None,
) -> LLMConfig | None:
    """Pick the LLM: `--llm`, then `SKILLGROVE_LLM`, then `<home>/config.toml`, else none.

    Each of the `llm` settings (model, base_url, timeout, retries) is looked up on its own,
    flags > `SKILLGROVE_LLM_*` > config file > defaults (see `agent.config`). The spec
    "offline" (or "none") where it is chosen means no LLM.

    Returns:
        The chosen config, or None for the offline default (rule-based planner).

    Raises:
        ConfigError: the config file cannot be read, or a value (a spec, a timeout) is
            not usable; one line naming the file, variable or flag and the key.
    """
    flags = {"llm": {"model": flag_spec, "base_url": flag_base_url}}
    settings = load_settings(home, flags, env)
    llm = settings.llm
    if llm.model is None or llm.model.lower() in OFFLINE_SPECS:
        return None
    return LLMConfig(
        llm.model, llm.base_url, settings.origin("llm.model"), llm.timeout, llm.retries
    )
