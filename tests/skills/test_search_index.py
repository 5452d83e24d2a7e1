"""The data home's vector index (`LocalIndex`): exact search, other writers, damage."""

from __future__ import annotations

import numpy as np
import pytest

from skills.embed import HashEmbedder
from skills.index import IndexEntry
from skills.library import SkillLibrary
from skills.local_index import LocalIndex


def _entry(name: str, i: int, vec) -> IndexEntry:
    v = np.asarray(vec, dtype=np.float32)
    return IndexEntry(f"{name}::{i}", name, 1, "h", v / np.linalg.norm(v))


def test_exact_cosine_search_and_crud(tmp_path):
    idx = LocalIndex("c", tmp_path / "index")
    assert (
        not (tmp_path / "index").exists() and idx.query(np.ones(3), 5) == []
    )  # created on first use
    idx.upsert(
        [_entry("a", 0, [1, 0, 0]), _entry("b", 0, [0, 1, 0]), _entry("b", 1, [0.6, 0.8, 0])]
    )
    hits = idx.query(np.array([1, 0, 0], dtype=np.float32), 2)
    assert [(h.id, round(h.similarity, 3)) for h in hits] == [("a::0", 1.0), ("b::1", 0.6)]
    assert idx.count() == 3 and idx.entries()["b::1"] == ("b", 1, "h")
    assert sorted(idx.vectors(["b::0", "b::1", "zz::0"])) == ["b"]
    assert idx.vectors(["b::0", "b::1"])["b"].shape == (2, 3)
    idx.delete(["b::1"])
    assert [h.id for h in idx.query(np.array([1, 0, 0], dtype=np.float32), 5)] == ["a::0", "b::0"]
    idx.close()


def test_another_process_write_is_seen(tmp_path):
    reader, writer = LocalIndex("c", tmp_path), LocalIndex("c", tmp_path)
    writer.upsert([_entry("a", 0, [1, 0])])
    assert [h.name for h in reader.query(np.array([0, 1], dtype=np.float32), 5)] == ["a"]
    writer.upsert([_entry("b", 0, [0, 1])])  # the reader's cached matrix is stale now
    assert reader.query(np.array([0, 1], dtype=np.float32), 1)[0].name == "b"


def test_deleted_or_damaged_index_is_rebuilt_by_the_library(tmp_path):
    home = tmp_path / "home"
    lib = SkillLibrary(home, HashEmbedder(), LocalIndex("skills-hash256", home / "index"))
    assert lib.search("pick up the red cube").matches[0].name == "pick_up"
    entries = lib.index.count()
    lib.close()
    (home / "index" / "skills-hash256.sqlite").unlink()  # deleted by hand
    lib = SkillLibrary(home, HashEmbedder(), LocalIndex("skills-hash256", home / "index"))
    assert (
        lib.search("pick up the red cube").matches[0].name == "pick_up"
        and lib.index.count() == entries
    )
    lib.close()
    (home / "index" / "skills-hash256.sqlite").write_bytes(b"garbage" * 1000)  # damaged
    lib = SkillLibrary(home, HashEmbedder(), LocalIndex("skills-hash256", home / "index"))
    report = lib.doctor()
    assert report.index_reset and report.repaired and lib.doctor().ok
    assert lib.search("pick up the red cube").matches[0].name == "pick_up"
    lib.close()


def test_open_library_uses_the_local_index_and_no_chromadb(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys\nfrom skills.embed import HashEmbedder\nfrom skills.library import open_library\n"
        f"lib = open_library({str(tmp_path / 'home')!r}, embedder=HashEmbedder())\n"
        "print(type(lib.index).__name__, lib.search('pick up the red cube').matches[0].name, 'chromadb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["LocalIndex", "pick_up", "False"], out.stderr


@pytest.mark.parametrize("n", [0, 1])
def test_query_for_more_than_there_is(tmp_path, n):
    idx = LocalIndex("c", tmp_path)
    idx.upsert([_entry("a", i, [1, i]) for i in range(n + 1)])
    assert len(idx.query(np.array([1, 0], dtype=np.float32), 10)) == n + 1
