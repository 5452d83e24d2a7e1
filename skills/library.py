"""The skill library: the store (SQLite, or Postgres) + a derived vector index, one writer
at a time.

`SkillLibrary(home, embedder=..., index=..., store_url=None)` takes its embedder and index
as arguments; `open_library(home, library_url=None, store_url=None)` builds the real ones
(packaged MiniLM; the home's own index file, or a Chroma server).

Writes hold the library's write lock (a file lock `<home>/library.lock`; on a Postgres
store an advisory lock of the database, so writers on every machine serialise) and go to
the store first (one transaction), then the index. A process killed between the two
leaves the index behind the store, never the other way round; `doctor()` (run
automatically before a search when the index was built at another generation of the
store, `skills.upkeep`) finds missing, stale and orphaned entries and rebuilds them.

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

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from skills.embed import Embedder
from skills.engine import AdvisoryLock
from skills.errors import SkillError
from skills.index import INDEX_DIR, ChromaIndex, VectorIndex, entry_id, skill_texts
from skills.prepare import prepare_version, replace_version, validate_code
from skills.salvage import check_file, salvage
from skills.store import DB_NAME, STAGES, SkillInfo, SkillStore, SkillVersion
from skills.upkeep import INDEX_STALE, DoctorReport, IndexUpkeep

if TYPE_CHECKING:
    from skills.search import SearchResult

__all__ = [
    "INDEX_STALE",
    "LOCK_NAME",
    "DoctorReport",
    "SkillLibrary",
    "open_library",
    "validate_code",
]

LOCK_NAME = "library.lock"


class SkillLibrary(IndexUpkeep):
    """Skills, their versions, stats and lineage, searchable by meaning.

    Args:
        home: the data home (the database is `<home>/skillgrove.db`).
        embedder: turns skill texts and queries into vectors.
        index: the vector index (derived from the database).
        install_seeds: install the seed skills into a new library.
        lock_timeout: seconds to wait for another writer.
        store_url: a Postgres store (`postgresql+psycopg://...`) instead of the home's
            SQLite file; run records, corrections and policies stay in the home.
    """

    def __init__(
        self,
        home: str | Path,
        embedder: Embedder,
        index: VectorIndex,
        *,
        install_seeds: bool = True,
        lock_timeout: float = 60.0,
        store_url: str | None = None,
    ) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self.index = index
        self.store = SkillStore(self.home / DB_NAME, url=store_url)
        if self.store.server:
            self._lock = AdvisoryLock(self.store.engine, self.store.url, lock_timeout)
        else:
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
        """Hold the single-writer lock (re-entrant within a process)."""
        try:
            self._lock.acquire()
        except (Timeout, TimeoutError):
            where = self.store.where if self.store.server else f"{self.home} (lock {LOCK_NAME})"
            raise SkillError(f"another process is writing the library in {where}") from None
        except OSError as exc:  # a read-only data home: the lock file cannot be made
            raise SkillError(
                f"cannot write the library in {self.home}: the lock {self.home / LOCK_NAME} "
                f"cannot be taken ({exc.strerror or exc}); nothing was written: make the data home "
                "writable to change the library"
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
        v = prepare_version(
            self.store, name, code, description, examples, author, verified, stage, parent, stats
        )
        vectors = self.embedder.embed(skill_texts(v.name, v.description, v.examples))
        with self._writing():
            before = self.store.version(name)
            with self.store.transaction() as tx:
                v = replace_version(v, self.store.next_version(name, tx))
                self.store.insert_version(tx, v)
            self._after_commit(
                f"{v.name} v{v.version} is stored", self._index, [v], [vectors], [before]
            )
        return v

    def remove(self, name: str) -> int:
        """Delete a skill and all its versions; returns how many versions were deleted."""
        with self._writing():
            old = self.store.version(name)
            if old is None:
                raise SkillError(f"no skill named {name!r}")
            n = len(self.store.versions(name))
            with self.store.transaction() as tx:
                self.store.delete_skill(tx, name)
            ids = [entry_id(name, i) for i in range(1 + len(old.examples))]
            self._after_commit(f"{name} is removed", self.index.delete, ids)
        return n

    def record_use(self, name: str) -> None:
        """Count one reuse of a skill."""
        with self._writing(), self.store.transaction(bump=False) as tx:
            if self.store.count_use(tx, name) == 0:
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
                    self.store.set_version(tx, name, version, stage=stage)
                if verified is not None:
                    self.store.set_version(tx, name, version, verified=int(verified))
            if verified is not None:
                self._mark_index()
        return self.get(name, version)

    def set_verified(
        self, name: str, version: int | None = None, verified: bool = True
    ) -> SkillVersion:
        """Mark a version (default the latest) verified or not."""
        v = self.get(name, version)
        with self._writing():
            with self.store.transaction() as tx:
                self.store.set_version(tx, v.name, v.version, verified=int(verified))
            self._mark_index()
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
                        v = replace_version(v, self.store.next_version(v.name, tx))
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

    def prepare(self, name: str, code: str, description: str | None = None, **kw) -> SkillVersion:
        """Check and build a `SkillVersion` (not stored) for `add_many`; same arguments as `add`."""
        return prepare_version(
            self.store,
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
                        v = prepare_version(
                            self.store, name, code, None, None, "seed", True, "success", None, None
                        )
                        self.store.insert_version(tx, replace_version(v, 1))
                self.store.set_meta(tx, "seeded", str(time.time()))
        # The seeds' index entries are built by the first `ensure_index` (the index is
        # derived), so opening a new home needs neither the model nor the index.

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


def open_library(
    home: str | Path,
    library_url: str | None = None,
    *,
    store_url: str | None = None,
    embedder: Embedder | None = None,
    install_seeds: bool = True,
    salvage: bool = False,
) -> SkillLibrary:
    """The library of a data home: the packaged MiniLM, a local index file or a Chroma server.

    Args:
        home: the data home.
        library_url: a Chroma server URL; default an index file in `<home>/index`.
            The collection is named after the embedder and the store's library id, so
            several libraries can share one server, and machines sharing a store share
            its collection.
        store_url: a Postgres store URL; default the home's SQLite file. With a store
            URL and no Chroma server, each machine's index file is derived from the
            shared store (rebuilt when another machine wrote).
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
    salvaged = _salvage_file(home) if salvage and not store_url else None
    library = SkillLibrary(
        home, embedder, _NoIndex(), install_seeds=False, store_url=store_url or None
    )
    try:
        # One collection per library and embedder: libraries sharing a Chroma server
        # never see (or, in doctor, delete) each other's entries.
        collection = f"skills-{embedder.name}-{library.store.library_id()}"
        if library_url:
            library.index = ChromaIndex(collection, url=library_url)
        else:  # Chroma's import alone is 0.75 s
            library.index = LocalIndex(collection, path=home / INDEX_DIR)
        if install_seeds and library.store.meta("seeded") is None:
            library._install_seeds()
    except BaseException:
        library.close()
        raise
    library.salvaged = salvaged
    return library


class _NoIndex:
    """The index of a library being opened, until its collection is known."""

    def close(self) -> None:
        pass


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
