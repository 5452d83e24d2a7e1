"""The schema of a bundle's manifest (`bundle.json`), checked before anything is imported.

Every number is bounded and every float finite, so nothing read from a bundle can
overflow SQLite, JSON or Python later (`uses: 10**30`, `created: Infinity`); strings are
capped; names, authors and stages are the library's own vocabulary. `parse_manifest`
returns the models or raises `SkillError` with one line that says which skill, version
and field is wrong.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from skills.errors import SkillError
from skills.store import STAGES, check_author, check_name

FORMAT = "skillgrove-bundle"
FORMAT_VERSION = 1
MAX_COUNT = 2**53 - 1  # exact as a JSON number and a float; fits SQLite's INTEGER
MAX_VERSION = 2**31 - 1
MAX_TIME = 32503680000.0  # 3000-01-01 in seconds since the epoch

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Number = Annotated[int, Field(ge=1, le=MAX_VERSION)]
Name = Annotated[str, Field(max_length=64)]
Time = Annotated[float, Field(ge=0.0, le=MAX_TIME, allow_inf_nan=False)]
Key = Annotated[str, Field(min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class BundleVersion(_Strict):
    """One version of a skill as the bundle describes it (every field a claim)."""

    version: Number
    description: Annotated[str, Field(max_length=10_000)]
    examples: Annotated[list[Annotated[str, Field(max_length=2_000)]], Field(max_length=200)]
    author: Annotated[str, Field(max_length=200)]
    verified: bool
    stage: Literal[STAGES]  # type: ignore[valid-type]
    parent: tuple[Name, Number] | None = None
    created: Time
    stats: Annotated[dict[Key, tuple[Count, Count]], Field(max_length=1_000)]
    code: Annotated[str, Field(max_length=300)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

    @field_validator("author")
    @classmethod
    def _author(cls, v: str) -> str:
        try:
            return check_author(v)
        except SkillError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("parent")
    @classmethod
    def _parent(cls, v: tuple[str, int] | None) -> tuple[str, int] | None:
        if v is not None:
            try:
                check_name(v[0])
            except SkillError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("stats")
    @classmethod
    def _stats(cls, v: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        for key, (episodes, successes) in v.items():
            if successes > episodes:
                raise ValueError(f"stats for {key}: more successes than episodes")
        return v


class BundleSkill(_Strict):
    """A skill of the bundle: its name, claimed usage count and versions."""

    name: Name
    uses: Count = 0
    versions: Annotated[list[BundleVersion], Field(min_length=1, max_length=10_000)]

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        try:
            return check_name(v)
        except SkillError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _unique(self) -> BundleSkill:
        twice = _repeated(v.version for v in self.versions)
        if twice is not None:
            raise ValueError(f"{self.name} v{twice} appears twice")
        return self


class Manifest(_Strict):
    """`bundle.json`."""

    format: Literal[FORMAT]  # type: ignore[valid-type]
    format_version: Literal[FORMAT_VERSION]  # type: ignore[valid-type]
    created: Time | None = None
    skills: Annotated[list[BundleSkill], Field(max_length=100_000)]

    @model_validator(mode="after")
    def _unique(self) -> Manifest:
        twice = _repeated(s.name for s in self.skills)
        if twice is not None:
            raise ValueError(f"skill {twice} appears twice")
        return self


def _repeated(keys):
    """The first key seen twice, or None."""
    seen: set = set()
    for k in keys:
        if k in seen:
            return k
        seen.add(k)
    return None


def parse_manifest(raw: bytes, manifest: str = "bundle.json") -> Manifest:
    """Read and check a manifest; `SkillError` ("corrupt bundle: ...", one line) if bad."""
    try:
        data = json.loads(raw, parse_constant=lambda c: c)  # Infinity, NaN: let the schema say
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # JSONDecodeError: a ValueError
        raise SkillError(f"corrupt bundle: {manifest} is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SkillError(f"corrupt bundle: {manifest} is not a {FORMAT} manifest")
    if data.get("format_version") != FORMAT_VERSION:
        raise SkillError(
            f"corrupt bundle: format version {data.get('format_version')!r} is not supported "
            f"(expected {FORMAT_VERSION})"
        )
    try:
        return Manifest.model_validate_json(raw)
    except ValidationError as exc:
        raise SkillError(f"corrupt bundle: {_one_line(exc.errors()[0], data)}") from None


_TYPE_ERRORS = (
    "missing",
    "model_type",
    "model_attributes_type",
    "dict_type",
    "list_type",
    "tuple_type",
    "string_type",
    "int_type",
    "float_type",
    "bool_type",
    "int_from_float",
    "int_parsing",
    "float_parsing",
    "bool_parsing",
    "none_required",
)
_RANGE_ERRORS = ("less_than_equal", "greater_than_equal", "less_than", "greater_than")


def _one_line(err: dict, data: dict) -> str:
    """A pydantic error as "<skill> v<n>: <what is wrong>"."""
    loc = list(err.get("loc", ()))
    where = ""
    if len(loc) >= 2 and loc[0] == "skills" and isinstance(loc[1], int):
        skill = _at(data, "skills", loc[1])
        name = skill.get("name") if isinstance(skill, dict) else None
        where = name if isinstance(name, str) and len(name) <= 64 else f"skill #{loc[1] + 1}"
        loc = loc[2:]
        if len(loc) >= 2 and loc[0] == "versions" and isinstance(loc[1], int):
            version = _at(skill, "versions", loc[1])
            n = version.get("version") if isinstance(version, dict) else None
            where += (
                f" v{n}" if isinstance(n, int) and abs(n) < 10**12 else f" version #{loc[1] + 1}"
            )
            loc = loc[2:]
    field = ".".join(str(x) for x in loc)
    kind, msg = err.get("type", ""), str(err.get("msg", "")).split("\n")[0]
    if kind in _TYPE_ERRORS:
        text = f"field {field!r} is missing or has the wrong type"
    elif kind in _RANGE_ERRORS or kind in ("too_long", "too_short", "string_too_long"):
        text = f"field {field!r} is out of range ({msg[0].lower() + msg[1:] if msg else kind})"
    elif kind == "finite_number":
        text = f"field {field!r} must be a finite number"
    elif kind == "literal_error":
        got = repr(err.get("input"))[:40]
        text = f"bad {field or 'value'} {got} ({msg[0].lower() + msg[1:]})"
    elif kind == "value_error":
        text = msg.removeprefix("Value error, ")
    else:
        text = f"field {field!r}: {msg}" if field else msg
    return f"{where}: {text}" if where else text


def _at(container: Any, key: str, index: int) -> Any:
    items = container.get(key) if isinstance(container, dict) else None
    return items[index] if isinstance(items, list) and 0 <= index < len(items) else None
