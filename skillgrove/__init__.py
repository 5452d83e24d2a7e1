"""skillgrove's Python API: script the agent, the skill library and the pose policy.

    import skillgrove

    lib = skillgrove.open("/tmp/sg-home")
    r = lib.run("put the red cube left of the blue bowl", objects="red cube, blue bowl")
    print(r.success, [(a.atom, a.value) for a in r.atoms])

`open` gives a `Library` (a data home); its methods do what the CLI's commands do and
return typed records (`RunResult`, `SearchResult`, ...) with the fields of the command's
`--json` object (`record.to_dict()` is that object). Errors raise the exceptions the CLI
turns into its one-line messages, with the same text: `AgentError`, `SkillError` and
`SimError` (a goal the scene refuses: `GoalError`, a `SimError`). Importing this package
loads no torch, pybullet or chromadb.
"""

from __future__ import annotations

import os

from agent.errors import AgentError, LLMUnavailable
from skillgrove.library import Library
from skillgrove.records import (
    Atom,
    CorrectionResult,
    Decision,
    EvalResult,
    KeyCheck,
    Match,
    ObjectState,
    Param,
    Record,
    RunResult,
    SearchResult,
    SkillVersion,
    Stat,
    TrainResult,
    VerifyReport,
    VerifySummary,
    VersionCheck,
)
from skills.errors import SkillError

__all__ = [
    "AgentError",
    "Atom",
    "CorrectionResult",
    "Decision",
    "EvalResult",
    "KeyCheck",
    "LLMUnavailable",
    "Library",
    "Match",
    "ObjectState",
    "Param",
    "Record",
    "RunResult",
    "SearchResult",
    "SimError",
    "SkillError",
    "SkillVersion",
    "Stat",
    "TrainResult",
    "VerifyReport",
    "VerifySummary",
    "VersionCheck",
    "open",
]


def open(home: str | os.PathLike | None = None, **options) -> Library:
    """Open a data home as a `Library` (created if missing).

    Args:
        home: the data home (default: `$SKILLGROVE_HOME` or `~/.skillgrove`).
        **options: the agent's options, as `Library` takes them (llm, episodes, workers...).

    Raises:
        AgentError: the data home cannot be written.
    """
    return Library(home, **options)


def __getattr__(name: str):
    """`SimError`, imported on first use (the simulator package imports gymnasium)."""
    if name == "SimError":
        from sim.errors import SimError

        return SimError
    raise AttributeError(f"module 'skillgrove' has no attribute {name!r}")
