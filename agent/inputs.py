"""Bounds of the numbers people type, one definition for the command line and the web UI.

A number out of its range is refused with one line (the CLI: a usage error, exit 2; the
UI: 422), never passed on to SQLite or arithmetic that overflows (a page of 2**63, a
version of 10**20). The CLI takes `Bound.click_type()`, the UI `Bound.query(default)`,
and code that gets the number as text (a path segment) `Bound.parse`. The correction
angle has its own validator, `agent.policy.corrections.validate_angle`, used by `policy
correct` and the Corrections page alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.errors import AgentError

_DIGITS = re.compile(r"^-?[0-9]{1,40}$")


@dataclass(frozen=True)
class Bound:
    """An integer input: its name and inclusive range."""

    name: str
    lo: int
    hi: int

    def check(self, value: int) -> int:
        """`value` when it is an int within [lo, hi], else AgentError (one line)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise AgentError(f"{self.name} must be a whole number, got {str(value)[:40]!r}")
        if not self.lo <= value <= self.hi:
            shown = str(value) if len(str(value)) <= 24 else f"{str(value)[:20]}..."
            raise AgentError(
                f"{self.name} {shown} is out of range: give a number from {self.lo} to {self.hi}"
            )
        return value

    def parse(self, text: str) -> int:
        """A number written as text (decimal digits), checked; AgentError otherwise."""
        t = str(text).strip()
        if not _DIGITS.match(t):
            raise AgentError(f"{self.name} must be a whole number, got {t[:40]!r}")
        return self.check(int(t))

    def click_type(self) -> Any:
        """The CLI's parameter type for it (a usage error, exit 2, when out of range)."""
        import click

        return click.IntRange(self.lo, self.hi)

    def query(self, default: int | None = None) -> Any:
        """The UI's query parameter for it (422 when out of range)."""
        from fastapi import Query

        return Query(default, ge=self.lo, le=self.hi)


MAX_ID = 2**63 - 1  # SQLite's largest INTEGER
# Evaluation scenes are drawn afresh (CSPRNG) from [2**31, 2**32) for every verification
# (`agent.evaluate.evaluator`); every public `--seed` stays below, so no command shows them.
EVAL_SEEDS = (2**31, 2**32)

PAGE = Bound("page", 1, 1_000_000)
VERSION = Bound("version", 1, 2**31 - 1)  # skills.bundle_schema.MAX_VERSION
ROW_ID = Bound("id", 1, MAX_ID)
SEED = Bound("seed", 0, EVAL_SEEDS[0] - 1)  # a scene seed a person may ask for
