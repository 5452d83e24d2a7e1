"""The library's backends, one parametrised fixture: `backend` opens libraries on the data
home's SQLite file with its own index file ("sqlite"), or on a real Postgres database with
a real `chroma run` server for the index ("postgres", servers from tests/servers.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from skills.embed import HashEmbedder
from skills.library import SkillLibrary, open_library

BACKENDS = ("sqlite", "postgres")


@dataclass(frozen=True)
class Backend:
    """Where the libraries of one test live: `store_url` and `chroma_url` (None: the home)."""

    name: str
    store_url: str | None = None
    chroma_url: str | None = None

    def open(self, home: Path, **kw) -> SkillLibrary:
        """The library of `home` on this backend (a fast hashing embedder by default)."""
        kw.setdefault("embedder", HashEmbedder())
        return open_library(home, self.chroma_url, store_url=self.store_url, **kw)

    @property
    def options(self) -> list[str]:
        """The same, as options of `skillgrove skills`."""
        out = ["--store-url", self.store_url] if self.store_url else []
        return out + (["--library-url", self.chroma_url] if self.chroma_url else [])


@pytest.fixture(params=BACKENDS)
def backend(request) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite")
    return Backend(
        "postgres",
        request.getfixturevalue("pg_database"),
        request.getfixturevalue("chroma_fresh"),
    )
