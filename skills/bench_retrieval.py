"""Retrieval benchmark: paraphrase top-1, decision confusion, latency at 1k / 10k skills.

`run_retrieval_bench(dir)` builds a fresh library under `dir` (never the user's own),
installs the seeds plus the benchmark-only entries for the multi-step task families
from `benchmarks/retrieval_paraphrases.json`, and measures:

- top-1 / top-3 accuracy on paraphrases a new user would write, for the production
  Searcher (Chroma + hybrid score) and, brute force, for ablations (dense on the
  description only, dense on description + examples, lexical only, hybrid weights);
- the reuse / adapt / synthesize confusion against the expected decision (paraphrases:
  reuse, variations: adapt, novel tasks: synthesize) and how many novel tasks were reused;
- search latency (query embedding included) with the library grown to 1k and 10k
  skills. Filler skills get vectors near real MiniLM embeddings of varied manipulation
  texts (a real text's embedding plus small noise): embedding 30k texts for real would
  take minutes and would not change what is timed.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .embed import Embedder
from .errors import SkillError
from .index import embed_text, skill_texts
from .store import SkillVersion, content_hash

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "retrieval_paraphrases.json"
_FILLER_VERBS = ("wipe", "pour", "fold", "hang", "insert", "screw", "unscrew", "open", "close", "slide", "tilt",
                 "shake", "flip", "scoop", "stir", "press", "pull", "drag", "lean", "balance", "hide", "wrap")  # fmt: skip
_FILLER_THINGS = ("cup", "lid", "drawer", "towel", "sponge", "peg", "knob", "cable", "box", "jar", "spoon",
                  "bottle", "marker", "cloth", "door", "handle", "ring", "card", "can", "ball")  # fmt: skip


_FILLER_MODS = ("slowly and carefully", "next to the bowl", "on the left side of the table", "then put it back",
                "with the tip of the gripper", "twice", "upside down")  # fmt: skip
FILLER_BASES = 1500  # distinct real embeddings the filler vectors are drawn around


def load_cases(path: Path | None = None) -> dict[str, Any]:
    """The benchmark file (skills, queries, adapt, novel)."""
    try:
        return json.loads(Path(path or DATA).read_text())
    except (OSError, ValueError) as exc:
        raise SkillError(
            f"cannot read the retrieval benchmark file {path or DATA}: {exc}"
        ) from None


class _TableEmbedder:
    """Precomputed vectors for filler texts, the real embedder for everything else."""

    def __init__(self, real: Embedder) -> None:
        self.real, self.name, self.dim = real, real.name, real.dim
        self.table: dict[str, np.ndarray] = {}
        self.bases: list[str] = []
        self.base_vecs = np.zeros((0, real.dim), dtype=np.float32)

    def embed(self, texts):
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if t not in self.table]
        for i, t in enumerate(texts):
            if t in self.table:
                out[i] = self.table[t]
        if todo:
            out[todo] = self.real.embed([texts[i] for i in todo])
        return out


def _percentiles(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


def _ablations(lib, cases: dict, alphas: tuple[float, ...]) -> dict[str, float]:
    """Top-1 accuracy of scoring variants, brute force over the same library."""
    from .search import BM25

    versions = lib.store.latest_versions()
    names = [v.name for v in versions]
    texts = [skill_texts(v.name, v.description, v.examples) for v in versions]
    flat = lib.embedder.embed([t for ts in texts for t in ts])
    owner = np.repeat(np.arange(len(names)), [len(ts) for ts in texts])
    first = np.cumsum([0] + [len(ts) for ts in texts[:-1]])
    bm25 = BM25({n: " ".join(ts) for n, ts in zip(names, texts, strict=True)})
    queries = cases["queries"]
    qv = lib.embedder.embed([embed_text(q["query"]) for q in queries])
    sims = qv @ flat.T
    multi = np.full((len(queries), len(names)), -1.0)
    for j in range(len(names)):
        multi[:, j] = sims[:, owner == j].max(axis=1)
    desc = sims[:, first]
    raw = lib.embedder.embed(
        [t for v in versions for t in (f"{v.name.replace('_', ' ')}: {v.description}", *v.examples)]
    )
    raw_sims = lib.embedder.embed([q["query"] for q in queries]) @ raw.T
    with_colors = np.stack([raw_sims[:, owner == j].max(axis=1) for j in range(len(names))], axis=1)
    lex = np.stack([bm25.scores(embed_text(q["query"]), names) for q in queries])
    expect = np.array([names.index(q["expect"]) for q in queries])
    split = np.array([q.get("split", "dev") for q in queries])

    def top1(scores: np.ndarray) -> dict[str, float]:
        right = scores.argmax(axis=1) == expect
        return {sp: round(float(np.mean(right[split == sp])), 4) for sp in sorted(set(split))}

    out = {"dense_description_only": top1(desc), "dense_description_and_examples": top1(multi),
           "dense_raw_text": top1(with_colors),
           "lexical_only": top1(lex)}  # fmt: skip
    for a in alphas:
        out[f"hybrid_alpha_{a}"] = top1((1 - a) * np.clip(multi, 0, 1) + a * lex)
    return out


def _fill(lib, table: _TableEmbedder, target: int, rng: np.random.Generator) -> float:
    """Grow the library to `target` skills with filler; returns seconds taken."""
    have = len(lib.store.names())
    if have >= target:
        return 0.0
    t0 = time.perf_counter()
    if not table.bases:
        texts = [
            f"{v} the {t} {m}" for v in _FILLER_VERBS for t in _FILLER_THINGS for m in _FILLER_MODS
        ]
        table.bases = [texts[i] for i in rng.permutation(len(texts))[:FILLER_BASES]]
        table.base_vecs = table.real.embed(table.bases)
    bases, base_vecs = table.bases, table.base_vecs
    versions = []
    for i in range(have, target):
        b = int(rng.integers(len(bases)))
        name = f"filler_{i:05d}"
        desc = f"{bases[b]} (variant {i})"
        examples = (
            f"{bases[(b + 7) % len(bases)]} variant {i}",
            f"{bases[(b + 13) % len(bases)]} variant {i}",
        )
        for t, k in zip(
            skill_texts(name, desc, examples),
            (b, (b + 7) % len(bases), (b + 13) % len(bases)),
            strict=True,
        ):
            v = base_vecs[k] + rng.normal(0, 0.5 / np.sqrt(table.dim), table.dim)
            table.table[t] = (v / np.linalg.norm(v)).astype(np.float32)
        code = f"def {name}(robot, obj):\n    robot.pick(robot.find(obj))\n"
        versions.append(SkillVersion(name, 0, code, desc, examples, (), "synthesizer", True, "success", None,
                                     content_hash(code, desc, *examples), time.time()))  # fmt: skip
    lib.add_many(versions)
    lib.ensure_index()
    return time.perf_counter() - t0


def _time_searches(searcher, queries: list[str], n: int) -> tuple[dict, dict]:
    total, embed = [], []
    emb = searcher.library.embedder
    for i in range(n):
        q = queries[i % len(queries)]
        t0 = time.perf_counter()
        emb.embed([q])
        t1 = time.perf_counter()
        searcher.search(q, 5)
        total.append((time.perf_counter() - t1) * 1000)
        embed.append((t1 - t0) * 1000)
    return _percentiles(total), _percentiles(embed)


def run_retrieval_bench(home_or_tmp: str | Path | None = None, *, embedder: Embedder | None = None,
                        sizes: tuple[int, ...] = (1000, 10000), latency_queries: int = 100,
                        alphas: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5), data: Path | None = None,
                        seed: int = 0) -> dict[str, Any]:  # fmt: skip
    """Run the retrieval benchmark and return its figures.

    Args:
        home_or_tmp: a directory to build the benchmark library in (a fresh subdirectory
            is made); default a temporary directory, removed afterwards.
        embedder: default the packaged MiniLM.
        sizes: library sizes (skills) at which latency is measured; () skips latency.
        latency_queries: searches timed per size.
        alphas: lexical weights tried in the ablation.
        data: the benchmark file; default benchmarks/retrieval_paraphrases.json.
        seed: filler generation seed.

    Returns:
        A JSON-ready dict: accuracy, ablation, confusion, score ranges, latency.
    """
    from .embed import MiniLMEmbedder
    from .library import open_library
    from .search import Searcher

    cases = load_cases(data)
    if home_or_tmp is None:
        with tempfile.TemporaryDirectory(prefix="skillgrove-bench-") as tmp:
            return run_retrieval_bench(tmp, embedder=embedder, sizes=sizes, latency_queries=latency_queries,
                                       alphas=alphas, data=data, seed=seed)  # fmt: skip
    root = Path(tempfile.mkdtemp(prefix="retrieval-", dir=Path(home_or_tmp)))
    table = _TableEmbedder(embedder or MiniLMEmbedder())
    lib = open_library(root, embedder=table)
    try:
        t0 = time.perf_counter()
        lib.add_many(lib.prepare(s["name"], s["code"], s["description"], examples=s.get("examples", []))
                     for s in cases["skills"])  # fmt: skip
        lib.ensure_index()
        build_s = time.perf_counter() - t0
        searcher = Searcher(lib)
        result: dict[str, Any] = {"skills": len(lib.store.names()), "queries": len(cases["queries"]),
                                  "tau_high": searcher.tau_high, "tau_low": searcher.tau_low,
                                  "alpha": searcher.alpha, "embedder": table.name,
                                  "build_seconds": round(build_s, 2)}  # fmt: skip
        result.update(_accuracy(searcher, cases))
        result["ablation_top1"] = _ablations(lib, cases, alphas)
        rng = np.random.default_rng(seed)
        latency = {}
        queries = [q["query"] for q in cases["queries"]]
        searcher.search(queries[0])  # warm: model load, BM25 build
        latency[f"library_{result['skills']}"] = _time_searches(searcher, queries, latency_queries)[
            0
        ]
        for n in sizes:
            fill_s = _fill(lib, table, n, rng)
            searcher.search(queries[0])
            total, emb = _time_searches(searcher, queries, latency_queries)
            top1 = float(
                np.mean(
                    [
                        searcher.search(q["query"], 1).matches[0].name == q["expect"]
                        for q in cases["queries"]
                    ]
                )
            )  # fmt: skip (all splits)
            latency[f"library_{n}"] = {**total, "embed_only": emb, "fill_seconds": round(fill_s, 1),
                                       "top1_with_fillers": round(top1, 4)}  # fmt: skip
        result["latency"] = latency
        return result
    finally:
        lib.close()


def _accuracy(searcher, cases: dict) -> dict[str, Any]:
    """Top-1/top-3 per split, decision confusion per split, score ranges."""
    decisions = ("reuse", "adapt", "synthesize")
    confusion: dict[str, dict] = {}
    hits: dict[str, list[tuple[bool, bool]]] = {}
    misses, novel_reused, scores = [], [], {}
    kinds = [("reuse", q) for q in cases["queries"]] + [("adapt", q) for q in cases["adapt"]]
    kinds += [("synthesize", q) for q in cases["novel"]]
    for expected, q in kinds:
        split = q.get("split", "dev")
        r = searcher.search(q["query"], 5)
        names = [m.name for m in r.matches]
        table = confusion.setdefault(split, {e: dict.fromkeys(decisions, 0) for e in decisions})
        table[expected][r.decision] += 1
        scores.setdefault(f"{expected}_{split}", []).append(
            r.matches[0].score if r.matches else 0.0
        )
        if expected == "reuse":
            hits.setdefault(split, []).append(
                (names[:1] == [q["expect"]], q["expect"] in names[:3])
            )
            if names[:1] != [q["expect"]]:
                misses.append(
                    {"split": split, "query": q["query"], "expect": q["expect"], "got": names[:3]}
                )
        if expected == "synthesize" and r.decision == "reuse":
            novel_reused.append(
                {
                    "split": split,
                    "query": q["query"],
                    "skill": r.chosen.name,
                    "score": r.chosen.score,
                }
            )
    accuracy = {sp: {"n": len(h), "top1": round(float(np.mean([a for a, _ in h])), 4),
                     "top3": round(float(np.mean([b for _, b in h])), 4)} for sp, h in sorted(hits.items())}  # fmt: skip
    ranges = {k: {"min": round(min(v), 3), "median": round(float(np.median(v)), 3), "max": round(max(v), 3)}
              for k, v in sorted(scores.items())}  # fmt: skip
    return {"accuracy": accuracy, "misses": misses, "confusion": confusion,
            "novel_reused": novel_reused, "top_score_ranges": ranges}  # fmt: skip
