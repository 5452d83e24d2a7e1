"""Latency for the retrieval benchmark: warm searches at 1k/10k skills, cold commands.

Filler skills get vectors near real MiniLM embeddings of varied manipulation texts (a
real text's embedding plus small noise): embedding 30k texts for real would take
minutes and would not change what is timed. Cold figures are whole `skillgrove`
commands in fresh processes, as a user's shell starts them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from skills.embed import Embedder
from skills.index import embed_text, skill_raw_texts
from skills.store import SkillVersion, content_hash

_FILLER_VERBS = (
    "wipe",
    "pour",
    "fold",
    "hang",
    "insert",
    "screw",
    "unscrew",
    "open",
    "close",
    "slide",
    "tilt",
    "shake",
    "flip",
    "scoop",
    "stir",
    "press",
    "pull",
    "drag",
    "lean",
    "balance",
    "hide",
    "wrap",
)
_FILLER_THINGS = (
    "cup",
    "lid",
    "drawer",
    "towel",
    "sponge",
    "peg",
    "knob",
    "cable",
    "box",
    "jar",
    "spoon",
    "bottle",
    "marker",
    "cloth",
    "door",
    "handle",
    "ring",
    "card",
    "can",
    "ball",
)
_FILLER_MODS = (
    "slowly and carefully",
    "next to the bowl",
    "on the left side of the table",
    "then put it back",
    "with the tip of the gripper",
    "twice",
    "upside down",
)
FILLER_BASES = 1500  # distinct real embeddings the filler vectors are drawn around


class TableEmbedder:
    """Precomputed vectors for filler texts, the real embedder for everything else."""

    def __init__(self, real: Embedder) -> None:
        self.real, self.name, self.dim = real, real.name, real.dim
        self.table: dict[str, np.ndarray] = {}
        self.bases: list[str] = []  # filler texts whose real vectors the filler is drawn around
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


def _fill(lib, table: TableEmbedder, target: int, rng: np.random.Generator) -> float:
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
        table.base_vecs = table.real.embed([embed_text(b) for b in table.bases])
    bases, base_vecs = table.bases, table.base_vecs
    versions = []
    for i in range(have, target):
        b = int(rng.integers(len(bases)))
        name, desc = f"filler_{i:05d}", f"{bases[b]} (variant {i})"
        picks = (b, (b + 7) % len(bases), (b + 13) % len(bases))
        examples = tuple(f"{bases[k]} variant {i}" for k in picks[1:])
        for t, k in zip(skill_raw_texts(name, desc, examples), picks, strict=True):
            v = base_vecs[k] + rng.normal(0, 0.5 / np.sqrt(table.dim), table.dim)
            table.table[embed_text(t)] = (v / np.linalg.norm(v)).astype(np.float32)
        code = f"def {name}(robot, obj):\n    robot.pick(robot.find(obj))\n"
        versions.append(
            SkillVersion(
                name,
                0,
                code,
                desc,
                examples,
                (),
                "synthesizer",
                True,
                "success",
                None,
                content_hash(code, desc, *examples),
                time.time(),
            )
        )
    lib.add_many(versions)
    lib.ensure_index()
    return time.perf_counter() - t0


def _time_searches(searcher, queries: list[str], n: int) -> tuple[dict, dict]:
    total, embed = [], []
    emb = searcher.library.embedder
    for i in range(n):
        q = queries[i % len(queries)]
        t0 = time.perf_counter()
        emb.embed([embed_text(q)])
        t1 = time.perf_counter()
        searcher.search(q, 5)
        total.append((time.perf_counter() - t1) * 1000)
        embed.append((t1 - t0) * 1000)
    return _percentiles(total), _percentiles(embed)


def cold_latency(work: Path, runs: int = 5) -> dict[str, Any]:
    """Seconds of whole `skillgrove` commands in fresh processes (median of `runs`).

    `search_first` is the first search of a fresh home (it builds the index),
    `search` a later one; every run is a new process, as a user's shell starts it.
    """
    cmd = [sys.executable, "-m", "agent.cli"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    def timed(*args: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([*cmd, *args], env=env, capture_output=True, check=True, timeout=300)
        return time.perf_counter() - t0

    out: dict[str, list[float]] = {"help": [], "skills_list": [], "search_first": [], "search": []}
    for i in range(runs):
        home = str(work / f"cold-{i}")
        out["help"].append(timed("--help"))
        out["search_first"].append(
            timed("--home", home, "skills", "search", "put the red block in the bowl")
        )
        out["search"].append(
            timed("--home", home, "skills", "search", "stack the green cube on the red one")
        )
        out["skills_list"].append(timed("--home", home, "skills", "list"))
    return {
        k: {"median_s": round(float(np.median(v)), 3), "max_s": round(max(v), 3)}
        for k, v in out.items()
    } | {"runs": runs, "load_average": [round(x, 2) for x in os.getloadavg()]}


def warm_latency(
    lib, table: TableEmbedder, cases: dict, sizes, n: int, seed: int
) -> dict[str, Any]:
    """Warm search p50/p95 (query embedding included) with the library grown to `sizes`,
    and top-1 on `cases` with the filler present."""
    from skills.search import Searcher

    queries = [q["query"] for q in cases["queries"]]
    searcher, rng = Searcher(lib), np.random.default_rng(seed)
    searcher.search(queries[0])  # warm: model load, BM25 build
    out = {f"library_{len(lib.store.names())}": _time_searches(searcher, queries, n)[0]}
    for size in sizes:
        fill_s = _fill(lib, table, size, rng)
        searcher.search(queries[0])
        total, emb = _time_searches(searcher, queries, n)
        right = [
            searcher.search(q["query"], 1).matches[0].name == q["expect"] for q in cases["queries"]
        ]
        out[f"library_{size}"] = {
            **total,
            "embed_only": emb,
            "fill_seconds": round(fill_s, 1),
            "top1_with_fillers": round(float(np.mean(right)), 4),
        }
    return out
