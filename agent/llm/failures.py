"""What went wrong with an LLM call: backend exceptions sorted into kinds, and the one line.

A backend raises whatever its client library raises (httpx, openai, ollama, OS errors).
`classify` sorts an exception into refused / timeout / connect / url / HTTP status /
other; `Failure.transient` says whether a retry can help (connection trouble, timeouts,
HTTP 408, 409, 425, 429 and 5xx; never a bad URL or another 4xx); `failure_message`
writes the line the user sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from agent.errors import AgentError

UNAVAILABLE = frozenset({"refused", "timeout", "connect"})  # the server is not there for us
_TRANSIENT_STATUS = frozenset({408, 409, 425, 429})
_BAD_URL = frozenset({"UnsupportedProtocol", "InvalidURL"})  # httpx's names; never retried
_CONNECT_NAMES = frozenset(
    {
        "ConnectError",
        "APIConnectionError",
        "ConnectionError",
        "RemoteProtocolError",
        "NetworkError",
        "TransportError",
    }
)


@dataclass(frozen=True)
class Failure:
    """One failed attempt, sorted."""

    kind: str  # "refused" | "timeout" | "connect" | "url" | "status" | "other"
    detail: str
    status: int | None = None
    retry_after: float | None = None  # seconds, from the server's Retry-After header

    @property
    def transient(self) -> bool:
        """Whether trying again may succeed."""
        if self.kind in UNAVAILABLE:
            return True
        return self.status is not None and (self.status >= 500 or self.status in _TRANSIENT_STATUS)


def one_line(text: str, limit: int = 240) -> str:
    """`text` on one line, shortened to `limit` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def classify(exc: BaseException) -> Failure:
    """Sort a backend exception into refused / timeout / connect / HTTP status / other."""
    chain = list(_chain(exc))
    for e in chain:
        if type(e).__name__ in _BAD_URL:  # httpx: no or unknown scheme, malformed URL
            return Failure("url", one_line(str(e)) or type(e).__name__)
    for e in chain:
        status = getattr(e, "status_code", None)
        response = getattr(e, "response", None)
        if status is None and response is not None:
            status = getattr(response, "status_code", None)
        if isinstance(status, int) and status >= 400:
            return Failure("status", _status_detail(e), status, _retry_after(response))
    names = [{c.__name__ for c in type(e).__mro__} for e in chain]
    texts = [str(e).lower() for e in chain]
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or any(
        "connection refused" in t or "errno 111" in t for t in texts
    ):
        return Failure("refused", "connection refused")
    if any(
        isinstance(e, TimeoutError) or any("Timeout" in n for n in ns)
        for e, ns in zip(chain, names, strict=True)
    ):
        return Failure("timeout", "timed out")
    for e, ns in zip(chain, names, strict=True):
        if ns & _CONNECT_NAMES or isinstance(e, ConnectionError):
            innermost = next((str(x) for x in reversed(chain) if str(x)), str(e))
            return Failure("connect", one_line(innermost) or type(e).__name__)
    return Failure("other", f"{type(exc).__name__}: {one_line(str(exc))}")


def is_transient(exc: BaseException) -> bool:
    """Whether to try again: transient backend failures only, never our own errors."""
    return not isinstance(exc, AgentError) and classify(exc).transient


def failure_message(
    failure: Failure, name: str, endpoint: str | None, timeout: float | None, attempts: int
) -> str:
    """The one line for a failed call to model `name` at `endpoint` after `attempts` tries."""
    where = endpoint or name
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    if failure.kind == "refused":
        return f"LLM server at {where} is unreachable: connection refused{tries}"
    if failure.kind == "timeout":
        limit = f" within {timeout:g} s" if timeout else ""
        hint = "; a slow model needs a longer llm.timeout (config.toml) or SKILLGROVE_LLM_TIMEOUT"
        return f"LLM server at {where} did not answer{limit}: timed out{tries}{hint if endpoint else ''}"
    if failure.kind == "connect":
        return f"LLM server at {where} is unreachable: {failure.detail}{tries}"
    if failure.kind == "url":
        return f"LLM server URL {where} is not usable: {failure.detail} (use http:// or https://)"
    code = failure.status
    if code == 404:
        model = name.split(":", 1)[-1]
        if "model" in failure.detail.lower():
            return f"model {model!r} is not known to the LLM server at {where}: {failure.detail}"
        return (
            f"LLM server at {where} answered 404 Not Found: {failure.detail} "
            "(is the base URL right? OpenAI-compatible servers usually end in /v1)"
        )
    if code in (401, 403):
        return f"LLM server at {where} refused the credentials (HTTP {code}): {failure.detail}; check OPENAI_API_KEY"
    if code == 429:
        return (
            f"LLM server at {where} is rate limiting requests (HTTP 429){tries}: {failure.detail}"
        )
    if code is not None and code >= 500:
        return f"LLM server at {where} failed (HTTP {code}){tries}: {failure.detail}"
    if code is not None:
        return f"LLM server at {where} rejected the request (HTTP {code}): {failure.detail}"
    at = f" at {endpoint}" if endpoint else ""
    return f"LLM call to {name}{at} failed ({failure.detail})"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _status_detail(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
        if msg:
            return one_line(str(msg))
    for attr in ("error", "message"):
        value = getattr(exc, attr, None)
        if isinstance(value, str) and value:
            return one_line(value)
    return one_line(str(exc))


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
