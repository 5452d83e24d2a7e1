"""Retrieval benchmark: paraphrase top-1, threshold calibration, cold and warm latency.

`run_retrieval_bench(dir)` builds fresh libraries under `dir` (never the user's own) from
two packaged sets (`skills/data/`):

- `description_only`: a user's own skills, each added with a description only (no
  example instructions), and nothing else in the library;
- `with_examples`: the seed skills plus the multi-step family skills, with examples.

For each it measures top-1 / top-3 of the production Searcher per split, the reuse /
adapt / synthesize confusion (paraphrases: reuse, variations: adapt, novel requests:
synthesize) and how many novel requests were reused; then, brute force over the same
library, the options side by side (dense only, lexical only, hybrid weights, rank
fusion, bm25s when installed, what text is embedded, today's text forms). The
thresholds are calibrated on the dev splits (`calibrate`). Latency: warm search p50/p95
with the library grown to 1k and 10k skills (filler vectors near real MiniLM embeddings:
embedding 30k texts for real would take minutes and would not change what is timed),
and cold `skillgrove` commands in fresh processes on a fresh home.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.latency import TableEmbedder, cold_latency, warm_latency
from skills.embed import Embedder
from skills.errors import SkillError
from skills.index import MOVABLE, _canonical, embed_text, lexical_text, skill_raw_texts
from skills.store import SkillVersion

DATA = Path(__file__).resolve().parents[1] / "skills" / "data"
SETS = {
    "description_only": (DATA / "retrieval_description_only.json", False),
    "with_examples": (DATA / "retrieval_paraphrases.json", True),
}  # file, with the seeds
MARGIN = 0.03  # tau_high sits this far above the best-scoring novel dev request


def load_cases(path: Path) -> dict[str, Any]:
    """A benchmark file (skills, queries, optional adapt, novel)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SkillError(f"cannot read the retrieval benchmark file {path}: {exc}") from None


# -- options side by side ---------------------------------------------------------------
def _old_form(text: str) -> str:  # the text form before issue 17: colours dropped, shapes canonical
    return _canonical(text, frozenset())


def _goal_words(v: SkillVersion) -> str:
    return f" ({v.goal_template.split('(')[0].replace('_', ' ')})" if v.goal_template else ""


_TEXTS = {  # what is embedded per skill (the first text carries the description)
    "name: description (production)": lambda v: skill_raw_texts(v.name, v.description, v.examples),
    "description only": lambda v: [v.description, *v.examples],
    "+ goal template words": lambda v: [
        f"{v.name.replace('_', ' ')}: {v.description}{_goal_words(v)}",
        *v.examples,
    ],
    "+ signature": lambda v: [
        f"{v.name.replace('_', ' ')}({', '.join(p.name for p in v.params)}): {v.description}",
        *v.examples,
    ],
}


def _generated_examples(template: str | None) -> list[str]:
    """Example instructions for a one-relation template from the reader's own phrase tables
    ("put the object behind the object", "place the object in back of the object")."""
    try:
        from agent.understand.relations import BINARY, DIRS, TOWARD
    except ImportError:  # the reader's tables moved: no generated examples
        return []
    m = re.fullmatch(r"(\w+)\(\?\w+, \?\w+\)", template or "")
    if not m:
        return []
    pred = m.group(1)
    phrases = [p for p, (q, neg) in BINARY.items() if q == pred and not neg]
    phrases += [f"to the {d} of" for d, c in DIRS.items() if TOWARD[c] == pred]
    verbs = ("put", "place", "move")
    return [f"{verbs[i % 3]} the object {p} the object" for i, p in enumerate(phrases[:6])]


