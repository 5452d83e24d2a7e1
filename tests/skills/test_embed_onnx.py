"""The onnxruntime embedder: converted from the packaged weights, same vectors as torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from skills import embed as E

TEXTS = ["pick up the red cube", "Lift object number 213 and hold it", "", "x " * 400]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return E.convert_to_onnx(tmp_path_factory.mktemp("onnx") / E.ONNX_NAME)


def test_conversion_gives_the_same_vectors_as_torch(converted):
    got = E.OnnxMiniLMEmbedder(converted).embed(TEXTS)
    want = E.MiniLMEmbedder().embed(TEXTS)
    assert got.shape == (4, 384) and got.dtype == np.float32
    assert np.abs(got - want).max() < 1e-5
    assert (
        E.onnx_ready(converted) and E.OnnxMiniLMEmbedder.name == E.MiniLMEmbedder.name
    )  # one index


def test_seed_texts_are_embedded_ahead_and_match(converted):
    emb = E.OnnxMiniLMEmbedder(converted)
    known = emb.known()
    assert len(known) >= 11  # every seed skill's texts
    texts = list(known)[:5]
    assert np.abs(emb._forward(texts) - np.stack([known[t] for t in texts])).max() < 1e-5


def test_a_stale_or_missing_conversion_falls_back_to_torch(converted, tmp_path, monkeypatch):
    stamp = converted.with_suffix(".json")
    data = json.loads(stamp.read_text())
    moved = tmp_path / E.ONNX_NAME
    moved.write_bytes(converted.read_bytes())
    data["source"]["size"] += 1  # the packaged weights changed since the conversion
    moved.with_suffix(".json").write_text(json.dumps(data))
    assert not E.onnx_ready(moved) and not E.onnx_ready(tmp_path / "missing.onnx")
    monkeypatch.setattr(E, "default_onnx_path", lambda: moved)
    assert isinstance(E.default_embedder(), E.MiniLMEmbedder)
    monkeypatch.setattr(E, "default_onnx_path", lambda: converted)
    assert isinstance(E.default_embedder(), E.OnnxMiniLMEmbedder)


@pytest.mark.skipif(
    not E.onnx_ready(), reason="the install step (make install) has not converted the model"
)
def test_search_and_list_import_no_torch_chromadb_or_pybullet(tmp_path):
    """The heavy imports stay out of a search; the goal language (`sim.goals`, pure Python)
    comes in for the Searcher's goal channel, and the simulator (pybullet) does not."""
    code = (
        "import sys\nfrom agent.cli import main\n"
        f"main(['--home', {str(tmp_path)!r}, 'skills', 'search', 'stack the red cube on the blue one', '--json'])\n"
        f"main(['--home', {str(tmp_path)!r}, 'skills', 'list', '--json'])\n"
        "heavy = [m for m in ('torch', 'transformers', 'chromadb', 'pybullet', 'sim.world') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert '"name": "stack"' in out.stdout and "HEAVY []" in out.stdout, out.stderr
