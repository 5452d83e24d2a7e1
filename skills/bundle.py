"""Share libraries: export every skill to one file, import such a file into a library.

A bundle is a zip file:

- `bundle.json`: format name and version, and per skill its usage count and every
  version's description, example instructions, author, verified flag, funnel stage,
  stats per family, lineage (parent name and version), creation time, and the path and
  sha256 of its code (the schema: `skills.bundle_schema`);
- `code/<name>/v<version>.py`: the code of each version, readable as it is.

Exporting writes through `skills.files.safe_write`: an existing file is replaced only
with `force`, never a directory, device or a data home's own file, and atomically.

Importing checks everything before writing anything: the zip, the manifest against its
schema (bounded numbers, finite times), every checksum, every code file through
`validate` (the AST allow-list). A bundle that fails any check raises `SkillError` with
one line and changes nothing. Versions whose content is already in the library are
skipped; the others are appended as new versions in one transaction (lineage remapped
to the new numbers). The index is derived, so it is not in the bundle: the imported
skills are embedded on import.

What a bundle says about trust is a claim, not evidence: an imported version is
unverified, at stage "unverified", with no stats and no uses, until this machine's
Evaluator verifies it (`skills verify`, or `skills import --verify`). The claims
(author, verified flag, stage, stats, usage count, creation time, version number) are
kept as its provenance (`provenance(library, name, version)`), never used for ranking or
reuse. The author is kept, except "seed", which only the skills shipped with skillgrove
are: an imported "seed" is stored as "human".
"""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skills.bundle_schema import FORMAT, FORMAT_VERSION, BundleSkill, BundleVersion, parse_manifest
from skills.errors import SkillError
from skills.files import safe_write
from skills.store import SkillVersion, content_hash, parse_source

if TYPE_CHECKING:
    from skills.library import SkillLibrary

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "export_bundle",
    "import_bundle",
    "provenance",
    "read_bundle",
]

MANIFEST = "bundle.json"
MAX_BUNDLE_BYTES = 64 * 1024 * 1024  # uncompressed, all members together
MAX_MEMBER_BYTES = 1024 * 1024
PROVENANCE = "provenance:{name}:v{version}"  # library_meta key of an imported version's claims


