"""The skill library: SQLite store + derived vector index, one writer at a time.

`SkillLibrary(home, embedder=..., index=...)` takes its embedder and index as arguments;
`open_library(home, library_url=None)` builds the real ones (packaged MiniLM, Chroma).

Writes hold a file lock (`<home>/library.lock`) and go SQLite first (one transaction),
then the index. A process killed between the two leaves the index behind SQLite, never
the other way round; `doctor()` (run automatically before the first search when the
entry counts disagree) finds missing, stale and orphaned entries and rebuilds them.

What a write reports is what was written. SQLite is the source of truth and its commit
is the write: once it is committed the write has happened, and an index that cannot be
updated after it (an unwritable or damaged index directory, a Chroma server gone) does
not undo it or make it fail. The library then marks the index stale in SQLite
(`library_meta` key `index_stale`), says so in `warnings` (the CLI prints them: stored,
index repaired before the next search or by `skillgrove skills doctor`), and the next
`ensure_index` repairs it, even where the entry counts agree (a new version of a skill
with as many examples). A write that fails in SQLite writes nothing and raises one line
(`skills.store.store_error`). A damaged database is salvaged by `doctor()`: every readable
row goes into a fresh file, the damaged one is kept beside it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from skills.embed import Embedder
from skills.errors import SkillError
from skills.index import (
    INDEX_DIR,
    TEXT_FORM,
    ChromaIndex,
    IndexEntry,
    VectorIndex,
    entry_id,
    skill_texts,
)
from skills.store import (
    DB_NAME,
    STAGES,
    SkillInfo,
    SkillStore,
    SkillVersion,
    check_author,
    check_file,
    check_name,
    content_hash,
    damaged,
    parse_source,
    salvage,
    store_error,
    summary,
)

if TYPE_CHECKING:
    from skills.search import SearchResult

LOCK_NAME = "library.lock"
INDEX_STALE = "index_stale"  # library_meta key: why the index missed a committed write
_DOCTOR_HINT = "; run `skillgrove skills doctor`"  # ends the index's own messages


@dataclass(frozen=True)
class DoctorReport:
    """What `doctor` found (counts of index entries) and whether it repaired them."""

    skills: int
    entries: int
    missing: int
    stale: int
    orphaned: int
    index_reset: bool
    repaired: bool
    salvaged: dict | None = None  # a damaged database was salvaged (`skills.store.salvage`)

    @property
    def ok(self) -> bool:
        """True when the database was sound and SQLite and the index agreed before any repair."""
        return not (
            self.missing or self.stale or self.orphaned or self.index_reset or self.salvaged
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


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


class SkillLibrary:
    """Skills, their versions, stats and lineage, searchable by meaning.

    Args:
        home: the data home (the database is `<home>/skillgrove.db`).
        embedder: turns skill texts and queries into vectors.
        index: the vector index (derived from the database).
        install_seeds: install the seed skills into a new library.
        lock_timeout: seconds to wait for another writer.
    """

    def __init__(
        self,
        home: str | Path,
        embedder: Embedder,
        index: VectorIndex,
        *,
        install_seeds: bool = True,
        lock_timeout: float = 60.0,
    ) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self.index = index
        self.store = SkillStore(self.home / DB_NAME)
        self._lock = FileLock(str(self.home / LOCK_NAME), timeout=lock_timeout)
        self._checked_generation = -1
        self._searcher = None
        self.warnings: list[str] = []  # what this library could not do but did not fail on
        self.salvaged: dict | None = None  # set by open_library(salvage=True), reported by doctor
        if install_seeds and self.store.meta("seeded") is None:
            self._install_seeds()

    def close(self) -> None:
        self.index.close()
        self.store.close()

    def __enter__(self) -> SkillLibrary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes --------------------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the single-writer file lock (re-entrant within a process)."""
        try:
            self._lock.acquire()
        except Timeout:
            raise SkillError(
                f"another process is writing the library in {self.home} (lock {LOCK_NAME})"
            ) from None
        except OSError as exc:  # a read-only data home: the lock file cannot be made
            raise SkillError(
                f"cannot write the library in {self.home}: the lock {self.home / LOCK_NAME} "
                f"cannot be taken ({exc.strerror or exc}); nothing was written"
            ) from None
        try:
            yield
        finally:
            self._lock.release()

    def add(
        self,
        name: str,
        code: str,
        description: str | None = None,
        *,
        examples: Sequence[str] | None = None,
        author: str = "human",
        verified: bool = True,
        stage: str | None = None,
        parent: tuple[str, int] | None = None,
        stats: dict[str, tuple[int, int]] | None = None,
    ) -> SkillVersion:
        """Add a skill, or a new version of an existing one.

        Args:
            name: the skill name, also its entry function `def name(robot, ...)`.
            code: the Python source.
            description: what the skill does; default the entry docstring's first paragraph.
            examples: example instructions; default the `Examples:` lines of the docstring.
            author: "seed", "synthesizer", "human" or "llm:<model>".
            verified: False keeps the skill out of automatic reuse until verified.
            stage: funnel stage reached; default "success" if verified else "unverified".
            parent: (name, version) this version was adapted from.
            stats: episodes and successes per task family, e.g. {"stack": (5, 5)}.

        Returns:
            The stored version.

        Raises:
            SkillError: bad name, code, author, stage or parent.
        """
        v = self._prepare(name, code, description, examples, author, verified, stage, parent, stats)
        vectors = self.embedder.embed(skill_texts(v.name, v.description, v.examples))
        with self._writing():
            before = self.store.version(name)
            with self.store.transaction() as tx:
                v = _replace_version(v, self.store.next_version(name))
                self.store.insert_version(tx, v)
            self._after_commit(
                f"{v.name} v{v.version} is stored", self._index, [v], [vectors], [before]
            )
        return v

    def _prepare(
        self, name, code, description, examples, author, verified, stage, parent, stats
    ) -> SkillVersion:
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
            if self.store.version(*parent) is None:
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

    def _index(
        self, versions: list[SkillVersion], vectors: list, before: list[SkillVersion | None]
    ) -> None:
        """Write the index entries of `versions` (after their SQLite commit)."""
        entries, drop = [], []
        for v, vecs, old in zip(versions, vectors, before, strict=True):
            texts = skill_texts(v.name, v.description, v.examples)
            h = _index_hash(v, texts)
            entries += [
                IndexEntry(entry_id(v.name, i), v.name, v.version, h, vecs[i])
                for i in range(len(texts))
            ]
            if old is not None:
                drop += [entry_id(v.name, i) for i in range(len(texts), 1 + len(old.examples))]
        if drop:
            self.index.delete(drop)
        if entries:
            self.index.upsert(entries)

    def remove(self, name: str) -> int:
        """Delete a skill and all its versions; returns how many versions were deleted."""
        with self._writing():
            old = self.store.version(name)
            if old is None:
                raise SkillError(f"no skill named {name!r}")
            n = len(self.store.versions(name))
            with self.store.transaction() as tx:
                tx.execute("DELETE FROM skills WHERE name = ?", (name,))
            ids = [entry_id(name, i) for i in range(1 + len(old.examples))]
            self._after_commit(f"{name} is removed", self.index.delete, ids)
        return n

    def record_use(self, name: str) -> None:
        """Count one reuse of a skill."""
        with self._writing(), self.store.transaction(bump=False) as tx:
            cur = tx.execute(
                "UPDATE skills SET uses = uses + 1, last_used = ? WHERE name = ?",
                (time.time(), name),
            )
            if cur.rowcount == 0:
                raise SkillError(f"no skill named {name!r}")

    def record_stats(
        self,
        name: str,
        version: int,
        family: str,
        episodes: int,
        successes: int,
        *,
        stage: str | None = None,
        verified: bool | None = None,
    ) -> SkillVersion:
        """Add verification episodes of one version on one family (accumulates).

        Args:
            stage: set the funnel stage reached ("syntax", "runtime", "success").
            verified: set or clear the verified flag.
        """
        if stage is not None and stage not in STAGES:
            raise SkillError(f"bad stage {stage!r}: one of {', '.join(STAGES)}")
        with self._writing():
            v = self.get(name, version)
            e0, s0 = v.stats.get(family, (0, 0))
            with self.store.transaction(bump=verified is not None) as tx:
                self.store.put_stats(
                    tx, name, version, family, e0 + int(episodes), s0 + int(successes)
                )
                if stage is not None:
                    tx.execute(
                        "UPDATE skill_versions SET stage = ? WHERE name = ? AND version = ?",
                        (stage, name, version),
                    )
                if verified is not None:
                    tx.execute(
                        "UPDATE skill_versions SET verified = ? WHERE name = ? AND version = ?",
                        (int(verified), name, version),
                    )
        return self.get(name, version)

    def set_verified(
        self, name: str, version: int | None = None, verified: bool = True
    ) -> SkillVersion:
        """Mark a version (default the latest) verified or not."""
        v = self.get(name, version)
        with self._writing(), self.store.transaction() as tx:
            tx.execute(
                "UPDATE skill_versions SET verified = ? WHERE name = ? AND version = ?",
                (int(verified), v.name, v.version),
            )
        return self.get(name, v.version)

    def add_many(
        self,
        versions: Iterable[SkillVersion],
        *,
        keep_numbers: bool = False,
        uses: dict[str, int] | None = None,
    ) -> list[SkillVersion]:
        """Add many prepared versions in one transaction (imports, benchmarks).

        Args:
            versions: versions as `SkillVersion`s (numbers are reassigned unless
                `keep_numbers`, in which case they must be new).
            uses: usage counts to give skills this call creates.
        """
        versions = list(versions)
        vectors = self.embedder.embed(
            [t for v in versions for t in skill_texts(v.name, v.description, v.examples)]
        )
        chunks, at = [], 0
        for v in versions:
            n = 1 + len(v.examples)
            chunks.append(vectors[at : at + n])
            at += n
        with self._writing():
            latest: dict[str, SkillVersion | None] = {}
            out = []
            with self.store.transaction() as tx:
                for v in versions:
                    if v.name not in latest:
                        latest[v.name] = self.store.version(v.name)
                    if not keep_numbers:
                        v = _replace_version(v, self.store.next_version(v.name))
                    elif self.store.version(v.name, v.version) is not None:
                        raise SkillError(f"{v.name} v{v.version} already exists")
                    self.store.insert_version(tx, v, uses=(uses or {}).get(v.name, 0))
                    out.append(v)
            # only each skill's last version is indexed
            keep = sorted({v.name: i for i, v in enumerate(out)}.values())
            self._after_commit(
                f"{len(out)} versions are stored",
                self._index,
                [out[i] for i in keep],
                [chunks[i] for i in keep],
                [latest[out[i].name] for i in keep],
            )
        return out

    def _after_commit(self, written: str, update, *args) -> None:
        """Bring the index along after an SQLite commit; if it cannot be, the write stands.

        The index is derived: a failure here marks it stale in SQLite (so the next
        `ensure_index` rebuilds it, whatever the counts say) and adds a warning that says
        what was written, instead of reporting a write that happened as failed.
        """
        try:
            update(*args)
            return
        except Exception as exc:  # noqa: BLE001 - chromadb raises many types; the write stands
            detail = (
                " ".join(str(exc).split()).removesuffix(_DOCTOR_HINT)[:160] or type(exc).__name__
            )
        # SQLite refusing too: the entry counts still tell the next search to check
        with contextlib.suppress(SkillError), self.store.transaction(bump=False) as tx:
            self.store.set_meta(tx, INDEX_STALE, detail)
        self._checked_generation = -1
        self.warnings.append(
            f"{written}, but the search index at {_where(self.index)} was not updated ({detail}): "
            "it is repaired before the next search, or by `skillgrove skills doctor`"
        )

    def prepare(self, name: str, code: str, description: str | None = None, **kw) -> SkillVersion:
        """Check and build a `SkillVersion` (not stored) for `add_many`; same arguments as `add`."""
        return self._prepare(
            name,
            code,
            description,
            kw.get("examples"),
            kw.get("author", "human"),
            kw.get("verified", True),
            kw.get("stage"),
            kw.get("parent"),
            kw.get("stats"),
        )

    def _install_seeds(self) -> None:
        from skills.seed import seed_sources

        with self._writing():
            if self.store.meta("seeded") is not None:
                return
            with self.store.transaction() as tx:
                for name, code in seed_sources():
                    if self.store.version(name) is None:
                        v = self._prepare(
                            name, code, None, None, "seed", True, "success", None, None
                        )
                        self.store.insert_version(tx, _replace_version(v, 1))
                self.store.set_meta(tx, "seeded", str(time.time()))
        # The seeds' index entries are built by the first `ensure_index` (the index is
        # derived), so opening a new home needs neither the model nor the index.

    def export(self, path: str | Path) -> dict:
        """Write every skill to one bundle file (see `skills.bundle`)."""
        from skills.bundle import export_bundle

        return export_bundle(self, path)

    def import_bundle(self, path: str | Path, *, unverified: bool = False) -> dict:
        """Import a bundle file, all or nothing (see `skills.bundle`)."""
        from skills.bundle import import_bundle

        return import_bundle(self, path, unverified=unverified)

    # -- reads ---------------------------------------------------------------------------
    def get(self, name: str, version: int | None = None) -> SkillVersion:
        """One version (default the latest) with its stats; SkillError if unknown."""
        v = self.store.version(name, version)
        if v is None:
            if version is not None and self.store.version(name) is not None:
                raise SkillError(f"skill {name!r} has no version {version}")
            raise SkillError(f"no skill named {name!r}")
        return v

    def info(self, name: str) -> SkillInfo:
        i = self.store.info(name)
        if i is None:
            raise SkillError(f"no skill named {name!r}")
        return i

    def list(self) -> list[SkillInfo]:
        """Every skill (latest version), by name."""
        return self.store.infos()

    def history(self, name: str) -> list[SkillVersion]:
        """Every version of a skill, oldest first."""
        vs = self.store.versions(name)
        if not vs:
            raise SkillError(f"no skill named {name!r}")
        return vs

    def search(self, query: str, k: int = 5) -> SearchResult:
        """Search by meaning with the default `Searcher` settings."""
        if self._searcher is None:
            from skills.search import Searcher

            self._searcher = Searcher(self)
        return self._searcher.search(query, k)

    # -- index consistency ---------------------------------------------------------------
    def expected_entries(self) -> dict[str, tuple[str, int, str]]:
        """The index entries SQLite implies: id -> (name, version, hash)."""
        out = {}
        for v in self.store.latest_versions():
            texts = skill_texts(v.name, v.description, v.examples)
            h = _index_hash(v, texts)
            for i in range(len(texts)):
                out[entry_id(v.name, i)] = (v.name, v.version, h)
        return out

    def ensure_index(self) -> None:
        """Cheap check before searching: repair when entry counts disagree (once per write)."""
        gen = self.store.generation()
        stale = self.store.meta(INDEX_STALE) is not None  # a write the index missed
        if gen == self._checked_generation and not stale:
            return
        try:
            agree = not stale and self.index.count() == self.store.entry_count()
        except SkillError:
            agree = False
        if not agree:
            self.doctor(salvage=False)  # a search does not rewrite a damaged database
        self._checked_generation = gen

    def doctor(self, repair: bool = True, *, salvage: bool = True) -> DoctorReport:
        """Compare SQLite with the index; rebuild missing and stale entries, drop orphans.

        A damaged or deleted index directory is reset and rebuilt from SQLite. A damaged
        database (SQLite's quick check fails) is salvaged first, with `repair` and
        `salvage`: every readable row goes into a fresh file, the damaged file is kept
        beside it (`skills.store.salvage`), and the index is rebuilt from what was kept.

        Raises:
            SkillError: one line: the database is damaged and not to be salvaged, or
                cannot be salvaged, or the index cannot be written (its path and why).
        """
        salvaged = self.salvaged
        bad = self.store.integrity()
        if bad:
            if not (repair and salvage):
                raise store_error(self.store.path, damaged(bad))
            salvaged = self._salvage()
        self.salvaged = None
        try:
            report = self._doctor_index(repair, salvaged)
        except SkillError:
            raise
        except Exception as exc:  # noqa: BLE001 - chromadb raises many types
            detail = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise SkillError(
                f"the search index at {_where(self.index)} cannot be repaired ({detail}): "
                "make it writable (or delete the index directory), then run `skillgrove skills doctor`"
            ) from None
        if report.repaired or salvaged or not (report.missing or report.stale or report.orphaned):
            self._clear_stale_mark()
        return report

    def _salvage(self) -> dict:
        """Salvage the damaged database in place (under the write lock) and reopen it."""
        with self._writing():
            self.store.close()
            try:
                return salvage(self.store.path)
            finally:
                self.store = SkillStore(self.store.path)

    def _clear_stale_mark(self) -> None:
        if self.store.meta(INDEX_STALE) is None:
            return
        # a read-only database keeps the mark: the next search checks the index again
        with (
            contextlib.suppress(SkillError),
            self._writing(),
            self.store.transaction(bump=False) as tx,
        ):
            tx.execute("DELETE FROM library_meta WHERE key = ?", (INDEX_STALE,))

    def _doctor_index(self, repair: bool, salvaged: dict | None) -> DoctorReport:
        with self._writing():
            reset = False
            try:
                have = self.index.entries()
            except Exception:  # a damaged index: any error chromadb raises
                if not repair:
                    return DoctorReport(len(self.store.names()), 0, 0, 0, 0, True, False, salvaged)
                self.index.reset()
                have, reset = {}, True
            want = self.expected_entries()
            missing = [i for i in want if i not in have]
            stale = [i for i in want if i in have and have[i] != want[i]]
            orphaned = [i for i in have if i not in want]
            if repair and (missing or stale or orphaned):
                if orphaned:
                    self.index.delete(orphaned)
                names = sorted({want[i][0] for i in missing + stale})
                versions = self.store.latest_versions(names) if names else []
                texts = [skill_texts(v.name, v.description, v.examples) for v in versions]
                flat = self.embedder.embed([t for ts in texts for t in ts]) if versions else []
                vectors, at = [], 0
                for ts in texts:
                    vectors.append(flat[at : at + len(ts)])
                    at += len(ts)
                self._index(versions, vectors, [None] * len(versions))
            report = DoctorReport(
                len(self.store.names()),
                len(want),
                len(missing),
                len(stale),
                len(orphaned),
                reset,
                repair and bool(missing or stale or orphaned or reset),
                salvaged,
            )
        self._checked_generation = -1
        return report


