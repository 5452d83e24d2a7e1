"""The schema of a checkpoint's manifest (`<home>/policy/checkpoints/vNNNN.json`).

A manifest is checked when it is read, before any weights are loaded or any scene is
evaluated, so a hand-edited one (`"version": "one"`, `"families": 5`) fails at once with
one line naming the file and the field instead of a traceback after a full evaluation.
Only the fields something reads are typed; others (metrics, seeds) pass through as they
are. `parse_manifest` returns the manifest as the dict it was, or raises `AgentError`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import AgentError

MAX_INT = 2**53 - 1  # exact as a JSON number and a float
MAX_TIME = 32503680000.0  # 3000-01-01 in seconds since the epoch

Version = Annotated[int, Field(ge=1, le=MAX_INT)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
Word = Annotated[str, Field(max_length=200)]


class CheckpointManifest(BaseModel):
    """What a checkpoint's manifest says about it; every field but the first three optional."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    version: Version
    file: Annotated[str, Field(max_length=300)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    created: Annotated[float, Field(ge=0.0, le=MAX_TIME, allow_inf_nan=False)] | None = None
    encoder: Word | None = None
    kind: Word | None = None
    strategy: Word | None = None
    families: Annotated[list[Word], Field(max_length=1_000)] | None = None
    family: Word | None = None  # manifests written before `families`
    parent: Version | None = None
    corrections: list[Count] | Count | None = None  # fine-tunes: ids; feedback rounds: a count
    n_known: Count | None = None
    n_train: Count | None = None
    steps: Count | None = None
    seed: Count | None = None


def parse_manifest(text: str, path: Path, version: int) -> dict[str, Any]:
    """Check a manifest's text; the manifest as a dict.

    Args:
        text: the file's contents.
        path: the file, for the message.
        version: the version its file name says; the manifest must say the same.

    Raises:
        AgentError: one line, "checkpoint vNNNN has an unreadable/invalid manifest (path): ...".
    """
    name = f"checkpoint v{version:04d}"
    try:
        data = json.loads(text, parse_constant=lambda c: c)  # Infinity, NaN: let the schema say
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise AgentError(f"{name} has an unreadable manifest ({path}): {exc}") from None
    if not isinstance(data, dict):
        raise AgentError(f"{name} has an unreadable manifest ({path}): not a JSON object")
    try:
        CheckpointManifest.model_validate(data)
    except ValidationError as exc:
        raise AgentError(f"{name} has an invalid manifest ({path}): {_one_line(exc)}") from None
    if data["version"] != version:
        raise AgentError(
            f"{name} has an invalid manifest ({path}): field 'version' says {data['version']}"
        )
    return data


def _one_line(exc: ValidationError) -> str:
    """The first error as "field 'x' ...", without pydantic's multi-line layout."""
    err = exc.errors()[0]
    field = ".".join(str(x) for x in err.get("loc", ())) or "manifest"
    kind = err.get("type", "")
    msg = " ".join(str(err.get("msg", kind)).split())
    if kind == "missing":
        return f"field {field!r} is missing"
    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "int_from_float":
        got = type(err.get("input")).__name__
        return f"field {field!r} has the wrong type ({got}: {msg[0].lower() + msg[1:]})"
    return f"field {field!r}: {msg[0].lower() + msg[1:]}"