def export_bundle(
    library: SkillLibrary, path: str | Path, *, force: bool = False
) -> dict[str, Any]:
    """Write every skill of `library` (all versions) to a bundle file at `path`.

    The file goes through `skills.files.safe_write` (refused when it exists unless
    `force`, when it is not a regular file, or when it lies in a data home; written to a
    temporary name and renamed, so a crash never leaves half a bundle under `path`).

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
            versions.append(
                {
                    "version": v.version,
                    "description": v.description,
                    "examples": list(v.examples),
                    "author": v.author,
                    "verified": v.verified,
                    "stage": v.stage,
                    "parent": list(v.parent) if v.parent else None,
                    "created": v.created,
                    "stats": {f: list(es) for f, es in v.stats.items()},
                    "code": member,
                    "sha256": hashlib.sha256(members[member]).hexdigest(),
                }
            )
            n_versions += 1
        skills.append({"name": info.name, "uses": info.uses, "versions": versions})
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": time.time(),
        "skills": skills,
    }
    with (
        safe_write(path, force=force, home=library.home) as tmp,
        zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        z.writestr(MANIFEST, json.dumps(manifest, indent=1))
        for name, data in members.items():
            z.writestr(name, data)
    return {"path": str(path), "skills": len(skills), "versions": n_versions}


def read_bundle(path: str | Path) -> tuple[list[BundleSkill], dict[str, str]]:
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
            skills = parse_manifest(_member(z, infos, MANIFEST, MAX_BUNDLE_BYTES), MANIFEST).skills
            code = {}
            for s in skills:
                for v in s.versions:
                    data = _member(z, infos, v.code, MAX_MEMBER_BYTES)
                    if hashlib.sha256(data).hexdigest() != v.sha256:
                        raise SkillError(
                            f"corrupt bundle: the code of {s.name} v{v.version} fails its checksum"
                        )
                    code[v.code] = data.decode("utf-8")
    except SkillError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise SkillError(f"{path} is not a readable bundle (bad zip file: {exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SkillError(f"corrupt bundle {path}: {exc}") from None
    except (OSError, RuntimeError) as exc:  # zlib errors, truncated members, encrypted members
        raise SkillError(f"corrupt bundle {path}: {exc}") from None
    return skills, code


_CHUNK = 64 * 1024


def _member(z: zipfile.ZipFile, infos: dict, name: str, limit: int) -> bytes:
    """A member's bytes, streamed in chunks and refused past `limit` or its declared size:
    a member that declares 99 bytes but holds a huge stream costs one chunk of memory, not
    the stream (`ZipFile.read` would inflate it all before checking)."""
    info = infos.get(name)
    if info is None:
        raise SkillError(f"corrupt bundle: {name} is missing")
    cap = min(limit, info.file_size)
    if info.file_size > limit:
        raise SkillError(f"corrupt bundle: {name} is too large")
    out = bytearray()
    with z.open(info) as f:
        while chunk := f.read(_CHUNK):
            out += chunk
            if len(out) > cap:
                raise SkillError(f"corrupt bundle: {name} holds more than it declares")
    return bytes(out)


def import_bundle(
    library: SkillLibrary, path: str | Path, *, unverified: bool = True
) -> dict[str, Any]:
    """Import a bundle into `library`: new skills and new versions, all or nothing.

    Every imported version is unverified, at stage "unverified", without stats or uses
    (see the module's docstring); what the bundle claimed is its provenance.

    Args:
        unverified: kept for callers of the old signature; imports are always unverified.

    Returns:
        {"skills": names touched, "added": versions added, "skipped": versions already
        present, "versions": [{"name", "version", "claimed": {...}}] for each added}.
    """
    from skills.library import validate_code

    del unverified  # a bundle's trust is never taken over (see the module's docstring)
    skills, code = read_bundle(path)
    now = time.time()
    known: dict[str, dict[str, int]] = {}  # name -> content hash -> version in the library
    renumber: dict[tuple[str, int], tuple[str, int]] = {}
    pending: list[tuple[BundleVersion, SkillVersion, dict]] = []
    for s in skills:
        name = s.name
        existing = library.store.versions(name)
        known[name] = {v.content_hash: v.version for v in existing}
        nxt = max((v.version for v in existing), default=0) + 1
        for v in sorted(s.versions, key=lambda v: v.version):
            text = code[v.code]
            try:
                params = parse_source(text, name).params
                validate_code(text, name)
            except SkillError as exc:
                raise SkillError(f"bundle skill {name} v{v.version} is rejected: {exc}") from None
            examples = tuple(v.examples)
            h = content_hash(text, v.description, *examples)
            if h in known[name]:
                renumber[(name, v.version)] = (name, known[name][h])
                continue
            renumber[(name, v.version)] = (name, nxt)
            known[name][h] = nxt
            author = "human" if v.author == "seed" else v.author  # "seed": shipped here only
            sv = SkillVersion(
                name,
                nxt,
                text,
                v.description,
                examples,
                params,
                author,
                False,
                "unverified",
                None,
                h,
                now,
                {},
            )
            claimed = {
                "version": v.version,
                "author": v.author,
                "verified": v.verified,
                "stage": v.stage,
                "stats": {k: list(es) for k, es in v.stats.items()},
                "uses": s.uses,
                "created": v.created,
            }
            pending.append((v, sv, claimed))
            nxt += 1
    versions = []
    for v, sv, _ in pending:
        parent = renumber.get(v.parent, v.parent) if v.parent else None
        versions.append(replace(sv, parent=parent))
    if versions:
        library.add_many(versions, keep_numbers=True)
        _record_provenance(
            library, path, [(sv, c) for (_, _, c), sv in zip(pending, versions, strict=True)]
        )
    return {
        "skills": sorted({v.name for v in versions}),
        "added": len(versions),
        "skipped": sum(len(s.versions) for s in skills) - len(versions),
        "versions": [
            {"name": sv.name, "version": sv.version, "claimed": c}
            for (_, _, c), sv in zip(pending, versions, strict=True)
        ],
    }


def _record_provenance(
    library: SkillLibrary, path: str | Path, added: list[tuple[SkillVersion, dict]]
) -> None:
    """Keep what the bundle claimed about each added version (the library's meta table)."""
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        digest = None
    source = {"bundle": Path(path).name, "bundle_sha256": digest, "imported": time.time()}
    with library._writing(), library.store.transaction(bump=False) as tx:
        for sv, claimed in added:
            record = {**source, "content_hash": sv.content_hash, "claimed": claimed}
            library.store.set_meta(
                tx, PROVENANCE.format(name=sv.name, version=sv.version), json.dumps(record)
            )


def provenance(library: SkillLibrary, name: str, version: int) -> dict | None:
    """What the bundle a version came from claimed about it, or None (not imported).

    Returns:
        {"bundle", "bundle_sha256", "imported", "content_hash", "claimed": {"version",
        "author", "verified", "stage", "stats", "uses", "created"}}.
    """
    raw = library.store.meta(PROVENANCE.format(name=name, version=version))
    if raw is None:
        return None
    record = json.loads(raw)
    current = library.store.version(name, version)
    if current is None or current.content_hash != record.get("content_hash"):
        return None  # the skill was removed and the name reused since
    return record
