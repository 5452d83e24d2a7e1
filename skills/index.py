"""The vector index of the library: derived from the store, rebuildable at any time.

Each skill has a few entries (its description text and each example instruction), all
carrying the skill's name, version and a hash of the texts embedded, so `doctor` can
tell missing, stale and orphaned entries apart. Two implementations share one small
interface, `VectorIndex`:

- `ChromaIndex`: Chroma, cosine space, an HttpClient for a shared server (the shared
  library's index: Chroma's local PersistentClient is not safe for several writer
  processes, so a data home's own index is `skills.local_index.LocalIndex`, written
  under the library's lock), or a PersistentClient directory (tests, benchmarks). Embeddings are always passed in: the collection is
  created with `embedding_function=None`, so Chroma never builds its default (downloading)
  embedding function.
- `MemoryIndex`: exact cosine search with numpy, in memory (tests, benchmarks).
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np

from skills.errors import SkillError
from skills.naming import COLOR_WORDS, SHAPE_PHRASES

INDEX_DIR = "index"
# Cosine space; more links per node and a wider search than Chroma's defaults (16, 100):
# with 30k entries the defaults missed every true neighbour of some queries, these
# found 99.5% of the exact top-10 at +0.4 ms per query (benchmarks/RESULTS.md).
HNSW = {"hnsw:space": "cosine", "hnsw:M": 32, "hnsw:search_ef": 200}
_BATCH = 4000  # below Chroma's max batch size (5461 on SQLite builds)


@dataclass(frozen=True)
class IndexEntry:
    """One vector of the index: `id` is `"<name>::<i>"`."""

    id: str
    name: str
    version: int
    hash: str
    vector: np.ndarray


@dataclass(frozen=True)
class Hit:
    """A query hit: the entry's skill and its cosine similarity to the query."""

    id: str
    name: str
    version: int
    similarity: float


TEXT_FORM = "t3"  # bump when `embed_text` changes: every index entry then reads as stale
_COLORS = re.compile(r"\b(" + "|".join(COLOR_WORDS) + r")\b", re.IGNORECASE)
# Object words people use for the scene's shapes, mapped to one name each ("basin" ->
# "bowl", "block" -> "cube"). Words that are often something else in an instruction
# ("can you", "the area", "a cup of") are left alone.
_AMBIGUOUS = {
    "can",
    "spot",
    "box",
    "area",
    "region",
    "disk",
    "disc",
    "frame",
    "cup",
    "brick",
    "tube",
}
_SHAPES = {phrase: shape for phrase, shape in SHAPE_PHRASES if phrase not in _AMBIGUOUS}
_SHAPE_RE = re.compile(r"\b(" + "|".join(re.escape(p) for p in _SHAPES) + r")s?\b", re.IGNORECASE)
_GENERIC = re.compile(r"\b(?:item|thing)(s?)\b", re.IGNORECASE)
# What a step moves (its words pick an object, not a skill) and what it moves things to.
MOVABLE = frozenset({"cube", "small cube", "cylinder"})
PLACES = frozenset({"bowl", "tray", "plate", "pad", "zone", "outline"})


def _canonical(text: str, neutral: frozenset[str]) -> str:
    text = _COLORS.sub(" ", text)
    text = _SHAPE_RE.sub(
        lambda m: (
            "object" if _SHAPES[m.group(1).lower()] in neutral else _SHAPES[m.group(1).lower()]
        ),
        text,
    )
    return " ".join(_GENERIC.sub(r"object\1", text).split())


def embed_text(text: str) -> str:
    """The form of a text that is embedded: colours dropped, every object word "object".

    A user's request names objects ("the red cube to the right of the blue bowl") while
    a skill's description names roles ("an object", "a reference object"); MiniLM's
    similarity follows the nouns, so "bowl" pulled that request to a bowl skill. With the
    object words made neutral on both sides, dev top-1 on the description-only paraphrase
    set went from 0.47 to 0.86 (dense + lexical; `skillgrove bench retrieval`).
    """
    return _canonical(text, MOVABLE | PLACES)


def lexical_text(text: str) -> str:
    """The form of a text that is matched word for word: colours dropped, shape synonyms
    made canonical, movable objects "object"; places (bowl, plate, tray...) are kept, as
    they tell "put in" from "place on"."""
    return _canonical(text, MOVABLE)


def skill_raw_texts(name: str, description: str, examples: Sequence[str]) -> list[str]:
    """A skill's texts as written: "<name words>: <description>", then each example."""
    return [f"{name.replace('_', ' ')}: {description}", *examples]


