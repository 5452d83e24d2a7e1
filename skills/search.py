"""Searcher: ranked skills for a query and a reuse / adapt / synthesize decision.

Ranking is hybrid. The dense part is the best cosine similarity between the query and
any of a skill's index entries (its "name: description" text and each example
instruction), both in `embed_text` form (colours dropped, object words neutral). The
lexical part is BM25 over the same texts in `lexical_text` form, normalized by the best
score the query's words could reach, so it is an absolute number in [0, 1] (a query
full of words no skill uses scores low). The score is
`(1 - alpha) * dense + alpha * lexical`, in [0, 1]. A query that is a skill's name or
its exact description (case, spaces and punctuation aside) scores 1 for that skill, so
it comes first even among thousands of near-identical skills.

Goal channel (`skills.goal_channel`): with a `goal_reader` (the agent wires the
product's goal reader), a request read into a goal template that fits some candidates'
templates is scored `(1 - beta) * hybrid + beta * fit` (fit 1 for the same goal shape and
object kinds, 0.5 for a part of a conjunction, 0 otherwise); a request the reader
refuses, or that fits no candidate, keeps its hybrid score (novel requests are refused,
so the reuse threshold is untouched).

The decision follows RoboCoder's two thresholds: "reuse" when a verified skill scores at
least `tau_high`, "adapt" when the best score is at least `tau_low`, else "synthesize".
A skill is ranked by its latest version's texts; its match names the newest verified
version (the one reuse runs), so a newer unverified version never hides a verified one.
Skills with no verified version are listed but never reused. Default thresholds and
`alpha` come from `skillgrove bench retrieval` (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from skills.errors import SkillError
from skills.goal_channel import GoalReader, Shape, fit, shape, skill_templates
from skills.index import embed_text, entry_id, lexical_text, skill_raw_texts
from skills.naming import COLOR_WORDS


class Library(Protocol):
    """What the Searcher reads of a skill library (`skills.library.SkillLibrary`).

    A protocol, not an import: the library imports the Searcher, so the Searcher must
    not import the library (no import circle).
    """

    store: Any
    index: Any
    embedder: Any

    def ensure_index(self) -> Any: ...


# Calibrated by `skillgrove bench retrieval` on the dev splits (benchmarks/RESULTS.md):
# tau_high = the best novel request's score + 0.03, tau_low = the 10th percentile of the
# paraphrases' scores; alpha 0.4 reused the most dev paraphrases at that tau_high.
TAU_HIGH = 0.49
TAU_LOW = 0.40
ALPHA = 0.4
# Weight of the goal channel: dev top-1 (description-only) is 0.959 from 0.15 to 0.30;
# the middle of that plateau (benchmarks/RESULTS.md).
BETA = 0.25
LEXICAL_CANDIDATES = 20  # best BM25 skills always scored, whatever the dense search returned

_WORD = re.compile(r"[a-z0-9]+")
_STOP = "a an the of to into onto in on at by and or then it its this that with from for up down "
STOPWORDS = frozenset(
    (_STOP + "please can you could would me my i is be so all each one another other some").split()
)


@dataclass(frozen=True)
class Match:
    """One ranked skill."""

    name: str
    version: int
    score: float
    description: str
    verified: bool = True


@dataclass(frozen=True)
class SearchResult:
    """The decision and the ranked matches (best first).

    Attributes:
        decision: "reuse", "adapt" or "synthesize".
        matches: up to k matches, best first.
        chosen: the skill to reuse (a verified match above tau_high) or to adapt from
            (the best match); None when synthesizing.
    """

    decision: str
    matches: tuple[Match, ...]
    chosen: Match | None = None


def tokens(text: str) -> list[str]:
    """Lexical tokens: lowercase words, no stopwords or colours, light suffix stripping."""
    out = []
    for w in _WORD.findall(text.lower()):
        if w in STOPWORDS or w in COLOR_WORDS:
            continue
        for suffix in ("ing", "ed", "es", "s") if w.isalpha() else ():
            if w.endswith(suffix) and len(w) - len(suffix) >= 3:
                w = w[: -len(suffix)]
                break
        out.append(w[:-1] if w.endswith("e") and len(w) > 3 else w)
    return out


class BM25:
    """Okapi BM25 over one document per skill, with scores normalized to [0, 1].

    Args:
        docs: skill name -> document text.
    """

    def __init__(self, docs: dict[str, str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.names = list(docs)
        self._row = {n: i for i, n in enumerate(self.names)}
        tfs = [Counter(tokens(docs[n])) for n in self.names]
        lengths = np.array([sum(c.values()) for c in tfs], dtype=np.float32)
        self.n = len(self.names)
        avg = float(lengths.mean()) if self.n else 1.0
        self._norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, c in enumerate(tfs):
            for t, f in c.items():
                rows, fs = postings.setdefault(t, ([], []))
                rows.append(i)
                fs.append(f)
        self._post = {
            t: (np.array(r), np.array(f, dtype=np.float32)) for t, (r, f) in postings.items()
        }

    def idf(self, term: str) -> float:
        df = len(self._post[term][0]) if term in self._post else 0
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def all_scores(self, query: str) -> np.ndarray:
        """Normalized BM25 of `query` for every document, in `names` order."""
        q = Counter(tokens(query))
        full = np.zeros(self.n, dtype=np.float32)
        if not q or not self.n:
            return full
        best = 0.0
        for term, qf in q.items():
            idf = self.idf(term)
            best += qf * idf * (self.k1 + 1)
            if term in self._post:
                r, f = self._post[term]
                full[r] += qf * idf * f * (self.k1 + 1) / (f + self._norm[r])
        return np.clip(full / max(best, 1e-9), 0.0, 1.0)

    def scores(self, query: str | np.ndarray, names: list[str]) -> np.ndarray:
        """Normalized BM25 of `query` (or its `all_scores`) for each of `names` (0 for unknown names)."""
        full = self.all_scores(query) if isinstance(query, str) else query
        full = np.append(full, np.float32(0.0))  # last slot: unknown names
        rows = np.array([self._row.get(n, self.n) for n in names], dtype=np.int64)
        return full[rows] if len(names) else np.zeros(0, dtype=np.float32)

    def top(self, query: str | np.ndarray, n: int) -> list[str]:
        """The `n` best documents by BM25 (score > 0), best first; `query` as in `scores`."""
        full = self.all_scores(query) if isinstance(query, str) else query
        if not self.n:
            return []
        idx = np.argpartition(-full, min(n, self.n) - 1)[:n] if self.n > n else np.arange(self.n)
        idx = sorted(idx, key=lambda i: (-full[i], i))
        return [self.names[i] for i in idx if full[i] > 0]


class Searcher:
    """Ranks a library's skills for a query and decides reuse / adapt / synthesize.

    Args:
        library: the library (its embedder, index and store are used).
        tau_high: reuse at or above this score (verified skills only).
        tau_low: adapt at or above this score, synthesize below.
        alpha: weight of the lexical score (0: dense only).
        goal_reader: text -> typed goal template or None (`skills.goal_channel`); default
            the library's `goal_reader` attribute if it has one, else no goal channel.
        beta: weight of the goal channel.
    """

    def __init__(
        self,
        library: Library,
        tau_high: float = TAU_HIGH,
        tau_low: float = TAU_LOW,
        alpha: float = ALPHA,
        goal_reader: GoalReader | None = None,
        beta: float = BETA,
    ) -> None:
        if not 0.0 <= tau_low <= tau_high <= 1.0:
            raise SkillError(
                f"thresholds must satisfy 0 <= tau_low <= tau_high <= 1, got {tau_low}, {tau_high}"
            )
        self.library = library
        self.tau_high, self.tau_low, self.alpha, self.beta = tau_high, tau_low, alpha, beta
        self.goal_reader = goal_reader or getattr(library, "goal_reader", None)
        self._lexical: tuple[int, BM25, dict[str, list[str]], dict[str, Shape]] | None = None

    def _lexicon(self) -> tuple[BM25, dict[str, list[str]], dict[str, Shape]]:
        """BM25 over the latest versions, the exact-match table (name and description
        keys -> skills) and the skills' goal templates, rebuilt when the library changed."""
        gen = self.library.store.generation()
        if self._lexical is None or self._lexical[0] != gen:
            docs, exact = {}, {}
            versions = self.library.store.latest_versions()
            for v in versions:
                docs[v.name] = lexical_text(
                    " ".join(skill_raw_texts(v.name, v.description, v.examples))
                )
                for key in {_key(v.name), _key(v.description)}:
                    exact.setdefault(key, []).append(v.name)
            goals = (
                skill_templates(versions, self.goal_reader, self.library.index)
                if self.goal_reader and self.beta
                else {}
            )
            self._lexical = (gen, BM25(docs), exact, goals)
        return self._lexical[1:]

    def goal_fit(self, query: str, names: list[str], goals: dict[str, Shape]) -> np.ndarray | None:
        """Each candidate's fit to the query's goal template; None when the query is not
        read or fits none of them (its scores then stay as they are)."""
        if not goals:
            return None
        try:
            template = self.goal_reader(query)
        except Exception:  # noqa: BLE001 - a reader bug must not break a search
            template = None
        if not template:
            return None
        q = shape(template)
        fits = np.array([fit(q, goals[n]) if n in goals else 0.0 for n in names])
        return fits if fits.any() else None

    def search(self, query: str, k: int = 5) -> SearchResult:
        """Rank skills for `query` and decide.

        Args:
            query: an instruction or step, e.g. "put the red block on the blue one".
            k: how many matches to return (at least 1).

        Returns:
            A `SearchResult` with up to k matches, best first.
        """
        if not isinstance(query, str) or not query.strip():
            raise SkillError("the search query is empty")
        if not isinstance(k, int) or k < 1:
            raise SkillError(f"k must be a positive integer, got {k!r}")
        self.library.ensure_index()
        vector = self.library.embedder.embed([embed_text(query)])[0]
        hits = self.library.index.query(vector, max(40, 8 * k))
        dense: dict[str, float] = {}
        for h in hits:
            dense[h.name] = max(dense.get(h.name, -1.0), h.similarity)
        bm25, exact, goals = self._lexicon()
        lexical = bm25.all_scores(lexical_text(query)) if self.alpha else None
        named = set(exact.get(_key(query), ()))
        # Skills the words point to (or that the query names) but the dense search did
        # not return are scored exactly too: the dense top-n of thousands of
        # near-identical skills is a coin toss.
        extra = (
            [n for n in bm25.top(lexical, LEXICAL_CANDIDATES) if n not in dense]
            if self.alpha
            else []
        )
        extra += [n for n in sorted(named) if n not in dense and n not in extra]
        if extra:
            ids = [
                entry_id(v.name, i)
                for v in self.library.store.latest_versions(extra, with_stats=False)
                for i in range(1 + len(v.examples))
            ]
            for n, vecs in self.library.index.vectors(ids).items():
                dense[n] = float(np.max(vecs @ vector))
        if not dense:
            return SearchResult("synthesize", ())
        names = list(dense)
        lex = bm25.scores(lexical, names) if self.alpha else np.zeros(len(names))
        hybrid = (1 - self.alpha) * np.clip([dense[n] for n in names], 0.0, 1.0) + self.alpha * lex
        fits = self.goal_fit(query, names, goals)
        if fits is not None:
            hybrid = (1 - self.beta) * hybrid + self.beta * fits
        score = {n: 1.0 if n in named else float(h) for n, h in zip(names, hybrid, strict=True)}
        ranked = sorted(names, key=lambda n: (-score[n], n))[:k]
        by_name = {v.name: v for v in self.library.store.latest_versions(ranked, with_stats=False)}
        matches = tuple(
            self._match(by_name[n], round(score[n], 4))
            for n in ranked
            if n in by_name  # an entry removed from SQLite after the query started
        )
        return self.decide(matches)

    def _match(self, latest, score: float) -> Match:
        """The match of a skill: its newest verified version (what reuse runs), else its latest."""
        v = latest
        if not latest.verified:
            v = next(
                (o for o in reversed(self.library.store.versions(latest.name)) if o.verified),
                latest,
            )
        return Match(v.name, v.version, score, v.description, v.verified)

    def decide(self, matches: tuple[Match, ...]) -> SearchResult:
        """Apply the two thresholds to ranked matches."""
        if not matches:
            return SearchResult("synthesize", ())
        reusable = next((m for m in matches if m.verified and m.score >= self.tau_high), None)
        if reusable is not None:
            return SearchResult("reuse", matches, reusable)
        if matches[0].score >= self.tau_low:
            return SearchResult("adapt", matches, matches[0])
        return SearchResult("synthesize", matches)


def _key(text: str) -> str:
    """What an exact match compares: lowercase words and numbers ("pick_up" = "Pick up.")."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))
