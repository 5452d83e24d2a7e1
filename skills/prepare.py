"""Checking a skill before it is stored: name, author, code, description, lineage.

`prepare_version` builds the `SkillVersion` that `SkillLibrary.add` (and `add_many`,
through `SkillLibrary.prepare`) stores; `validate_code` is the AST allow-list check that
imports use too (`skills.bundle`).
"""

from __future__ import annotations

import time
from dataclasses import replace

from skills.errors import SkillError
from skills.model import (
    STAGES,
    SkillVersion,
    check_author,
    check_name,
    content_hash,
    parse_source,
    summary,
)
from skills.store import SkillStore


def validate_code(code: str, entry: str) -> None:
    """Check skill code with `skills.validate` (the AST allow-list) when it is installed.

    Raises:
        SkillError: the code is rejected.
    """
    try:
        from skills.validate import validate
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.validate":
            raise
        return  # allow-list not built yet: parse_source still checks syntax and the entry
    validate(code, entry=entry)


def prepare_version(
    store: SkillStore, name, code, description, examples, author, verified, stage, parent, stats
) -> SkillVersion:
    """A checked, unstored version (number 0) of skill `name`; see `SkillLibrary.add`.

    Raises:
        SkillError: bad name, code, author, stage or parent.
    """
    check_name(name)
    check_author(author)
    if not isinstance(code, str) or not code.strip():
        raise SkillError(f"the code of {name} is empty")
    parsed = parse_source(code, name)
    validate_code(code, name)
    description = " ".join((description or summary(parsed.docstring)).split())
    if not description:
        raise SkillError(f"{name} needs a description (or a docstring on its entry function)")
    examples = tuple(
        " ".join(e.split())
        for e in (parsed.examples if examples is None else examples)
        if e.strip()
    )
    stage = stage or ("success" if verified else "unverified")
    if stage not in STAGES:
        raise SkillError(f"bad stage {stage!r}: one of {', '.join(STAGES)}")
    if parent is not None:
        parent = (str(parent[0]), int(parent[1]))
        if store.version(*parent) is None:
            raise SkillError(f"unknown parent skill {parent[0]} v{parent[1]}")
    h = content_hash(code, description, *examples)
    return SkillVersion(
        name,
        0,
        code,
        description,
        examples,
        parsed.params,
        author,
        bool(verified),
        stage,
        parent,
        h,
        time.time(),
        dict(stats or {}),
    )


def replace_version(v: SkillVersion, number: int) -> SkillVersion:
    """`v` numbered `number`."""
    return replace(v, version=number)
