"""Keeping the derived search index in step with the store, and repairing both.

`IndexUpkeep` is the part of `SkillLibrary` that writes index entries after a store
commit (a failure there marks the index stale instead of failing the write), checks the
index before a search (`ensure_index`) and repairs it (`doctor`), salvaging a damaged
SQLite database first (`skills.salvage`).

The index keeps the store generation it was built at (`built_at`): a write that found the
index in step with the store moves it along with the store's new generation; any other
difference (a write the index missed, a write by another process or another machine on a
shared store, whatever it changed) makes `ensure_index` run `doctor`, which compares every
entry with the store, repairs the differences and marks the index at the generation it
checked. An index written before these marks is checked by its entry count once.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass

from skills.db import damaged, store_error
from skills.errors import SkillError
from skills.index import TEXT_FORM, IndexEntry, VectorIndex, entry_id, skill_texts
from skills.model import SkillVersion, content_hash
from skills.salvage import salvage
from skills.store import SkillStore

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


class IndexUpkeep:
    """The index half of `SkillLibrary` (a mixin: it uses the library's `store`,
    `index`, `embedder`, `_writing`, `warnings`, `salvaged` and `_checked_generation`)."""

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

    def _after_commit(self, written: str, update, *args) -> None:
        """Bring the index along after a store commit; if it cannot be, the write stands.

        The index is derived: a failure here marks it stale in SQLite (so the next
        `ensure_index` rebuilds it, whatever the counts say) and adds a warning that says
        what was written, instead of reporting a write that happened as failed.
        """
        try:
            update(*args)
            self._mark_index()
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

    def _mark_index(self) -> None:
        """After this process's committed write: the index follows the store's generation
        when it was in step before the write (else it stays behind, for `ensure_index`)."""
        gen = self.store.last_generation
        if gen is None:
            return
        with contextlib.suppress(Exception):  # a mark left behind only costs a check
            if self.index.built_at() == gen - 1:
                self.index.mark_built(gen)

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
        """Cheap check before searching: repair when the index was built at another
        generation of the store (once per generation)."""
        gen = self.store.generation()
        stale = self.store.meta(INDEX_STALE) is not None  # a write the index missed
        if gen == self._checked_generation and not stale:
            return
        try:
            built = None if stale else self.index.built_at()
            if stale:
                agree = False
            elif built is None:  # an index from before the marks: its entry count
                agree = self.index.count() == self.store.entry_count()
            else:
                agree = built == gen
        except Exception:  # noqa: BLE001 - an unreadable index or server: doctor says why
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
                self.store = SkillStore(self.store.path, url=self.store.url)

    def _clear_stale_mark(self) -> None:
        if self.store.meta(INDEX_STALE) is None:
            return
        # a read-only database keeps the mark: the next search checks the index again
        with (
            contextlib.suppress(SkillError),
            self._writing(),
            self.store.transaction(bump=False) as tx,
        ):
            self.store.del_meta(tx, INDEX_STALE)

    def _doctor_index(self, repair: bool, salvaged: dict | None) -> DoctorReport:
        with self._writing():
            gen = self.store.generation()
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
            if repair or not (missing or stale or orphaned):
                with contextlib.suppress(Exception):  # a read-only index is checked again
                    self.index.mark_built(gen)
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


def _where(index: VectorIndex) -> str:
    """Where an index lives, for messages: its directory or server, else its kind."""
    return str(getattr(index, "path", None) or getattr(index, "url", None) or type(index).__name__)


def _index_hash(v: SkillVersion, texts: list[str]) -> str:
    return content_hash(TEXT_FORM, v.name, str(v.version), *texts)
