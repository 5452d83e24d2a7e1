"""Text for a terminal: control characters and bidi overrides escaped, visibly.

User text (instructions, descriptions, file names) and skill output (code, reasons,
printed output) reach the CLI's human output. A terminal obeys what is in them: escape
sequences that clear the screen, retitle the window or write the clipboard, carriage
returns and backspaces that hide text, and Unicode bidi overrides that show code in
another order than it runs ("Trojan Source"). `safe` turns each such character into its
escape (`\\x1b`, `\\u202e`); newlines and tabs stay. `escaping_stdout` applies it to
everything a command prints as human output (see `agent.cli.emit`), letting through
only the colour codes (SGR) that rich itself writes when stdout is a terminal. JSON
output needs none of this: `json.dumps` escapes these characters already.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Iterator

# C0 controls but tab and newline, DEL, C1 controls; bidi marks, embeddings, overrides
# and isolates; line and paragraph separators
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[{_UNSAFE}]")
_SGR = r"\x1b\[[0-9;]*m"
UNSAFE_BUT_SGR = re.compile(f"({_SGR})|[{_UNSAFE}]")


def _escape(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def safe(text: object) -> str:
    """`str(text)` with every control character and bidi override escaped (not \\n, \\t)."""
    return UNSAFE.sub(lambda m: _escape(m.group()), str(text))


def _safe_keeping_sgr(text: str) -> str:
    return UNSAFE_BUT_SGR.sub(lambda m: m.group(1) or _escape(m.group()), text)


class _EscapingWriter(io.TextIOBase):
    """A text stream that escapes what it is given and writes it to another stream."""

    def __init__(self, inner, keep_colour: bool) -> None:
        self._inner = inner
        self._clean = _safe_keeping_sgr if keep_colour else safe

    def write(self, s: str) -> int:
        if not isinstance(s, str):  # a text stream (click probes for a binary one)
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self._inner.write(self._clean(s))
        return len(s)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._inner, "errors", None)

    def writable(self) -> bool:
        return True


@contextlib.contextmanager
def escaping_stdout() -> Iterator[None]:
    """While inside, everything printed to stdout goes through `safe` (colour codes kept
    when stdout is a terminal, where rich writes them)."""
    inner = sys.stdout
    try:
        tty = bool(inner.isatty())
    except (AttributeError, ValueError):
        tty = False
    sys.stdout = _EscapingWriter(inner, keep_colour=tty)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout = inner
