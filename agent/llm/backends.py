"""Build an `LLM` from a spec: `provider:model` through langchain's `init_chat_model`, or `hf:/dir`.

- `openai:MODEL`: OpenAI or any OpenAI-compatible server (vLLM, llama.cpp server, Ollama's
  `/v1`); `base_url` picks the server (else `OPENAI_BASE_URL`, else OpenAI), the key comes
  from `OPENAI_API_KEY` (a local server given by `base_url` needs none);
- `ollama:MODEL`: an Ollama server (`base_url`, else `OLLAMA_HOST`, else localhost:11434);
- any other provider langchain knows (`anthropic:...`, `groq:...`) once its langchain
  package is installed, with the same timeout and no client-side retries;
- `hf:/path/to/model`: a Hugging Face causal LM from a local directory (`agent.llm.hf`).

Nothing is contacted here: an unreachable server is reported by the first `complete`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agent.config import DEFAULT_LLM_RETRIES, DEFAULT_LLM_TIMEOUT, check_seconds
from agent.errors import AgentError
from agent.llm.client import LLM
from agent.llm.failures import one_line
from agent.llm.spec import parse_spec

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
OLLAMA_DEFAULT_URL = "http://localhost:11434"
LOCAL_API_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key, the client wants one
HUB_PROVIDERS = frozenset({"huggingface"})  # would download from the hub: use hf:/local/dir


def make_llm(
    spec: str | Any,
    base_url: str | None = None,
    *,
    timeout: float = DEFAULT_LLM_TIMEOUT,
    max_retries: int = DEFAULT_LLM_RETRIES,
    backoff: float = 0.5,
    deadline: float | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> LLM:
    """Build an `LLM` from a spec (`openai:MODEL`, `ollama:MODEL`, `hf:/dir`) or a chat model.

    Args:
        spec: the spec string, a langchain chat model instance, or an `LLM` (returned as is).
        base_url: the server (e.g. "http://localhost:8000/v1").
        timeout: seconds per request.
        max_retries: retries after the first attempt for transient failures.
        backoff: first retry delay in seconds (doubles each retry).
        deadline: seconds one call may take, retries included (default `2 * timeout + 30`).
        temperature: sampling temperature; None leaves the server's default.
        max_tokens: reply length limit; None leaves the server's default.
        sleep: the sleep used between retries (tests pass a no-op).

    Raises:
        AgentError: the spec is malformed or names a provider that is unknown or not
            installed, the base URL is not http:// or https://, or `hf:` points at a
            directory with no model.
    """
    if isinstance(spec, LLM):
        return spec
    try:
        timeout = check_seconds(timeout)
    except ValueError as exc:
        raise AgentError(f"timeout {exc}") from None
    common = {
        "max_retries": max_retries,
        "backoff": backoff,
        "timeout": timeout,
        "deadline": deadline,
        "sleep": sleep,
    }
    if not isinstance(spec, str):
        if not callable(getattr(spec, "invoke", None)):
            raise AgentError(f"not a chat model: {type(spec).__name__}")
        return LLM(spec, name=getattr(spec, "_llm_type", None) or type(spec).__name__, **common)
    provider, model = parse_spec(spec)
    if provider == "hf":
        from agent.llm.hf import HFChat, check_model_dir

        path = check_model_dir(Path(model).expanduser())
        chat = HFChat(path, max_new_tokens=max_tokens or 1024, temperature=temperature)
        return LLM(chat, name=spec, **{**common, "max_retries": 0})
    if provider in HUB_PROVIDERS:
        raise AgentError(f"{spec}: models are not downloaded; use hf:/path/to/a/local/model")
    # the chat model's own retries are off: `LLM` retries, within its deadline
    kwargs: dict[str, Any] = {"timeout": timeout, "max_retries": 0}
    if provider == "openai":
        url = _checked_url(base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_URL)
        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            if url.rstrip("/") == OPENAI_DEFAULT_URL:
                raise AgentError(
                    f"{spec} needs OPENAI_API_KEY (or --llm-base-url for a local OpenAI-compatible server)"
                )
            key = LOCAL_API_KEY
        kwargs.update(base_url=url, api_key=key)
    elif provider == "ollama":
        url = base_url or os.environ.get("OLLAMA_HOST") or OLLAMA_DEFAULT_URL
        url = _checked_url(url if "://" in url else f"http://{url}")
        # ChatOllama takes its timeout in the httpx client's arguments and has no retries
        kwargs = {"base_url": url, "client_kwargs": {"timeout": timeout}}
    else:
        url = _checked_url(base_url) if base_url else None
        if url:
            kwargs["base_url"] = url
    if temperature is not None:
        kwargs["temperature"] = temperature
    if max_tokens is not None:
        kwargs["num_predict" if provider == "ollama" else "max_tokens"] = max_tokens
    chat = _init_chat_model(spec, provider, model, kwargs)
    return LLM(chat, name=spec, endpoint=url, **common)


def _init_chat_model(spec: str, provider: str, model: str, kwargs: dict[str, Any]) -> Any:
    """langchain's provider switch, its failures as one line."""
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as exc:
        package = f"langchain-{provider.replace('_', '-')}"
        raise AgentError(
            f"{spec} needs the {package} package ({one_line(str(exc), 120)})"
        ) from None
    except ValueError as exc:
        if "Unsupported" in str(exc) and "provider" in str(exc):
            raise AgentError(
                f"unknown LLM spec {spec!r}: use openai:MODEL, ollama:MODEL, hf:/path/to/model "
                "or another provider langchain supports (anthropic:MODEL, groq:MODEL, ...)"
            ) from None
        raise AgentError(f"cannot set up {spec}: {one_line(str(exc))}") from None
    except Exception as exc:  # noqa: BLE001 - a provider's own checks (a missing key) as one line
        raise AgentError(f"cannot set up {spec}: {one_line(str(exc))}") from None


def _checked_url(url: str) -> str:
    """The base URL, if it is http(s); a scheme-less "localhost:8000/v1" fails here, not later."""
    if urlsplit(url.strip()).scheme.lower() not in ("http", "https"):
        raise AgentError(
            f"LLM base URL {url!r} must start with http:// or https:// (e.g. http://localhost:8000/v1)"
        )
    return url.strip()
