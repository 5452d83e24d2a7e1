"""LLM spec strings ("provider:model"): how a spec is split and checked.

Kept free of imports so that `agent.config` can check a configured spec cheaply. Whether
a provider other than `openai`, `ollama` and `hf` exists is for langchain to say when the
model is built (`agent.llm.backends`).
"""

from __future__ import annotations

import re

from agent.errors import AgentError

OFFLINE_SPECS = frozenset({"offline", "none", "rules"})  # explicit "no LLM" in flag/env/config
_PROVIDER = re.compile(r"[a-z][a-z0-9_]*")


def parse_spec(spec: str) -> tuple[str, str]:
    """Split "provider:model" and check its form; raises AgentError with the accepted forms."""
    provider, sep, model = spec.strip().partition(":")
    provider = provider.lower()
    if not sep or not _PROVIDER.fullmatch(provider) or not model.strip():
        raise AgentError(
            f"unknown LLM spec {spec!r}: use openai:MODEL, ollama:MODEL or hf:/path/to/model"
        )
    return provider, model.strip()
