"""Share libraries: export every skill to one file, import such a file into a library.

A bundle is a zip file:

- `bundle.json`: format name and version, and per skill its usage count and every
  version's description, example instructions, author, verified flag, funnel stage,
  stats per family, lineage (parent name and version), creation time, and the path and
  sha256 of its code;
- `code/<name>/v<version>.py`: the code of each version, readable as it is.

Importing checks everything before writing anything: the zip, the manifest's shape,
every checksum, every code file through `validate` (the AST allow-list). A bundle that
fails any check raises `SkillError` with one line and changes nothing. Versions whose
content is already in the library are skipped; the others are appended as new versions
in one transaction (lineage remapped to the new numbers). The index is derived, so it
is not in the bundle: the imported skills are embedded on import.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SkillError
from .store import STAGES, SkillVersion, check_author, check_name, content_hash, parse_source

if TYPE_CHECKING:
    from .library import SkillLibrary

FORMAT = "skillgrove-bundle"
FORMAT_VERSION = 1
MANIFEST = "bundle.json"
MAX_BUNDLE_BYTES = 64 * 1024 * 1024  # uncompressed, all members together
MAX_MEMBER_BYTES = 1024 * 1024


def export_bundle(library: SkillLibrary, path: str | Path) -> dict[str, Any]:
    """Write every skill of `library` (all versions) to a bundle file at `path`.

    The file is written to a temporary name and renamed, so a crash never leaves half a
    bundle under `path`.

    Returns:
        {"path", "skills", "versions"}.
    """
    path = Path(path)
    skills, members, n_versions = [], {}, 0
    for info in library.list():
        versions = []
        for v in library.history(info.name):
            member = f"code/{v.name}/v{v.version}.py"
            members[member] = v.code.encode()
            versions.append({
                "version": v.version, "description": v.description, "examples": list(v.examples),
                "author": v.author, "verified": v.verified, "stage": v.stage,
                "parent": list(v.parent) if v.parent else None, "created": v.created,
                "stats": {f: list(es) for f, es in v.stats.items()},
                "code": member, "sha256": hashlib.sha256(members[member]).hexdigest(),
            })  # fmt: skip
            n_versions += 1
        skills.append({"name": info.name, "uses": info.uses, "versions": versions})
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": time.time(),
        "skills": skills,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".bundle-", suffix=".zip", dir=path.parent)
        os.close(fd)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(MANIFEST, json.dumps(manifest, indent=1))
            for name, data in members.items():
                z.writestr(name, data)
        os.replace(tmp, path)
    except OSError as exc:
        raise SkillError(f"cannot write the bundle {path}: {exc.strerror or exc}") from None
    return {"path": str(path), "skills": len(skills), "versions": n_versions}


def read_bundle(path: str | Path) -> tuple[list[dict], dict[str, str]]:
    """Read and check a bundle: (skills from the manifest, member -> code text).

    Raises:
        SkillError: not a bundle, or any part of it damaged.
    """
    path = Path(path)
    if not path.is_file():
        raise SkillError(f"no bundle file at {path}")
    try:
        with zipfile.ZipFile(path) as z:
            infos = {i.filename: i for i in z.infolist()}
            if sum(i.file_size for i in infos.values()) > MAX_BUNDLE_BYTES:
                raise SkillError(f"bundle {path} is too large once unpacked")
            if MANIFEST not in infos:
                raise SkillError(f"{path} is not a skillgrove bundle (no {MANIFEST} inside)")
            manifest = json.loads(_member(z, infos, MANIFEST, MAX_BUNDLE_BYTES))
            skills = _check_manifest(manifest)
            code = {}
            for s in skills:
                for v in s["versions"]:
                    data = _member(z, infos, v["code"], MAX_MEMBER_BYTES)
                    if hashlib.sha256(data).hexdigest() != v["sha256"]:
                        raise SkillError(
                            f"corrupt bundle: the code of {s['name']} v{v['version']} fails its checksum"
                        )
                    code[v["code"]] = data.decode("utf-8")
    except SkillError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise SkillError(f"{path} is not a readable bundle (bad zip file: {exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise SkillError(f"corrupt bundle {path}: {exc}") from None
    except (OSError, RuntimeError) as exc:  # zlib errors, truncated members, encrypted members
        raise SkillError(f"corrupt bundle {path}: {exc}") from None
    return skills, code


def _member(z: zipfile.ZipFile, infos: dict, name: str, limit: int) -> bytes:
    info = infos.get(name)
    if info is None:
        raise SkillError(f"corrupt bundle: {name} is missing")
    if info.file_size > limit:
        raise SkillError(f"corrupt bundle: {name} is too large")
    return z.read(info)


def _check_manifest(m: Any) -> list[dict]:
    def bad(why: str) -> SkillError:
        return SkillError(f"corrupt bundle: {why}")

    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise bad(f"{MANIFEST} is not a {FORMAT} manifest")
    if m.get("format_version") != FORMAT_VERSION:
        raise bad(
            f"format version {m.get('format_version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    skills = m.get("skills")
    if not isinstance(skills, list):
        raise bad("'skills' is not a list")
    seen = set()
    for s in skills:
        if not isinstance(s, dict) or not isinstance(s.get("versions"), list) or not s["versions"]:
            raise bad("a skill entry has no versions")
        try:
            check_name(s.get("name"))
        except SkillError as exc:
            raise bad(str(exc)) from None
        if s["name"] in seen:
            raise bad(f"skill {s['name']} appears twice")
        seen.add(s["name"])
        if not isinstance(s.get("uses", 0), int):
            raise bad(f"bad usage count of {s['name']}")
        numbers = set()
        for v in s["versions"]:
            _check_version(s["name"], v, bad)
            if v["version"] in numbers:
                raise bad(f"{s['name']} v{v['version']} appears twice")
            numbers.add(v["version"])
    return skills


def _check_version(name: str, v: Any, bad) -> None:
    where = f"{name} v{v.get('version') if isinstance(v, dict) else '?'}"
    if not isinstance(v, dict):
        raise bad(f"a version of {name} is not an object")
    types = {"version": int, "description": str, "examples": list, "author": str, "verified": bool,
             "stage": str, "created": (int, float), "stats": dict, "code": str, "sha256": str}  # fmt: skip
    for key, t in types.items():
        if not isinstance(v.get(key), t):
            raise bad(f"{where}: field {key!r} is missing or has the wrong type")
    if v["stage"] not in STAGES or not all(isinstance(e, str) for e in v["examples"]):
        raise bad(f"{where}: bad stage or examples")
    try:
        check_author(v["author"])
    except SkillError as exc:
        raise bad(f"{where}: {exc}") from None
    for fam, es in v["stats"].items():
        if not (
            isinstance(es, list)
            and len(es) == 2
            and all(isinstance(x, int) for x in es)
            and 0 <= es[1] <= es[0]
        ):
            raise bad(f"{where}: bad stats for {fam}")
    p = v.get("parent")
    if p is not None and not (
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], int)
    ):
        raise bad(f"{where}: bad parent")


def import_bundle(
    library: SkillLibrary, path: str | Path, *, unverified: bool = False
) -> dict[str, Any]:
    """Import a bundle into `library`: new skills and new versions, all or nothing.

    Args:
        unverified: mark every imported version unverified (re-verify before reuse).

    Returns:
        {"skills": names touched, "added": versions added, "skipped": versions already present}.
    """
    from .library import validate_code

    skills, code = read_bundle(path)
    known: dict[str, dict[str, int]] = {}  # name -> content hash -> version in the library
    renumber: dict[tuple[str, int], tuple[str, int]] = {}
    pending: list[tuple[dict, SkillVersion]] = []
    uses: dict[str, int] = {}
    for s in skills:
        name = s["name"]
        existing = library.store.versions(name)
        known[name] = {v.content_hash: v.version for v in existing}
        nxt = max((v.version for v in existing), default=0) + 1
        if not existing:
            uses[name] = s.get("uses", 0)
        for v in sorted(s["versions"], key=lambda v: v["version"]):
            text = code[v["code"]]
            try:
                params = parse_source(text, name).params
                validate_code(text, name)
            except SkillError as exc:
                raise SkillError(
                    f"bundle skill {name} v{v['version']} is rejected: {exc}"
                ) from None
            examples = tuple(v["examples"])
            h = content_hash(text, v["description"], *examples)
            if h in known[name]:
                renumber[(name, v["version"])] = (name, known[name][h])
                continue
            renumber[(name, v["version"])] = (name, nxt)
            known[name][h] = nxt
            sv = SkillVersion(name, nxt, text, v["description"], examples, params, v["author"],
                              v["verified"] and not unverified, "unverified" if unverified else v["stage"],
                              None, h, float(v["created"]), {f: (e, k) for f, (e, k) in v["stats"].items()})  # fmt: skip
            pending.append((v, sv))
            nxt += 1
    from dataclasses import replace

    versions = []
    for v, sv in pending:
        p = v.get("parent")
        parent = renumber.get((p[0], p[1]), (p[0], p[1])) if p else None
        versions.append(replace(sv, parent=parent))
    if versions:
        library.add_many(versions, keep_numbers=True, uses=uses)
    touched = sorted({v.name for v in versions})
    return {
        "skills": touched,
        "added": len(versions),
        "skipped": sum(len(s["versions"]) for s in skills) - len(versions),
    }
