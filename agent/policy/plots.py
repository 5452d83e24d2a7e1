"""Figures of the continual-learning benchmark and the correction loop (PNG files).

matplotlib is imported inside the functions, with the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> Path:
    """Lay out, write (110 dpi, the parent made) and close a figure."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def r_heatmaps(
    matrices: dict[str, np.ndarray], families: list[str], path: Path, title: str = ""
) -> Path:
    """One heatmap per strategy of its (mean) success matrix R[i, j]."""
    plt = _plt()
    names = list(matrices)
    cols = min(4, len(names))
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False)
    short = [f[:6] for f in families]
    for ax, name in zip(axes.flat, names, strict=False):
        r = np.asarray(matrices[name], dtype=float)
        ax.imshow(r, vmin=0, vmax=1, cmap="viridis")
        for i in range(r.shape[0]):
            for j in range(r.shape[1]):
                if np.isnan(r[i, j]):  # a row that does not exist (the joint bound's)
                    continue
                ax.text(
                    j,
                    i,
                    f"{r[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if r[i, j] < 0.6 else "black",
                )
        ax.set_title(name, fontsize=9)
        ax.set_xticks(range(len(short)), short, rotation=45, fontsize=7)
        ax.set_yticks(range(len(short)), [f"after {s}" for s in short], fontsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(plt, fig, path)


def correction_curve(curves: list[dict], path: Path, target: float = 0.9) -> Path:
    """Held-out success vs number of corrections, one line per correction run."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for c in curves:
        xs = [0] + [r["corrections"] for r in c["rounds"]]
        ys = [c["start_success"]] + [r["success"] for r in c["rounds"]]
        ax.plot(xs, ys, marker="o", label=f"{c['family']} ({c['strategy']}, {c['expert']})")
    ax.axhline(target, color="gray", linestyle="--", linewidth=1)
    ax.set_xlabel("corrections stored")
    ax.set_ylabel("success (sim, held-out scenes)")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    return _save(plt, fig, path)


def seen_so_far(r: np.ndarray) -> np.ndarray:
    """ACC after each experience: the mean success over the experiences trained so far,
    `mean(R[k, :k + 1])` for every row k of R (NaN where a row does not exist, e.g. the
    joint bound's rows before its one final row)."""
    r = np.asarray(r, dtype=float)
    return np.array([np.mean(r[k, : k + 1]) for k in range(r.shape[0])])


def stream_curves(
    runs: dict[str, list[np.ndarray]], families: list[str], path: Path, title: str = ""
) -> Path:
    """Accuracy over the stream, one line per strategy: the mean over its runs (seeds) of
    `seen_so_far`, the runs' range shaded; a strategy with only a final row (the joint
    bound) is one marker at the last experience."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    xs = np.arange(len(families))
    for name, mats in runs.items():
        curves = np.array([seen_so_far(m) for m in mats])
        have = np.isfinite(curves).all(axis=0)  # rows every run has
        if not have.any():
            continue
        c = curves[:, have]
        if have.sum() == 1:
            ax.plot(xs[have], c.mean(axis=0), marker="*", markersize=11, linestyle="", label=name)
            continue
        (line,) = ax.plot(xs[have], c.mean(axis=0), marker="o", markersize=3, label=name)
        ax.fill_between(xs[have], c.min(axis=0), c.max(axis=0), color=line.get_color(), alpha=0.12)
    ax.set_xticks(xs, [f"after {f[:6]}" for f in families], rotation=45, fontsize=7)
    ax.set_ylabel("mean success on experiences so far")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, ncol=2)
    if title:
        ax.set_title(title, fontsize=10)
    return _save(plt, fig, path)
