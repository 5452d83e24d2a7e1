"""Instruction embeddings for the policy, computed once per distinct text.

The policy is conditioned on MiniLM sentence embeddings (the packaged all-MiniLM-L6-v2,
loaded offline through `skills.embed.MiniLMEmbedder`). A pooled sentence embedding hardly
tells roles apart: "stack the red cube on the blue cube" and "stack the blue cube on the
red cube" have a cosine similarity of 0.997, and in "place the orange cube" colour and
shape are entangled. So an instruction is split at its relation word ("on", "in",
"into", "with", "by", ...) into what to act on and where to (or how much), and embedded
as three vectors concatenated: the whole sentence, then the mean of the word embeddings
of each part (articles dropped; zeros for an empty part), which keeps "orange" one clean
direction whatever the shape. A task stream has few distinct texts (a few hundred
sentences and words), each embedded once and kept in memory and, with a cache path, in
an .npz file in the data home.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from agent.errors import AgentError

RELATIONS = (
    " on top of ",
    " onto ",
    " on ",
    " into ",
    " in ",
    " with ",
    " by ",
    " to ",
)
# Relation words of the goal templates' step phrases (`skills.phrases`) that stay in the
# "where to" part: "left of the green bowl" and "right of the green bowl" must differ there.
# None occurs in a family's instruction, whose split is unchanged.
KEPT_RELATIONS = (" left of ", " right of ", " behind ", " next to ", " at least ", " at the ")
ANGLE = re.compile(r" (?=[-+]?\d+(?:\.\d+)? degrees\b)")  # "rotate the red cube -30 degrees"
PARTS = 3
STOPWORDS = frozenset({"the", "a", "an", "of"})


def split_instruction(text: str) -> tuple[str, str, str]:
    """(whole, what to act on, where to / how much) of an instruction.

    >>> split_instruction("put the red cube in the blue bowl")
    ('put the red cube in the blue bowl', 'put the red cube', 'the blue bowl')
    >>> split_instruction("put the red cube left of the blue bowl")[1:]
    ('put the red cube', 'left of the blue bowl')
    """
    t = " ".join(str(text).lower().split())
    hits = [(t.find(r), -len(r), r) for r in RELATIONS if r in t]
    hits += [(t.find(r), 0, " ") for r in KEPT_RELATIONS if r in t]  # the word is kept
    if m := ANGLE.search(t):
        hits.append((m.start(), 0, " "))
    if not hits:
        return t, t, ""
    at, _, cut = min(hits)
    return t, t[:at], t[at + len(cut) :]


def content_words(phrase: str) -> list[str]:
    """The words of a phrase that carry meaning (articles dropped)."""
    return [w for w in phrase.split() if w not in STOPWORDS]


def default_embedder():
    """The packaged MiniLM embedder (one torch thread, offline)."""
    from skills.embed import MiniLMEmbedder

    return MiniLMEmbedder(threads=1)


class InstructionEncoder:
    """Maps instructions to embedding rows, caching every instruction it has seen.

    Args:
        embedder: anything with `name`, `dim` and `embed(texts) -> (N, dim)` (see
            `skills.embed.Embedder`); tests pass a small deterministic one.
        cache_path: an .npz file to read and extend; None keeps the cache in memory.
    """

    def __init__(self, embedder, cache_path: Path | None = None) -> None:
        self.embedder = embedder
        self.name = f"{embedder.name}-x{PARTS}"
        self.part_dim = int(embedder.dim)
        self.dim = PARTS * self.part_dim
        self.cache_path = Path(cache_path) if cache_path else None
        self._cache: dict[str, np.ndarray] = {}
        if self.cache_path and self.cache_path.exists():
            self._read()

    def _read(self) -> None:
        try:
            with np.load(self.cache_path, allow_pickle=False) as z:
                if str(z["name"]) != self.name:
                    return  # another embedder's vectors: ignore, they will be recomputed
                for text, row in zip(z["texts"], z["vectors"], strict=True):
                    self._cache[str(text)] = row
        except (OSError, KeyError, ValueError):
            return  # an unreadable cache is only a cache: recompute

    def _write(self) -> None:
        if not self.cache_path:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        texts = sorted(self._cache)
        tmp = self.cache_path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            name=np.array(self.name),
            texts=np.array(texts),
            vectors=np.stack([self._cache[t] for t in texts]).astype(np.float32),
        )
        tmp.replace(self.cache_path)

    def _phrases(self, phrases: set[str]) -> None:
        missing = sorted(p for p in phrases if p not in self._cache)
        if not missing:
            return
        vecs = np.asarray(self.embedder.embed(missing), dtype=np.float32)
        if vecs.shape != (len(missing), self.part_dim):
            raise AgentError(
                f"embedder {self.name} returned shape {vecs.shape}, expected ({len(missing)}, {self.part_dim})"
            )
        self._cache.update(zip(missing, vecs, strict=True))
        self._write()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of `texts`, shape (len(texts), dim), float32."""
        parts = [split_instruction(t) for t in texts]
        words = [[content_words(p) for p in ps[1:]] for ps in parts]
        self._phrases({ps[0] for ps in parts} | {w for ws in words for part in ws for w in part})
        d = self.part_dim
        out = np.zeros((len(parts), self.dim), np.float32)
        for i, (ps, ws) in enumerate(zip(parts, words, strict=True)):
            out[i, :d] = self._cache[ps[0]]
            for k, part in enumerate(ws, start=1):
                if part:
                    out[i, k * d : (k + 1) * d] = np.mean([self._cache[w] for w in part], axis=0)
        return out