def _ablations(lib, cases: dict, alphas: tuple[float, ...]) -> dict[str, dict[str, float]]:
    """Top-1 per split of scoring variants, brute force over the same library."""
    from agent.plan.goal_reader import read_template
    from skills.goal_channel import fit, shape, skill_template
    from skills.search import ALPHA, BETA, BM25, tokens

    versions = lib.store.latest_versions()
    names = [v.name for v in versions]
    queries = [q["query"] for q in cases["queries"]]
    expect = np.array([names.index(q["expect"]) for q in cases["queries"]])
    split = np.array([q.get("split", "dev") for q in cases["queries"]])
    cache: dict[tuple, np.ndarray] = {}

    def dense(texts_of, form) -> np.ndarray:
        key = (texts_of, form)
        if key not in cache:
            of = _TEXTS.get(texts_of, texts_of)  # a name of `_TEXTS` or a function
            texts = [[form(t) for t in of(v)] for v in versions]
            flat = lib.embedder.embed([t for ts in texts for t in ts])
            owner = np.repeat(np.arange(len(names)), [len(ts) for ts in texts])
            sims = lib.embedder.embed([form(q) for q in queries]) @ flat.T
            cache[key] = np.clip(
                np.stack([sims[:, owner == j].max(axis=1) for j in range(len(names))], 1), 0, 1
            )
        return cache[key]

    def lexical(texts_of, form) -> np.ndarray:
        bm = BM25(
            {
                n: form(" ".join(_TEXTS.get(texts_of, texts_of)(v)))
                for n, v in zip(names, versions, strict=True)
            }
        )
        return np.stack([bm.scores(form(q), names) for q in queries])

    def top1(scores: np.ndarray) -> dict[str, float]:
        right = scores.argmax(axis=1) == expect
        return {sp: round(float(np.mean(right[split == sp])), 4) for sp in sorted(set(split))}

    prod = "name: description (production)"
    d, lx = dense(prod, embed_text), lexical(prod, lexical_text)
    out = {
        "before issue 17 (colours dropped, shapes canonical; alpha 0.3)": top1(
            0.7 * dense(prod, _old_form) + 0.3 * lexical(prod, _old_form)
        ),
        "dense only": top1(d),
        "lexical only (hand BM25)": top1(lx),
    }
    for a in alphas:
        out[f"hybrid alpha {a}"] = top1((1 - a) * d + a * lx)
    rank = lambda s: np.argsort(np.argsort(-s, axis=1), axis=1)  # noqa: E731
    out["reciprocal rank fusion (k=60)"] = top1(1 / (60 + rank(d)) + 1 / (60 + rank(lx)))
    out["dense: movable objects neutral only"] = top1(
        (1 - ALPHA) * dense(prod, lambda t: _canonical(t, MOVABLE)) + ALPHA * lx
    )
    for texts_of in list(_TEXTS)[1:]:
        out[f"text: {texts_of}"] = top1(
            (1 - ALPHA) * dense(texts_of, embed_text) + ALPHA * lexical(texts_of, lexical_text)
        )
    # goal channel: (1 - beta) * hybrid + beta * fit where the query's template fits a skill
    hybrid = (1 - ALPHA) * d + ALPHA * lx
    readings = {v.name: read_template(v.description, description=True) for v in versions}
    q_templates = [read_template(q) for q in queries]

    def channel(base: np.ndarray, templates: dict, beta: float, typed: bool = True) -> np.ndarray:
        def sh(t: str) -> tuple:
            parts, kinds = shape(t)
            return parts, kinds if typed else ("any",) * len(kinds)

        skills = {n: sh(t) for n, t in templates.items() if t}
        fits = np.array(
            [
                [fit(sh(q), skills[n]) if q and n in skills else 0.0 for n in names]
                for q in q_templates
            ]
        )
        read = fits.any(axis=1, keepdims=True)
        return np.where(read, (1 - beta) * base + beta * fits, base)

    both = {v.name: skill_template(v.goal_template, readings[v.name]) for v in versions}
    for beta in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4):
        out[f"goal channel beta {beta}"] = top1(channel(hybrid, both, beta))
    out[f"goal channel, Goal: lines only (beta {BETA})"] = top1(
        channel(hybrid, {v.name: v.goal_template for v in versions}, BETA)
    )
    out[f"goal channel, descriptions read only (beta {BETA})"] = top1(
        channel(hybrid, readings, BETA)
    )
    out[f"goal channel, object kinds ignored (beta {BETA})"] = top1(
        channel(hybrid, both, BETA, typed=False)
    )
    gen = {v.name: _generated_examples(both[v.name]) for v in versions}

    def with_generated(v: SkillVersion) -> list[str]:
        return [*skill_raw_texts(v.name, v.description, v.examples), *gen[v.name]]

    gen_hybrid = (1 - ALPHA) * dense(with_generated, embed_text) + ALPHA * lexical(
        with_generated, lexical_text
    )
    out["generated examples (reader's relation phrases)"] = top1(gen_hybrid)
    out[f"generated examples + goal channel (beta {BETA})"] = top1(channel(gen_hybrid, both, BETA))
    try:
        import bm25s
    except ImportError:
        out["bm25s lexical"] = {"not installed": 0.0}
    else:
        docs = [tokens(lexical_text(" ".join(_TEXTS[prod](v)))) for v in versions]
        model = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
        model.index(docs, show_progress=False)
        raw = np.stack([model.get_scores(tokens(lexical_text(q))) for q in queries])
        out["bm25s lexical (raw scores, ranking only)"] = top1(
            (1 - ALPHA) * d + ALPHA * raw / max(float(raw.max()), 1e-9)
        )
    return out


