"""The continual benchmark's accuracy-over-stream curve: its values and its file."""

from __future__ import annotations

import numpy as np

from agent.policy.plots import seen_so_far, stream_curves

NAN = float("nan")


def test_seen_so_far_averages_the_trained_experiences_of_each_row():
    r = np.array([[0.9, 0.1, 0.0], [0.6, 0.8, 0.2], [0.3, 0.5, 1.0]])
    assert np.allclose(seen_so_far(r), [0.9, 0.7, 0.6])
    joint = np.array([[NAN] * 3, [NAN] * 3, [0.8, 0.7, 0.6]])  # one final row only
    out = seen_so_far(joint)
    assert np.isnan(out[:2]).all() and np.isclose(out[2], 0.7)


def test_stream_curves_writes_a_png_for_full_and_final_only_strategies(tmp_path):
    full = [np.array([[0.9, 0.0], [0.4, 0.8]]), np.array([[0.7, 0.1], [0.6, 0.6]])]
    joint = [np.array([[NAN, NAN], [0.8, 0.8]])]
    path = stream_curves({"naive": full, "joint": joint}, ["on", "stack"], tmp_path / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
