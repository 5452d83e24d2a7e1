"""The schema a stored run record is validated against when it is read (issue 19, finding 8).

Run records are JSON in the data home's database (`agent.run.records`); `runs show`, the
UI and the benchmarks read them back. A record someone edited by hand or whose bytes were
damaged (JSON that is not an object, a field of the wrong type, a required field missing,
a number that is not finite) is refused by `check_record` with one line that names the
field, never a traceback further on. Types are strict (a seed of "5" is not a seed);
fields this release does not know are ignored, and fields older releases did not write
take their defaults, so records of earlier releases still read.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

_CONFIG = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False)


class DecisionModel(BaseModel):
    """`agent.run.records.Decision` as stored."""

    model_config = _CONFIG

    step: str
    decision: str
    score: float
    skill: str | None
    version: int | None
    attempts: int = 0
    verdicts: list[dict[str, Any]] = Field(default_factory=list)


class RecordModel(BaseModel):
    """`agent.run.records.RunRecord` as stored."""

    model_config = _CONFIG

    run_id: str
    instruction: str
    family: str
    family_source: str
    seed: int
    planner: str
    perception: str
    plan: list[str]
    decisions: list[DecisionModel]
    skills: list[str]
    success: bool
    status: str
    reason: str | None
    seconds: float
    llm_calls: int
    tokens: int
    args: dict[str, Any] = Field(default_factory=dict)
    poses: dict[str, Any] = Field(default_factory=dict)
    gif: str | None = None
    created: float = 0.0
    goal: str = ""
    atoms: list[dict[str, Any]] = Field(default_factory=list)
    objects: list[dict[str, Any]] = Field(default_factory=list)
    scene: list[dict[str, Any]] = Field(default_factory=list)
    mp4: str | None = None  # from issue 21 on: the GIF's frames as a video beside it
    trajectory: dict[str, Any] = Field(default_factory=dict)  # skills.sandbox.trajectory


class BadRecord(ValueError):
    """A stored record that does not match the schema; the message names the field."""


def check_record(text: str) -> dict:
    """The record's fields, validated; `BadRecord` (one line naming the field) otherwise."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise BadRecord(f"it is not valid JSON ({' '.join(str(exc).split())[:80]})") from None
    if not isinstance(data, dict):
        raise BadRecord(f"it is a JSON {type(data).__name__}, not an object")
    try:
        return RecordModel.model_validate(data).model_dump()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "record"
        got = "" if err["type"] == "missing" else f", got {str(err.get('input'))[:40]!r}"
        raise BadRecord(f"field {where!r}: {err['msg'].lower()}{got}") from None
