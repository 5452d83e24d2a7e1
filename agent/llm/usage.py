"""What an LLM has cost: calls, tokens and seconds, and how tokens are counted per reply."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Usage:
    """What an LLM has cost so far."""

    calls: int = 0  # completed requests
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # wall time inside complete(), retries and backoff included
    retries: int = 0  # failed attempts that were retried
    estimated: bool = False  # some token counts were estimated (backend gave no usage)

    def plus(
        self,
        *,
        calls: int = 0,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        seconds: float = 0.0,
        retries: int = 0,
        estimated: bool = False,
    ) -> Usage:
        """This usage with more added."""
        return replace(
            self,
            calls=self.calls + calls,
            prompt_tokens=self.prompt_tokens + prompt_tokens,
            completion_tokens=self.completion_tokens + completion_tokens,
            seconds=self.seconds + seconds,
            retries=self.retries + retries,
            estimated=self.estimated or estimated,
        )


def estimate_tokens(text: str) -> int:
    """Rough token count for backends that report none (about four characters a token)."""
    return math.ceil(len(text) / 4) if text else 0


def text_of(message: Any) -> str:
    """The text of a chat message (a langchain message, or content blocks, or a string)."""
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


def reply_tokens(reply: Any, sent: Sequence[tuple[str, str]], text: str) -> tuple[int, int, bool]:
    """(prompt tokens, completion tokens, estimated) for one reply to the `sent` messages.

    The backend's usage metadata when it gives any, else estimated from the text.
    """
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
    return sum(estimate_tokens(t) for _, t in sent), estimate_tokens(text), True
