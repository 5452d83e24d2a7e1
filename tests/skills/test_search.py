"""Searcher: ranking, thresholds, unverified skills; one test with the real model and index."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from skills.embed import HashEmbedder, MiniLMEmbedder
from skills.errors import SkillError
from skills.index import MemoryIndex, embed_text, lexical_text
from skills.library import SkillLibrary
from skills.search import BM25, Match, Searcher, SearchResult, tokens

WAVE = '''
def wave_hello(robot):
    """Wave the gripper from side to side as a greeting.

    Examples:
        wave hello to the person
    """
    robot.move_to((0.5, 0.1, 0.3))
    robot.move_to((0.5, -0.1, 0.3))
'''


@pytest.fixture
def lib(tmp_path):
    with SkillLibrary(tmp_path / "home", HashEmbedder(), MemoryIndex()) as library:
        yield library


def test_tokens_and_text_forms_drop_colours_and_neutralize_objects():
    assert tokens("Stacking the RED blocks onto the blue bowls") == ["stack", "block", "bowl"]
    assert tokens("Lift object number 213") == ["lift", "object", "number", "213"]
    # dense: every object word neutral; lexical: what is moved neutral, places kept
    assert embed_text("get the red block in the blue basin") == "get the object in the object"
    assert lexical_text("get the red block in the blue basin") == "get the object in the bowl"
    assert (
        lexical_text("put all the green items on the plate") == "put all the objects on the plate"
    )
    assert (
        embed_text("can you put it in the area") == "can you put it in the area"
    )  # ambiguous words stay


def test_bm25_is_normalized_and_penalizes_unknown_words():
    bm = BM25({"a": "pick up the cube", "b": "push the cube into the zone", "c": "rotate the cube"})
    assert bm.scores("push cube zone", ["b"])[0] == pytest.approx(
        bm.scores("push cube zone", ["b"])[0]
    )
    s_known = bm.scores("push zone", ["a", "b", "c", "missing"])
    assert s_known.argmax() == 1 and s_known[3] == 0 and np.all((s_known >= 0) & (s_known <= 1))
    s_novel = bm.scores("push zone pour water glass", ["b"])[0]
    assert s_novel < s_known[1]
    assert bm.top("rotate", 2) == ["c"]


def test_exact_example_is_reused_and_nonsense_synthesized(lib):
    r = lib.search("pick up the red cube", k=3)
    assert r.decision == "reuse" and r.chosen == r.matches[0] and r.matches[0].name == "pick_up"
    assert len(r.matches) == 3 and all(0 <= m.score <= 1 for m in r.matches)
    assert [m.score for m in r.matches] == sorted((m.score for m in r.matches), reverse=True)
    nonsense = lib.search("qqq zzzz xylophone", k=2)
    assert nonsense.decision == "synthesize" and nonsense.chosen is None


def test_unverified_skill_is_listed_but_never_reused(lib):
    lib.add("wave_hello", WAVE, verified=False)
    r = lib.search("wave hello to the person")
    assert r.matches[0].name == "wave_hello" and r.matches[0].score >= Searcher(lib).tau_high
    assert not r.matches[0].verified and r.decision == "adapt" and r.chosen.name == "wave_hello"
    lib.set_verified("wave_hello")
    assert lib.search("wave hello to the person").decision == "reuse"


def test_decision_thresholds(lib):
    s = Searcher(lib, tau_high=0.8, tau_low=0.4)
    m = lambda score, verified=True: Match("x", 1, score, "d", verified)  # noqa: E731
    assert s.decide((m(0.9),)).decision == "reuse"
    assert s.decide((m(0.79),)).decision == "adapt"
    assert s.decide((m(0.39),)).decision == "synthesize"
    assert s.decide(()).decision == "synthesize"
    r = s.decide((m(0.95, False), dataclasses.replace(m(0.85), name="y")))
    assert r.decision == "reuse" and r.chosen.name == "y"  # the best verified one above tau_high
    with pytest.raises(SkillError, match="thresholds"):
        Searcher(lib, tau_high=0.3, tau_low=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m(0.5).score = 1.0  # type: ignore[misc]
    assert isinstance(s.decide((m(0.5),)), SearchResult)


@pytest.mark.parametrize("query, k", [("", 3), ("   ", 3), ("stack", 0), ("stack", "2")])
def test_bad_queries(lib, query, k):
    with pytest.raises(SkillError):
        lib.search(query, k)


def test_search_sees_writes_from_another_process_view(lib, tmp_path):
    lib.search("pick up the red cube")  # builds the lexical cache
    other = SkillLibrary(lib.home, lib.embedder, lib.index)  # another writer, same files
    other.add("wave_hello", WAVE)
    assert lib.search("wave hello to the person").matches[0].name == "wave_hello"


def test_real_model_and_local_index(tmp_path):
    """The packaged MiniLM (offline) and the data home's index file, end to end."""
    from skills.library import open_library

    emb = MiniLMEmbedder()
    vecs = emb.embed(["pick up the red cube", "", "x " * 400])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)

    with open_library(tmp_path / "home") as lib:
        assert (tmp_path / "home" / "index").is_dir() is False  # created on first use only
        r = lib.search("grab the blue block")
        assert (r.decision, r.matches[0].name) == ("reuse", "pick_up")
        assert lib.search("pour water into the glass").decision == "synthesize"
        assert lib.search("slide the green cube into the target area").matches[0].name == "push_to"
        lib.add("wave_hello", WAVE)
        assert lib.search("greet the person by waving").matches[0].name == "wave_hello"
        assert (tmp_path / "home" / "index").is_dir() and lib.doctor().ok


def test_minilm_matches_sentence_transformers():
    """Our mean pooling equals the model's own sentence-transformers pipeline."""
    from sentence_transformers import SentenceTransformer

    from skills.embed import packaged_model_dir

    texts = ["stack the red cube on the blue cube", "open the gripper"]
    st = SentenceTransformer(str(packaged_model_dir()), device="cpu", local_files_only=True)
    ref = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.all(np.sum(ref * MiniLMEmbedder().embed(texts), axis=1) > 0.9999)


def test_retrieval_bench_runs(tmp_path):
    from bench.retrieval import run_retrieval_bench, summary_lines

    out = run_retrieval_bench(
        tmp_path, embedder=HashEmbedder(), sizes=(60,), latency_queries=3, cold_runs=0
    )
    desc = out["sets"]["description_only"]
    assert desc["skills"] >= 15 and desc["queries"] >= 40 and desc["novel"] >= 20
    assert (
        set(desc["accuracy"]) == {"dev", "test1", "test2", "test3", "test4"}
        and 0 <= desc["accuracy"]["dev"]["top1"] <= 1
    )
    assert set(desc["confusion"]["dev"]) == {"reuse", "adapt", "synthesize"}
    assert {"dense only", "hybrid alpha 0.4", "reciprocal rank fusion (k=60)"} <= set(
        desc["options_top1"]
    )
    assert out["sets"]["with_examples"]["skills"] == 18  # 11 seeds + 7 family skills
    cal = out["calibration"]
    assert 0 <= cal["tau_low"] <= cal["tau_high"] <= 1 and cal["novel_dev_max"] < cal["tau_high"]
    assert {"p50_ms", "p95_ms"} <= set(out["latency_warm"]["library_60"])
    assert any(line.startswith("calibration:") for line in summary_lines(out))
