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
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
