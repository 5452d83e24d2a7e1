"""One small interface over chat models: `LLM.complete(messages) -> str`.

Backends are chosen by a spec string:

- `openai:MODEL` — OpenAI or any OpenAI-compatible server (vLLM, llama.cpp server,
  Ollama's `/v1`) through `langchain-openai`; `base_url` picks the server, the key comes
  from `OPENAI_API_KEY` (a local server given by `base_url` needs none);
- `ollama:MODEL` — an Ollama server through `langchain-ollama` (`base_url` defaults to
  `http://localhost:11434`);
- `hf:/path/to/model` — a Hugging Face causal LM loaded from a local directory with
  `transformers`, offline, on first use.

Any langchain chat model instance works too (tests hand in langchain-core's fake chat
models). `LLM` counts calls, tokens (from the backend's usage metadata, else estimated)
and seconds; retries transient failures (connection refused, timeouts, HTTP 408, 409, 425,
429 and 5xx) with exponential backoff through tenacity (a `Retry-After` header is honoured
up to the cap); gives up at once on the rest (other 4xx, a base URL that is not http(s));
and turns every failure into one line.

Time is bounded. Each request has a timeout (`DEFAULT_TIMEOUT`, 120 s; `llm_timeout` in
`<home>/config.toml`, `SKILLGROVE_LLM_TIMEOUT`, or `make_llm(timeout=...)`). A request
that times out (a server that accepts the connection and never answers) is retried once,
not more, and no retry starts that could not finish within the call's deadline
(`2 * timeout + 30` s unless `deadline=` says otherwise), so one call takes at most about
twice the timeout. A server that cannot be reached or did not answer raises
`LLMUnavailable` (not an `AgentError`: no stage of a run swallows it and tries again), and
the `LLM` remembers it: later calls fail at once with the same line instead of waiting
again. Every other failure is an `AgentError`.

`resolve_llm_config` picks the spec: `--llm` flag, then `SKILLGROVE_LLM`, then
`<home>/config.toml` (or `config.json`), else None: the offline default planner.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tenacity import RetryCallState, Retrying, retry_if_exception
from tenacity.wait import wait_exponential

from agent.errors import AgentError, LLMUnavailable

BACKENDS = ("openai", "ollama", "hf")
OFFLINE_SPECS = frozenset({"offline", "none", "rules"})  # explicit "no LLM" in flag/env/config
DEFAULT_TIMEOUT = 120.0  # seconds per request; local models on a CPU are slow
DEFAULT_MAX_RETRIES = 3
TIMEOUT_RETRIES = 1  # a request that timed out is tried once more, never more: silence costs 2x
DEADLINE_SLACK = 30.0  # a call's default deadline: 2 * timeout + this (room for quick retries)
MAX_TIMEOUT = 3600.0  # the largest timeout a config may set
_UNAVAILABLE = frozenset({"refused", "timeout", "connect"})  # the server is not there for us
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
OLLAMA_DEFAULT_URL = "http://localhost:11434"
LOCAL_API_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key, the client wants one
_TRANSIENT_STATUS = frozenset({408, 409, 425, 429})
_BAD_URL = frozenset({"UnsupportedProtocol", "InvalidURL"})  # httpx's names; never retried
_ROLES = {
    "system": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
}

Message = tuple[str, str]  # (role, text); role is "system", "user" or "assistant"


@dataclass(frozen=True)
class Usage:
    """What an LLM has cost so far."""

    calls: int = 0  # completed requests
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # wall time inside complete(), retries and backoff included
    retries: int = 0  # failed attempts that were retried
    estimated: bool = False  # some token counts were estimated (backend gave no usage)


@dataclass(frozen=True)
class LLMConfig:
    """Which LLM to use and where it came from ("flag", "env" or "config")."""

    spec: str
    base_url: str | None = None
    source: str = "flag"
    timeout: float = DEFAULT_TIMEOUT  # seconds per request (`llm_timeout`, SKILLGROVE_LLM_TIMEOUT)


def estimate_tokens(text: str) -> int:
    """Rough token count for backends that report none (about four characters a token)."""
    return math.ceil(len(text) / 4) if text else 0


class LLM:
    """A chat model behind `complete`, with usage counters, timeouts and retries.

    Args:
        model: a langchain chat model (or anything with `invoke(list[BaseMessage])`
            returning a message with `content`).
        name: what the model is called in reports and errors, e.g. "openai:gpt-4o-mini".
        endpoint: the server URL, for error messages (None for in-process models).
        max_retries: retries after the first attempt for transient failures (a timed-out
            request is retried `TIMEOUT_RETRIES` times at most).
        backoff: first retry delay in seconds; doubles each retry up to `max_backoff`.
        timeout: the request timeout the backend was built with (for messages and the
            default deadline).
        deadline: seconds one `complete` may take, attempts and waits together: no retry
            starts that could not finish by then. Default `2 * timeout + DEADLINE_SLACK`
            (none when `timeout` is None).
        sleep: the sleep function (tests pass a no-op).
    """

    def __init__(
        self,
        model: Any,
        *,
        name: str | None = None,
        endpoint: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        timeout: float | None = None,
        deadline: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_retries < 0:
            raise AgentError("max_retries must be 0 or more")
        if deadline is None and timeout is not None:
            deadline = 2 * timeout + DEADLINE_SLACK
        self.model = model
        self.name = name or type(model).__name__
        self.endpoint = endpoint
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.deadline = deadline
        self._sleep = sleep
        self._lock = threading.Lock()
        self._usage = Usage()
        self._down: str | None = None  # why the server is unavailable, once it was

    def __repr__(self) -> str:
        where = f" at {self.endpoint}" if self.endpoint else ""
        return f"<LLM {self.name}{where}>"

    @property
    def usage(self) -> Usage:
        """Calls, tokens and seconds so far."""
        with self._lock:
            return self._usage

    def complete(
        self, messages: str | Sequence[Message] | Any, *, system: str | None = None
    ) -> str:
        """Send a conversation and return the reply text.

        Args:
            messages: a user message as a string, a list of (role, text) pairs, or an
                object with a `messages` attribute holding such a list (`prompts.Prompt`).
            system: an optional system message put first.

        Raises:
            LLMUnavailable: one line naming the server: it refused the connection, could
                not be reached, or did not answer within the timeout (after the bounded
                retries, or at once when an earlier call found it so).
            AgentError: one line saying what else went wrong (model unknown, request
                rejected, server errors after the retries).
        """
        pairs = _as_pairs(messages, system)
        lc_messages = _to_langchain(pairs)
        if self._down is not None:
            raise LLMUnavailable(self._down)
        retrying = Retrying(
            stop=_Stop(self.max_retries, self.timeout, self.deadline),
            wait=_Backoff(self.backoff, self.max_backoff),
            retry=retry_if_exception(_is_transient),
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        start = time.perf_counter()
        try:
            reply = retrying(self.model.invoke, lc_messages)
        except AgentError:
            raise
        except Exception as exc:  # noqa: BLE001 - every backend error becomes one line
            attempts = int(retrying.statistics.get("attempt_number", 1))
            failure = _classify(exc)
            message = self._message(failure, attempts)
            if failure.kind in _UNAVAILABLE:
                self._down = message
                raise LLMUnavailable(message) from exc
            raise AgentError(message) from exc
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self._usage = _add(self._usage, seconds=elapsed)
        text = _text_of(reply)
        prompt_tokens, completion_tokens, estimated = _tokens(reply, pairs, text)
        with self._lock:
            self._usage = _add(
                self._usage,
                calls=1,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                estimated=estimated,
            )
        return text

    def _count_retry(self, state: RetryCallState) -> None:
        with self._lock:
            self._usage = _add(self._usage, retries=1)

    def _message(self, failure: _Failure, attempts: int) -> str:
        where = self.endpoint or self.name
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        if failure.kind == "refused":
            return f"LLM server at {where} is unreachable: connection refused{tries}"
        if failure.kind == "timeout":
            limit = f" within {self.timeout:g} s" if self.timeout else ""
            hint = (
                "; a slow model needs a longer llm_timeout (config.toml) or SKILLGROVE_LLM_TIMEOUT"
            )
            return f"LLM server at {where} did not answer{limit}: timed out{tries}{hint if self.endpoint else ''}"
        if failure.kind == "connect":
            return f"LLM server at {where} is unreachable: {failure.detail}{tries}"
        if failure.kind == "url":
            return (
                f"LLM server URL {where} is not usable: {failure.detail} (use http:// or https://)"
            )
        code = failure.status
        if code == 404:
            model = self.name.split(":", 1)[-1]
            if "model" in failure.detail.lower():
                return (
                    f"model {model!r} is not known to the LLM server at {where}: {failure.detail}"
                )
            return (
                f"LLM server at {where} answered 404 Not Found: {failure.detail} "
                "(is the base URL right? OpenAI-compatible servers usually end in /v1)"
            )
        if code in (401, 403):
            return f"LLM server at {where} refused the credentials (HTTP {code}): {failure.detail}; check OPENAI_API_KEY"
        if code == 429:
            return f"LLM server at {where} is rate limiting requests (HTTP 429){tries}: {failure.detail}"
        if code is not None and code >= 500:
            return f"LLM server at {where} failed (HTTP {code}){tries}: {failure.detail}"
        if code is not None:
            return f"LLM server at {where} rejected the request (HTTP {code}): {failure.detail}"
        at = f" at {self.endpoint}" if self.endpoint else ""
        return f"LLM call to {self.name}{at} failed ({failure.detail})"


def make_llm(
    spec: str | Any,
    base_url: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
    backoff: float = 0.5,
    deadline: float | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> LLM:
    """Build an `LLM` from a spec (`openai:MODEL`, `ollama:MODEL`, `hf:/dir`) or a chat model.

    Args:
        spec: the spec string, a langchain chat model instance, or an `LLM` (returned as is).
        base_url: the server for `openai:` and `ollama:` (e.g. "http://localhost:8000/v1").
        timeout: seconds per request.
        max_retries: retries after the first attempt for transient failures.
        backoff: first retry delay in seconds (doubles each retry).
        deadline: seconds one call may take, retries included (default `2 * timeout + 30`).
        temperature: sampling temperature; None leaves the server's default.
        max_tokens: reply length limit; None leaves the server's default.
        sleep: the sleep used between retries (tests pass a no-op).

    Raises:
        AgentError: the spec is malformed, names an unknown backend, the base URL is not
            http:// or https://, or `hf:` points at a directory with no model. Nothing is
            contacted here: an unreachable server is reported by the first `complete`.
    """
    if isinstance(spec, LLM):
        return spec
    timeout = _checked_timeout(timeout, "timeout")
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
    backend, model = parse_spec(spec)
    if backend == "openai":
        from langchain_openai import ChatOpenAI

        url = _checked_url(base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_URL)
        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            if url.rstrip("/") == OPENAI_DEFAULT_URL:
                raise AgentError(
                    f"{spec} needs OPENAI_API_KEY (or --llm-base-url for a local OpenAI-compatible server)"
                )
            key = LOCAL_API_KEY
        kwargs: dict[str, Any] = {
            "model": model,
            "base_url": url,
            "api_key": key,
            "timeout": timeout,
            "max_retries": 0,
        }
        if temperature is not None:
            kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        return LLM(ChatOpenAI(**kwargs), name=spec, endpoint=url, **common)
    if backend == "ollama":
        from langchain_ollama import ChatOllama

        url = base_url or os.environ.get("OLLAMA_HOST") or OLLAMA_DEFAULT_URL
        if "://" not in url:
            url = f"http://{url}"
        url = _checked_url(url)
        kwargs = {"model": model, "base_url": url, "client_kwargs": {"timeout": timeout}}
        if temperature is not None:
            kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["num_predict"] = max_tokens
        return LLM(ChatOllama(**kwargs), name=spec, endpoint=url, **common)
    path = Path(model).expanduser()
    if not (path / "config.json").is_file():
        raise AgentError(
            f"no model at {path}: expected a local Hugging Face model directory with config.json"
        )
    weights = ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json", "*.gguf")
    if not any(any(path.glob(pattern)) for pattern in weights):
        raise AgentError(
            f"no model weights in {path} (expected *.safetensors or *.bin next to config.json)"
        )
    chat = HFChat(path, max_new_tokens=max_tokens or 1024, temperature=temperature)
    return LLM(chat, name=spec, **{**common, "max_retries": 0})


def _checked_timeout(value: Any, what: str) -> float:
    """A request timeout in seconds: a finite number in (0, MAX_TIMEOUT]; else one line."""
    try:
        if isinstance(value, bool):
            raise TypeError
        seconds = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not 0 < seconds <= MAX_TIMEOUT:  # also refuses nan and inf
        shown = _one_line(repr(value), 40)
        raise AgentError(f"{what} must be a number of seconds in (0, {MAX_TIMEOUT:g}], got {shown}")
    return seconds


def _checked_url(url: str) -> str:
    """The base URL, if it is http(s); a scheme-less "localhost:8000/v1" fails here, not later."""
    if urlsplit(url.strip()).scheme.lower() not in ("http", "https"):
        raise AgentError(
            f"LLM base URL {url!r} must start with http:// or https:// (e.g. http://localhost:8000/v1)"
        )
    return url.strip()


def parse_spec(spec: str) -> tuple[str, str]:
    """Split "backend:model" and check it; raises AgentError with the accepted forms."""
    backend, sep, model = spec.strip().partition(":")
    backend = backend.lower()
    if not sep or backend not in BACKENDS or not model.strip():
        raise AgentError(
            f"unknown LLM spec {spec!r}: use openai:MODEL, ollama:MODEL or hf:/path/to/model"
        )
    return backend, model.strip()


def resolve_llm_config(
    flag_spec: str | None,
    flag_base_url: str | None,
    home: str | Path | None,
    env: Mapping[str, str] | None = None,
) -> LLMConfig | None:
    """Pick the LLM: the `--llm` flag, then `SKILLGROVE_LLM`, then `<home>/config.toml`.

    The base URL is looked up the same way, independently: `--llm-base-url`, then
    `SKILLGROVE_LLM_BASE_URL`, then `llm_base_url` in the config file; the request timeout
    in seconds: `SKILLGROVE_LLM_TIMEOUT`, then `llm_timeout`, else `DEFAULT_TIMEOUT`. A
    config file is `config.toml` or `config.json` in the data home with top-level keys
    `llm`, `llm_base_url` and `llm_timeout`. The spec "offline" (or "none") anywhere means
    no LLM.

    Returns:
        The chosen config, or None for the offline default (rule-based planner).

    Raises:
        AgentError: the config file cannot be read, a spec is malformed, or a timeout is
            not a number of seconds in (0, 3600].
    """
    env = os.environ if env is None else env
    file_cfg = _read_config(Path(home)) if home is not None else {}
    candidates = [
        (flag_spec, "flag"),
        (env.get("SKILLGROVE_LLM"), "env"),
        (file_cfg.get("llm"), "config"),
    ]
    urls = [flag_base_url, env.get("SKILLGROVE_LLM_BASE_URL"), file_cfg.get("llm_base_url")]
    base_url = next((str(u).strip() for u in urls if u and str(u).strip()), None)
    timeout = DEFAULT_TIMEOUT
    env_timeout = env.get("SKILLGROVE_LLM_TIMEOUT")
    if env_timeout is not None and env_timeout.strip():
        timeout = _checked_timeout(env_timeout, "SKILLGROVE_LLM_TIMEOUT")
    elif file_cfg.get("llm_timeout") is not None:
        timeout = _checked_timeout(file_cfg["llm_timeout"], "llm_timeout in the config file")
    for spec, source in candidates:
        if spec is None or not str(spec).strip():
            continue
        spec = str(spec).strip()
        if spec.lower() in OFFLINE_SPECS:
            return None
        parse_spec(spec)
        return LLMConfig(spec=spec, base_url=base_url, source=source, timeout=timeout)
    return None


def _read_config(home: Path) -> dict[str, Any]:
    for name in ("config.toml", "config.json"):
        path = home / name
        if not path.is_file():
            continue
        try:
            if name.endswith(".toml"):
                import tomllib

                data = tomllib.loads(path.read_text(encoding="utf-8"))
            else:
                data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            detail = " ".join(str(exc).split())
            raise AgentError(f"cannot read {path}: {detail}") from None
        if not isinstance(data, dict):
            raise AgentError(f"cannot read {path}: expected a table of settings")
        for key in ("llm", "llm_base_url"):
            if key in data and not isinstance(data[key], str):
                raise AgentError(f"{path}: {key} must be a string")
        if "llm_timeout" in data:
            _checked_timeout(data["llm_timeout"], f"llm_timeout in {path}")
        return data
    return {}


class HFChat:
    """A local Hugging Face causal LM with `invoke(messages)`, loaded on first use, offline."""

    def __init__(
        self, path: str | Path, max_new_tokens: int = 1024, temperature: float | None = None
    ) -> None:
        self.path = Path(path)
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            try:
                from transformers import AutoModelForCausalLM, AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
                model = AutoModelForCausalLM.from_pretrained(self.path, local_files_only=True)
            except Exception as exc:  # noqa: BLE001 - any load failure is one clear line
                detail = " ".join(str(exc).split())[:300]
                raise AgentError(f"cannot load the model at {self.path}: {detail}") from exc
            model.eval()
            self._tokenizer, self._model = tokenizer, model

    def invoke(self, messages: Sequence[Any]) -> Any:
        """Generate a reply to langchain messages; returns an AIMessage with usage metadata."""
        import torch
        from langchain_core.messages import AIMessage

        self._load()
        tok, model = self._tokenizer, self._model
        chat = [{"role": _ROLES.get(m.type, "user"), "content": _text_of(m)} for m in messages]
        if getattr(tok, "chat_template", None):
            enc = tok.apply_chat_template(
                chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        else:
            prompt = "".join(f"{m['role']}: {m['content']}\n\n" for m in chat) + "assistant:"
            enc = tok(prompt, return_tensors="pt")
        ids = enc["input_ids"]
        gen: dict[str, Any] = {"max_new_tokens": self.max_new_tokens}
        if self.temperature:
            gen.update(do_sample=True, temperature=self.temperature)
        else:
            gen["do_sample"] = False
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        with torch.no_grad():
            out = model.generate(
                ids, attention_mask=enc.get("attention_mask"), pad_token_id=pad, **gen
            )
        new = out[0, ids.shape[1] :]
        text = tok.decode(new, skip_special_tokens=True)
        n_in, n_out = int(ids.shape[1]), int(new.shape[0])
        usage = {"input_tokens": n_in, "output_tokens": n_out, "total_tokens": n_in + n_out}
        return AIMessage(content=text, usage_metadata=usage)


# -- helpers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    kind: str  # "refused" | "timeout" | "connect" | "url" | "status" | "other"
    detail: str
    status: int | None = None
    retry_after: float | None = None

    @property
    def transient(self) -> bool:
        if self.kind in ("refused", "timeout", "connect"):
            return True
        return self.status is not None and (self.status >= 500 or self.status in _TRANSIENT_STATUS)


def _chain(exc: BaseException):
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _one_line(text: str, limit: int = 240) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _classify(exc: BaseException) -> _Failure:
    """Sort a backend exception into refused / timeout / connect / HTTP status / other."""
    chain = list(_chain(exc))
    for e in chain:
        if type(e).__name__ in _BAD_URL:  # httpx: no or unknown scheme, malformed URL
            return _Failure("url", _one_line(str(e)) or type(e).__name__)
    for e in chain:
        status = getattr(e, "status_code", None)
        response = getattr(e, "response", None)
        if status is None and response is not None:
            status = getattr(response, "status_code", None)
        if isinstance(status, int) and status >= 400:
            return _Failure("status", _status_detail(e), status, _retry_after(response))
    names = [{c.__name__ for c in type(e).__mro__} for e in chain]
    texts = [str(e).lower() for e in chain]
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or any(
        "connection refused" in t or "errno 111" in t for t in texts
    ):
        return _Failure("refused", "connection refused")
    if any(
        isinstance(e, TimeoutError) or any("Timeout" in n for n in ns)
        for e, ns in zip(chain, names, strict=True)
    ):
        return _Failure("timeout", "timed out")
    connect_names = {
        "ConnectError",
        "APIConnectionError",
        "ConnectionError",
        "RemoteProtocolError",
        "NetworkError",
        "TransportError",
    }
    for e, ns in zip(chain, names, strict=True):
        if ns & connect_names or isinstance(e, ConnectionError):
            innermost = next((str(x) for x in reversed(chain) if str(x)), str(e))
            return _Failure("connect", _one_line(innermost) or type(e).__name__)
    return _Failure("other", f"{type(exc).__name__}: {_one_line(str(exc))}")


class _Stop:
    """When tenacity gives up: retries used up, a second timeout, or no time left.

    A timed-out request is retried `TIMEOUT_RETRIES` times at most (a server that accepts
    and never answers would otherwise cost `max_retries + 1` timeouts); and no retry
    starts that, with its wait and its own timeout, would end after the deadline. One
    object per call (it counts that call's timeouts).
    """

    def __init__(self, max_retries: int, timeout: float | None, deadline: float | None) -> None:
        self.max_retries = max_retries
        self.timeout = timeout or 0.0
        self.deadline = deadline
        self.timeouts = 0

    def __call__(self, state: RetryCallState) -> bool:
        failed = state.outcome.exception() if state.outcome else None
        if failed is not None and _classify(failed).kind == "timeout":
            self.timeouts += 1
            if self.timeouts > TIMEOUT_RETRIES:
                return True
        if state.attempt_number > self.max_retries:
            return True
        if self.deadline is None:
            return False
        ends = state.seconds_since_start + (state.upcoming_sleep or 0.0) + self.timeout
        return ends > self.deadline


def _is_transient(exc: BaseException) -> bool:
    """Whether tenacity should try again: transient backend failures only, never our own."""
    return not isinstance(exc, AgentError) and _classify(exc).transient


class _Backoff(wait_exponential):
    """`backoff * 2**retry`, capped at `cap`; a server's Retry-After lengthens it (to the cap)."""

    def __init__(self, backoff: float, cap: float) -> None:
        super().__init__(multiplier=backoff, exp_base=2, max=cap)

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = super().__call__(retry_state)
        failed = retry_state.outcome.exception() if retry_state.outcome else None
        after = _classify(failed).retry_after if failed is not None else None
        return min(self.max, max(delay, after)) if after is not None else delay


def _status_detail(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
        if msg:
            return _one_line(str(msg))
    for attr in ("error", "message"):
        value = getattr(exc, attr, None)
        if isinstance(value, str) and value:
            return _one_line(value)
    return _one_line(str(exc))


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _as_pairs(messages: Any, system: str | None) -> list[Message]:
    messages = getattr(messages, "messages", messages)
    if isinstance(messages, str):
        pairs = [("user", messages)]
    else:
        pairs = []
        for item in messages:
            try:
                role, text = item
            except (TypeError, ValueError):
                raise AgentError(f"a message is a (role, text) pair, got {item!r:.60}") from None
            if role not in _ROLES:
                raise AgentError(f"unknown message role {role!r}: use system, user or assistant")
            pairs.append((_ROLES[role], str(text)))
    if system is not None:
        pairs.insert(0, ("system", system))
    if not pairs:
        raise AgentError("nothing to send to the LLM: no messages")
    return pairs


def _to_langchain(pairs: Sequence[Message]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[role](content=text) for role, text in pairs]


def _text_of(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks: keep the text parts
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type", "text") == "text":
                parts.append(str(block.get("text", "")))
        return "".join(parts)
    return str(content)


def _tokens(reply: Any, pairs: Sequence[Message], text: str) -> tuple[int, int, bool]:
    usage = getattr(reply, "usage_metadata", None)
    if usage:
        try:
            return int(usage["input_tokens"]), int(usage["output_tokens"]), False
        except (KeyError, TypeError, ValueError):
            pass
    token_usage = (getattr(reply, "response_metadata", None) or {}).get("token_usage")
    if isinstance(token_usage, dict) and "prompt_tokens" in token_usage:
        return (
            int(token_usage["prompt_tokens"]),
            int(token_usage.get("completion_tokens", 0)),
            False,
        )
    return sum(estimate_tokens(t) for _, t in pairs), estimate_tokens(text), True


def _add(u: Usage, **delta: Any) -> Usage:
    return Usage(
        calls=u.calls + delta.get("calls", 0),
        prompt_tokens=u.prompt_tokens + delta.get("prompt_tokens", 0),
        completion_tokens=u.completion_tokens + delta.get("completion_tokens", 0),
        seconds=u.seconds + delta.get("seconds", 0.0),
        retries=u.retries + delta.get("retries", 0),
        estimated=u.estimated or delta.get("estimated", False),
    )
