"""A cursor over the instruction's tokens that remembers where reading got furthest.

The grammar is recursive descent with backtracking: each rule either consumes tokens and
returns a value, or returns None and leaves the cursor where it was. `expect` records
what a rule wanted at the furthest position any rule reached; when the whole sentence
cannot be read, that position and wish make the error message ("did not understand
'juggle' (expected an action such as ...)"). `Refusal` stops reading at once: the words
were understood but cannot make a goal (a set where one object is needed, an order for a
set, a rotation without an angle).
"""

from __future__ import annotations


class Refusal(Exception):
    """Words that were read but make no goal; the message says why."""

    def __init__(self, why: str, pos: int) -> None:
        super().__init__(why)
        self.why = why
        self.pos = pos


class Cursor:
    def __init__(self, tokens: list[str]) -> None:
        self.t = tokens
        self.i = 0
        self.far = 0
        self.wish: list[str] = []
        self.seen: list[tuple[int, str]] = []  # (position, words) the reader understood

    # -- looking and eating -------------------------------------------------------------
    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.t[j] if j < len(self.t) else ""

    def done(self) -> bool:
        return self.i >= len(self.t)

    def at(self, phrase: str) -> bool:
        words = phrase.split()
        return self.t[self.i : self.i + len(words)] == words

    def eat(self, phrase: str) -> bool:
        if self.at(phrase):
            self.i += len(phrase.split())
            return True
        return False

    def eat_any(self, phrases) -> str | None:
        """The longest of `phrases` at the cursor (eaten), or None."""
        best = max((p for p in phrases if self.at(p)), key=lambda p: len(p.split()), default=None)
        if best is not None:
            self.i += len(best.split())
        return best

    def skip(self, words) -> None:
        while self.peek() in words:
            self.i += 1

    # -- failure bookkeeping ------------------------------------------------------------
    def expect(self, what: str, pos: int | None = None) -> None:
        """Record that `what` was wanted at `pos` (default: the cursor); returns None."""
        pos = self.i if pos is None else pos
        if pos > self.far:
            self.far, self.wish = pos, [what]
        elif pos == self.far and what not in self.wish:
            self.wish.append(what)

    def note(self, start: int, words: str) -> None:
        """Remember that the words from `start` were understood (for the error message)."""
        if (start, words) not in self.seen:
            self.seen.append((start, words))

    def refuse(self, why: str, pos: int | None = None):
        raise Refusal(why, self.i if pos is None else pos)