# -- accuracy and calibration -----------------------------------------------------------
def _accuracy(searcher, cases: dict) -> dict[str, Any]:
    """Top-1/top-3 per split, decision confusion per split, top scores per kind."""
    decisions = ("reuse", "adapt", "synthesize")
    confusion: dict[str, dict] = {}
    hits: dict[str, list[tuple[bool, bool]]] = {}
    misses, novel_reused, scores = [], [], {}
    kinds = [("reuse", q) for q in cases["queries"]] + [
        ("adapt", q) for q in cases.get("adapt", [])
    ]
    kinds += [("synthesize", q) for q in cases["novel"]]
    for expected, q in kinds:
        split = q.get("split", "dev")
        r = searcher.search(q["query"], 5)
        names = [m.name for m in r.matches]
        table = confusion.setdefault(split, {e: dict.fromkeys(decisions, 0) for e in decisions})
        table[expected][r.decision] += 1
        scores.setdefault(expected, {}).setdefault(split, []).append(
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
    accuracy = {
        sp: {
            "n": len(h),
            "top1": round(float(np.mean([a for a, _ in h])), 4),
            "top3": round(float(np.mean([b for _, b in h])), 4),
        }
        for sp, h in sorted(hits.items())
    }
    return {
        "accuracy": accuracy,
        "misses": misses,
        "confusion": confusion,
        "novel_reused": novel_reused,
        "top_scores": scores,
    }


def calibrate(
    top_scores: list[dict[str, dict[str, list[float]]]], margin: float = MARGIN
) -> dict[str, Any]:
    """Thresholds from the dev splits' best-match scores (of every benchmark set).

    tau_high: the best novel dev request's score plus `margin` (rounded up to 0.01), so no
    dev novel request is reused. tau_low: the 10th percentile of the dev paraphrases' best
    scores (rounded down to 0.01), so nine in ten requests a skill serves at least start
    from the closest skill (adapt) rather than from nothing (synthesize).
    """
    novel = [s for t in top_scores for s in t.get("synthesize", {}).get("dev", [])]
    para = [s for t in top_scores for s in t.get("reuse", {}).get("dev", [])]
    if not novel or not para:
        raise SkillError("calibration needs paraphrases and novel requests in the dev split")
    tau_high = float(np.ceil((max(novel) + margin) * 100) / 100)
    tau_low = min(float(np.floor(np.percentile(para, 10) * 100) / 100), tau_high)
    return {
        "rule": f"tau_high = max novel dev score + {margin}; tau_low = 10th percentile of dev paraphrase scores",
        "novel_dev_max": round(max(novel), 4),
        "paraphrase_dev_p10": round(float(np.percentile(para, 10)), 4),
        "novel_dev_synthesized_at_tau_low": round(float(np.mean([s < tau_low for s in novel])), 4),
        "paraphrase_dev_reused_at_tau_high": round(
            float(np.mean([s >= tau_high for s in para])), 4
        ),
        "tau_high": tau_high,
        "tau_low": tau_low,
    }


def run_retrieval_bench(
    home_or_tmp: str | Path | None = None,
    *,
    embedder: Embedder | None = None,
    sizes: tuple[int, ...] = (1000, 10000),
    latency_queries: int = 100,
    alphas: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5),
    cold_runs: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Run the retrieval benchmark and return its figures.

    Args:
        home_or_tmp: a directory to build the benchmark libraries in (a fresh
            subdirectory is made); default a temporary directory, removed afterwards.
        embedder: default the packaged MiniLM (`default_embedder()`).
        sizes: library sizes (skills) at which warm latency is measured; () skips it.
        latency_queries: searches timed per size.
        alphas: lexical weights tried side by side.
        cold_runs: fresh-process runs of each `skillgrove` command (0 skips them).
        seed: filler generation seed.

    Returns:
        A JSON-ready dict: per set accuracy, confusion, options; calibration; latency.
    """
    from agent.plan.goal_reader import read_template
    from skills.embed import default_embedder
    from skills.library import open_library
    from skills.search import Searcher

    if home_or_tmp is None:
        with tempfile.TemporaryDirectory(prefix="skillgrove-bench-") as tmp:
            return run_retrieval_bench(
                tmp,
                embedder=embedder,
                sizes=sizes,
                latency_queries=latency_queries,
                alphas=alphas,
                cold_runs=cold_runs,
                seed=seed,
            )
    root = Path(tempfile.mkdtemp(prefix="retrieval-", dir=Path(home_or_tmp)))
    table = TableEmbedder(embedder or default_embedder())
    result: dict[str, Any] = {"embedder": f"{table.name} ({type(table.real).__name__})", "sets": {}}
    libs = {}
    try:
        for name, (path, seeds) in SETS.items():
            cases = load_cases(path)
            lib = libs[name] = open_library(root / name, embedder=table, install_seeds=seeds)
            lib.goal_reader = read_template  # as the agent wires it (agent.factory)
            lib.add_many(
                lib.prepare(s["name"], s["code"], s["description"], examples=s.get("examples", []))
                for s in cases["skills"]
            )
            lib.ensure_index()
            searcher = Searcher(lib)
            got = {
                "skills": len(lib.store.names()),
                "queries": len(cases["queries"]),
                "novel": len(cases["novel"]),
                **_accuracy(searcher, cases),
                "options_top1": _ablations(lib, cases, alphas),
            }
            result["sets"][name] = got
        s = Searcher(libs["description_only"])
        result["thresholds"] = {
            "tau_high": s.tau_high,
            "tau_low": s.tau_low,
            "alpha": s.alpha,
            "beta": s.beta,
            "goal_channel": s.goal_reader is not None,
        }
        result["calibration"] = calibrate([r.pop("top_scores") for r in result["sets"].values()])
        desc = load_cases(SETS["description_only"][0])
        lib = libs["description_only"]
        result["latency_warm"] = warm_latency(lib, table, desc, sizes, latency_queries, seed)
        if cold_runs:
            result["latency_cold"] = cold_latency(root, cold_runs)
        return result
    finally:
        for lib in libs.values():
            lib.close()


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The figures a person reads first, one per line (what `bench retrieval` prints)."""
    lines = [f"embedder: {result['embedder']}"]
    for name, r in result["sets"].items():
        acc = ", ".join(f"{sp} {a['top1']:.3f} (n={a['n']})" for sp, a in r["accuracy"].items())
        lines.append(
            f"{name}: {r['skills']} skills; top-1 {acc}; novel reused {len(r['novel_reused'])}/{r['novel']}"
        )
        for opt, top in r["options_top1"].items():
            lines.append(f"  {opt}: " + ", ".join(f"{k} {v:.3f}" for k, v in top.items()))
    c, t = result["calibration"], result["thresholds"]
    lines.append(
        f"calibration: {c['rule']}: novel dev max {c['novel_dev_max']}, paraphrase dev p10 "
        f"{c['paraphrase_dev_p10']} -> tau_high {c['tau_high']}, tau_low {c['tau_low']} (in use: "
        f"{t['tau_high']}, {t['tau_low']}, alpha {t['alpha']}, goal channel beta {t['beta']}); at these, dev paraphrases reused "
        f"{c['paraphrase_dev_reused_at_tau_high']}, dev novel synthesized {c['novel_dev_synthesized_at_tau_low']}"
    )
    for size, w in result["latency_warm"].items():
        lines.append(
            f"warm search, {size.replace('_', ' ')} skills: p50 {w['p50_ms']} ms, p95 {w['p95_ms']} ms"
        )
    cold = result.get("latency_cold", {})
    for cmd, v in cold.items():
        if isinstance(v, dict):
            lines.append(f"cold `{_COLD[cmd]}`: median {v['median_s']} s, max {v['max_s']} s")
    if cold:
        lines.append(
            f"cold runs: {cold['runs']} each, fresh processes; load average {cold['load_average']}"
        )
    return lines


_COLD = {
    "help": "skillgrove --help",
    "skills_list": "skillgrove skills list",
    "search_first": "skillgrove skills search TEXT (first on a fresh home: builds the index)",
    "search": "skillgrove skills search TEXT",
}