def skill_texts(name: str, description: str, examples: Sequence[str]) -> list[str]:
    """The texts embedded for one skill (`embed_text` of `skill_raw_texts`)."""
    return [embed_text(t) for t in skill_raw_texts(name, description, examples)]


def entry_id(name: str, i: int) -> str:
    return f"{name}::{i}"


class VectorIndex(Protocol):
    """What the library needs from a vector index."""

    def upsert(self, entries: Sequence[IndexEntry]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, n: int) -> list[Hit]: ...

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of the entries `ids` that exist, grouped by skill name (rows of an array)."""
        ...

    def entries(self) -> dict[str, tuple[str, int, str]]:
        """Every entry: id -> (name, version, hash)."""
        ...

    def count(self) -> int: ...

    def reset(self) -> None:
        """Drop every entry (and any unreadable state) so the index can be rebuilt."""
        ...

    def built_at(self) -> int | None:
        """The store generation the index was last checked or kept in step with (None:
        never marked, an index from before the marks)."""
        ...

    def mark_built(self, generation: int) -> None: ...

    def close(self) -> None: ...


class MemoryIndex:
    """Exact cosine search over vectors held in memory."""

    def __init__(self) -> None:
        self._built: int | None = None
        self._readings: dict[str, str | None] = {}
        self._meta: dict[str, tuple[str, int, str]] = {}
        self._vec: dict[str, np.ndarray] = {}
        self._matrix: tuple[list[str], np.ndarray] | None = None

    def upsert(self, entries: Sequence[IndexEntry]) -> None:
        for e in entries:
            self._meta[e.id] = (e.name, e.version, e.hash)
            self._vec[e.id] = np.asarray(e.vector, dtype=np.float32)
        self._matrix = None

    def delete(self, ids: Sequence[str]) -> None:
        for i in ids:
            self._meta.pop(i, None)
            self._vec.pop(i, None)
        self._matrix = None

    def query(self, vector: np.ndarray, n: int) -> list[Hit]:
        if not self._vec:
            return []
        if self._matrix is None:
            ids = list(self._vec)
            self._matrix = (ids, np.stack([self._vec[i] for i in ids]))
        ids, m = self._matrix
        sims = m @ np.asarray(vector, dtype=np.float32)
        top = np.argsort(-sims)[:n]
        return [Hit(ids[j], *self._meta[ids[j]][:2], float(sims[j])) for j in top]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, list[np.ndarray]] = {}
        for i in ids:
            if i in self._meta:
                out.setdefault(self._meta[i][0], []).append(self._vec[i])
        return {n: np.stack(v) for n, v in out.items()}

    def goal_readings(self, keys: set[str]) -> dict[str, str | None]:
        """Cached goal readings of descriptions (`skills.goal_channel`) among `keys`."""
        return {k: t for k, t in self._readings.items() if k in keys}

    def put_goal_readings(self, readings: dict[str, str | None]) -> None:
        self._readings.update(readings)

    def entries(self) -> dict[str, tuple[str, int, str]]:
        return dict(self._meta)

    def count(self) -> int:
        return len(self._meta)

    def built_at(self) -> int | None:
        return self._built

    def mark_built(self, generation: int) -> None:
        self._built = int(generation)

    def reset(self) -> None:
        self.__init__()

    def close(self) -> None:
        pass


class ChromaIndex:
    """A Chroma collection in cosine space.

    Args:
        collection: collection name (one per embedder, e.g. "skills-minilm-l6-v2").
        path: directory of a local PersistentClient, or
        url: a Chroma server ("http://host:8000"), for an HttpClient.
    """

    def __init__(self, collection: str, path: Path | None = None, url: str | None = None) -> None:
        if (path is None) == (url is None):
            raise SkillError("ChromaIndex needs exactly one of a directory or a server URL")
        self.name = collection
        self.path = Path(path) if path is not None else None
        self.url = url
        self._client: Any = None
        self._col: Any = None

    def __repr__(self) -> str:
        return f"ChromaIndex({self.name!r}, {str(self.path) if self.path else self.url!r})"

    # -- connection ----------------------------------------------------------------------
    def _collection(self) -> Any:
        if self._col is not None and self.path is not None and not self.path.exists():
            self._drop_client()  # the directory was deleted under us: start afresh
        if self._col is None:
            if self.path is not None and not self.path.exists():
                _forget_chroma_system(self.path)  # a cached system would point at the deleted files
            self._client = self._make_client()
            self._col = self._client.get_or_create_collection(
                self.name, embedding_function=None, metadata=HNSW
            )
        return self._col

    def _make_client(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=self.path is not None)
        if self.path is not None:
            try:
                return chromadb.PersistentClient(path=str(self.path), settings=settings)
            except Exception as exc:  # chromadb raises many types for a damaged directory
                raise SkillError(
                    f"the index at {self.path} cannot be opened ({exc}); run `skillgrove skills doctor`"
                ) from None
        u = urlparse(self.url if "://" in self.url else f"http://{self.url}")
        if not u.hostname:
            raise SkillError(f"bad library URL {self.url!r}: expected http://host:port")
        try:
            return chromadb.HttpClient(
                host=u.hostname, port=u.port or 8000, ssl=u.scheme == "https", settings=settings
            )
        except Exception as exc:
            raise SkillError(f"cannot reach the Chroma server at {self.url}: {exc}") from None

    def _drop_client(self) -> None:
        client, self._client, self._col = self._client, None, None
        if client is not None:
            with contextlib.suppress(
                Exception
            ):  # closing a broken client must not hide the real work
                client.close()

    def close(self) -> None:
        self._drop_client()

    # -- interface -----------------------------------------------------------------------
    def upsert(self, entries: Sequence[IndexEntry]) -> None:
        col = self._collection()
        for s in range(0, len(entries), _BATCH):
            part = entries[s : s + _BATCH]
            col.upsert(
                ids=[e.id for e in part],
                embeddings=np.stack([np.asarray(e.vector, dtype=np.float32) for e in part]),
                metadatas=[{"name": e.name, "version": e.version, "hash": e.hash} for e in part],
            )

    def delete(self, ids: Sequence[str]) -> None:
        col = self._collection()
        for s in range(0, len(ids), _BATCH):
            col.delete(ids=list(ids[s : s + _BATCH]))

    def query(self, vector: np.ndarray, n: int) -> list[Hit]:
        col = self._collection()
        res = col.query(
            query_embeddings=np.asarray(vector, dtype=np.float32)[None, :],
            n_results=max(1, n),
            include=["metadatas", "distances"],
        )
        out = []
        for i, m, d in zip(res["ids"][0], res["metadatas"][0], res["distances"][0], strict=True):
            out.append(Hit(i, str(m["name"]), int(m["version"]), 1.0 - float(d)))
        return out

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        # by id, not by a metadata filter: 2.5 ms instead of 12 ms with 30k entries
        got = self._collection().get(ids=list(ids), include=["embeddings", "metadatas"])
        out: dict[str, list[np.ndarray]] = {}
        for m, e in zip(got["metadatas"], got["embeddings"], strict=True):
            out.setdefault(str(m["name"]), []).append(np.asarray(e, dtype=np.float32))
        return {n: np.stack(v) for n, v in out.items()}

    def entries(self) -> dict[str, tuple[str, int, str]]:
        col = self._collection()
        out: dict[str, tuple[str, int, str]] = {}
        total, offset = col.count(), 0
        while offset < total:
            got = col.get(include=["metadatas"], limit=_BATCH, offset=offset)
            for i, m in zip(got["ids"], got["metadatas"], strict=True):
                out[i] = (str(m.get("name")), int(m.get("version", -1)), str(m.get("hash")))
            if not got["ids"]:
                break
            offset += len(got["ids"])
        return out

    def count(self) -> int:
        return int(self._collection().count())

    def _state(self) -> Any:
        """A one-entry side collection holding the store generation the index was built at
        (a collection's own metadata holds its HNSW settings)."""
        self._collection()
        return self._client.get_or_create_collection(f"{self.name}-state", embedding_function=None)

    def built_at(self) -> int | None:
        got = self._state().get(ids=["generation"], include=["metadatas"])
        metas = got.get("metadatas") or []
        return int(metas[0]["generation"]) if metas and metas[0] else None

    def mark_built(self, generation: int) -> None:
        self._state().upsert(
            ids=["generation"], embeddings=[[1.0]], metadatas=[{"generation": int(generation)}]
        )

    def reset(self) -> None:
        """Delete the collection; if the directory is damaged, delete the directory."""
        try:
            col = self._collection()
            self._client.delete_collection(col.name)
            with contextlib.suppress(Exception):  # the generation it was built at goes too
                self._client.delete_collection(f"{col.name}-state")
            self._col = None
            self._collection()
            return
        except Exception:
            if self.path is None:
                raise
        self._drop_client()
        _forget_chroma_system(self.path)
        shutil.rmtree(self.path, ignore_errors=True)
        self._collection()


def _forget_chroma_system(path: Path) -> None:
    """Make chromadb forget its cached in-process system for `path` (it caches by path)."""
    with contextlib.suppress(Exception):  # best effort: chromadb internals may change
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
        if system is not None:
            system.stop()
