"""One small interface over chat models: `LLM.complete(messages) -> str`.

`LLM` wraps a langchain chat model (built by `agent.llm.backends.make_llm` from a spec
such as `openai:gpt-4o-mini`, or handed in: tests pass langchain-core's fake chat
models). It counts calls, tokens and seconds (`agent.llm.usage`); retries transient
failures (connection refused, timeouts, HTTP 408, 409, 425, 429 and 5xx) with exponential
backoff through tenacity, honouring a `Retry-After` header up to the cap; gives up at once
on the rest (other 4xx, a base URL that is not http(s)); and turns every failure into one
line (`agent.llm.failures`).

Time is bounded. A request that times out (a server that accepts the connection and never
answers) is retried once, not more, and no retry starts that could not finish within the
call's deadline (`2 * timeout + 30` s unless `deadline=` says otherwise), so one call takes
at most about twice the timeout. A server that cannot be reached or did not answer raises
`LLMUnavailable` (not an `AgentError`: no stage of a run swallows it and tries again), and
the `LLM` remembers it: later calls fail at once with the same line instead of waiting
again. Every other failure is an `AgentError`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception
from tenacity.wait import wait_exponential

from agent.config import DEFAULT_LLM_RETRIES
from agent.errors import AgentError, LLMUnavailable
from agent.llm.failures import UNAVAILABLE, classify, failure_message, is_transient
from agent.llm.usage import Usage, reply_tokens, text_of

TIMEOUT_RETRIES = 1  # a request that timed out is tried once more, never more: silence costs 2x
DEADLINE_SLACK = 30.0  # a call's default deadline: 2 * timeout + this (room for quick retries)
ROLES = {
    "system": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
}

Message = tuple[str, str]  # (role, text); role is "system", "user" or "assistant"


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
        max_retries: int = DEFAULT_LLM_RETRIES,
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
        pairs = as_pairs(messages, system)
        lc_messages = to_langchain(pairs)
        if self._down is not None:
            raise LLMUnavailable(self._down)
        retrying = Retrying(
            stop=_Stop(self.max_retries, self.timeout, self.deadline),
            wait=_Backoff(self.backoff, self.max_backoff),
            retry=retry_if_exception(is_transient),
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
            failure = classify(exc)
            message = failure_message(failure, self.name, self.endpoint, self.timeout, attempts)
            if failure.kind in UNAVAILABLE:
                self._down = message
                raise LLMUnavailable(message) from exc
            raise AgentError(message) from exc
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self._usage = self._usage.plus(seconds=elapsed)
        text = text_of(reply)
        prompt_tokens, completion_tokens, estimated = reply_tokens(reply, pairs, text)
        with self._lock:
            self._usage = self._usage.plus(
                calls=1,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                estimated=estimated,
            )
        return text

    def _count_retry(self, state: RetryCallState) -> None:
        with self._lock:
            self._usage = self._usage.plus(retries=1)


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
        if failed is not None and classify(failed).kind == "timeout":
            self.timeouts += 1
            if self.timeouts > TIMEOUT_RETRIES:
                return True
        if state.attempt_number > self.max_retries:
            return True
        if self.deadline is None:
            return False
        ends = state.seconds_since_start + (state.upcoming_sleep or 0.0) + self.timeout
        return ends > self.deadline


class _Backoff(wait_exponential):
    """`backoff * 2**retry`, capped at `cap`; a server's Retry-After lengthens it (to the cap)."""

    def __init__(self, backoff: float, cap: float) -> None:
        super().__init__(multiplier=backoff, exp_base=2, max=cap)

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = super().__call__(retry_state)
        failed = retry_state.outcome.exception() if retry_state.outcome else None
        after = classify(failed).retry_after if failed is not None else None
        return min(self.max, max(delay, after)) if after is not None else delay


def as_pairs(messages: Any, system: str | None) -> list[Message]:
    """(role, text) pairs from a string, a list of pairs, or an object with `messages`."""
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
            if role not in ROLES:
                raise AgentError(f"unknown message role {role!r}: use system, user or assistant")
            pairs.append((ROLES[role], str(text)))
    if system is not None:
        pairs.insert(0, ("system", system))
    if not pairs:
        raise AgentError("nothing to send to the LLM: no messages")
    return pairs


def to_langchain(pairs: Sequence[Message]) -> list[Any]:
    """Langchain messages for (role, text) pairs."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[role](content=text) for role, text in pairs]
