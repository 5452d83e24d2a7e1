"""Typed results of the Python API: one frozen dataclass per CLI `--json` object.

Each record has exactly the fields of the JSON object the matching command prints
(`run --json`, `skills search --json`, ...), with nested objects as records too;
`to_dict()` gives that JSON object back and `from_dict()` reads one.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class Record:
    """Base of the API's records: `from_dict` from a CLI JSON object, `to_dict` back."""

    _optional: ClassVar[tuple[str, ...]] = ()  # fields the JSON has only when set

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The record of a CLI `--json` object (nested objects become records)."""
        hints = typing.get_type_hints(cls)
        return cls(
            **{
                f.name: _convert(hints[f.name], data[f.name])
                for f in dataclasses.fields(cls)
                if f.name in data
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The CLI's `--json` object for this record (optional fields left out when unset)."""
        d = dataclasses.asdict(self)
        for name in self._optional:
            if not d[name]:
                del d[name]
        return d


def _convert(hint: Any, value: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(hint, type) and issubclass(hint, Record) and isinstance(value, dict):
        return hint.from_dict(value)
    if origin is list and args and isinstance(value, list):
        return [_convert(args[0], v) for v in value]
    if origin is tuple and args and isinstance(value, list | tuple):
        return tuple(_convert(args[0], v) for v in value)
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        return {k: _convert(args[1], v) for k, v in value.items()}
    return value


# -- run ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Atom(Record):
    """One ground atom of the goal at the end of a run: its truth, margin and detail."""

    atom: str
    value: bool
    margin: float | None
    detail: str = ""


@dataclass(frozen=True)
class ObjectState(Record):
    """One object of the scene: description, start and end pose [x, y, z_bottom, yaw_deg]."""

    description: str
    start: list[float]
    end: list[float]
    size: Any


@dataclass(frozen=True)
class Decision(Record):
    """What the agent decided for one step (reuse, adapt or synthesize) and why."""

    step: str
    decision: str
    score: float
    skill: str | None
    version: int | None
    attempts: int = 0
    verdicts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RunResult(Record):
    """The result of one run: the fields of `skillgrove run --json`.

    `success` is the goal (`goal`) evaluated on the simulator's end state; `atoms` gives
    each ground atom's truth, `objects` each object's start and end pose, `decisions`
    what the agent did per step; `run_id` names the stored record (`skillgrove runs show`).
    """

    _optional: ClassVar[tuple[str, ...]] = ("gif",)

    success: bool
    goal: str
    atoms: list[Atom]
    objects: list[ObjectState]
    steps: int
    reused: int
    synthesized: int
    llm_calls: int
    seconds: float
    run_id: str
    family: str
    family_source: str
    planner: str
    decisions: list[Decision]
    skills: list[str]
    status: str
    reason: str | None
    perception: str
    gif: str | None = None


# -- skills ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Match(Record):
    """One ranked skill of a search."""

    name: str
    score: float
    version: int
    verified: bool


@dataclass(frozen=True)
class SearchResult(Record):
    """The fields of `skills search --json`: the decision and the matches, best first."""

    decision: str
    results: list[Match]


@dataclass(frozen=True)
class Param(Record):
    """One parameter of a skill's entry function."""

    name: str
    required: bool
    default: Any = None


@dataclass(frozen=True)
class Stat(Record):
    """This machine's evidence for a skill on one family or goal template."""

    episodes: int
    successes: int
    success_rate: float | None


@dataclass(frozen=True)
class SkillVersion(Record):
    """One stored skill version: the fields of `skills add --json`."""

    _optional: ClassVar[tuple[str, ...]] = ("warnings",)

    name: str
    version: int
    description: str
    author: str
    verified: bool
    stage: str
    parent: list[Any] | None
    created: float
    content_hash: str
    params: list[Param]
    examples: list[Any]
    goal_template: Any
    stats: dict[str, Stat]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KeyCheck(Record):
    """One family or goal template a version was checked on, with the scenes' seeds."""

    key: str
    status: str
    passed: bool
    stage: str
    episodes: int
    successes: int
    success_rate: float | None
    interval: list[float]
    stopped_early: bool
    reason: str | None
    claimed: bool
    seeds: list[int]


@dataclass(frozen=True)
class VersionCheck(Record):
    """The verdict on one skill version: passed, failed or skipped, per key."""

    name: str
    version: int
    status: str
    verified: bool
    stage: str
    reason: str | None
    keys: list[KeyCheck]


@dataclass(frozen=True)
class VerifySummary(Record):
    """Counts of a verification: versions, passed, failed, skipped, episodes, seconds."""

    versions: int
    passed: int
    failed: int
    skipped: int
    episodes: int
    seconds: float


@dataclass(frozen=True)
class VerifyReport(Record):
    """The fields of `skills verify --json`."""

    skills: list[VersionCheck]
    summary: VerifySummary


# -- policy ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainResult(Record):
    """The fields of `policy train --json`: the new checkpoint and its held-out scores."""

    version: int
    checkpoint: str
    families: list[str]
    seconds: float
    train_seconds: float
    steps: int
    eval: dict[str, dict[str, Any]]
    sim: dict[str, dict[str, Any]]
    logdir: str | None = None  # the run's TensorBoard event files

    _optional: ClassVar[tuple[str, ...]] = ("logdir",)


@dataclass(frozen=True)
class EvalResult(Record):
    """The fields of `policy eval --json`: scores per family on held-out scenes."""

    version: Any
    mode: str
    episodes: int
    results: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class CorrectionResult(Record):
    """The fields of `policy correct --json` for a stored correction."""

    stored: bool
    id: int
    diagnosis: Any
    action: str
    family: str
    seed: int
    checkpoint: Any
    image: str
    instruction: str
    predicted: dict[str, Any]
    corrected: Any