def _replace_version(v: SkillVersion, number: int) -> SkillVersion:
    from dataclasses import replace

    return replace(v, version=number)


def _where(index: VectorIndex) -> str:
    """Where an index lives, for messages: its directory or server, else its kind."""
    return str(getattr(index, "path", None) or getattr(index, "url", None) or type(index).__name__)


def _index_hash(v: SkillVersion, texts: list[str]) -> str:
    return content_hash(TEXT_FORM, v.name, str(v.version), *texts)


def open_library(
    home: str | Path,
    library_url: str | None = None,
    *,
    embedder: Embedder | None = None,
    install_seeds: bool = True,
    salvage: bool = False,
) -> SkillLibrary:
    """The library of a data home: the packaged MiniLM, a local index file or a Chroma server.

    Args:
        home: the data home.
        library_url: a Chroma server URL; default a persistent directory `<home>/index`.
            The collection is named after the embedder and the library's id, so several
            libraries can share one server.
        embedder: override the embedder (default `default_embedder()`: onnxruntime when
            the converted model is installed, else torch).
        salvage: salvage a damaged database before opening it (what `skills doctor`
            does: a database too damaged to open cannot wait for `doctor()`); the report
            is `library.salvaged`, and the next `doctor()` returns it.
    """
    from skills.embed import default_embedder
    from skills.local_index import LocalIndex

    embedder = embedder or default_embedder()
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    salvaged = _salvage_file(home) if salvage else None
    # One collection per library and embedder: homes sharing a Chroma server never see
    # (or, in doctor, delete) each other's entries.
    store = SkillStore(home / DB_NAME)
    try:
        collection = f"skills-{embedder.name}-{store.library_id()}"
    finally:
        store.close()
    if library_url:
        index = ChromaIndex(collection, url=library_url)
    else:
        index = LocalIndex(collection, path=home / INDEX_DIR)  # Chroma's import alone is 0.75 s
    library = SkillLibrary(home, embedder, index, install_seeds=install_seeds)
    library.salvaged = salvaged
    return library


def _salvage_file(home: Path) -> dict | None:
    """Salvage `<home>/skillgrove.db` under the write lock when its quick check fails."""
    if check_file(home / DB_NAME) is None:
        return None
    try:
        with FileLock(str(home / LOCK_NAME), timeout=60.0):
            return salvage(home / DB_NAME)
    except Timeout:
        raise SkillError(
            f"another process is writing the library in {home} (lock {LOCK_NAME})"
        ) from None
