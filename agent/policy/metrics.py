"""Lifelong-learning metrics from an accuracy matrix.

R[i, j] is the score on task j after training through experience i (T x T); b[j] is the
score of the model before any training on task j (the random initialisation), used by
FWT. For success rates higher is better; the same formulas applied to error matrices
(position error in cm, yaw error in degrees) read the other way round (a positive BWT
on errors means they grew), except forgetting, which needs `higher_is_better=False` to
measure from the lowest error.

- ACC = mean_j R[T-1, j]: average score at the end.
- BWT = mean_{j < T-1} (R[T-1, j] - R[j, j]): how learning later tasks changed earlier
  ones (negative: forgetting). Lopez-Paz & Ranzato (2017).
- FWT = mean_{j >= 1} (R[j-1, j] - b[j]): zero-shot gain on a task from the earlier ones.
- Forgetting = mean_{j < T-1} (max_{j <= l < T-1} R[l, j] - R[T-1, j]): the drop from the
  best score a task ever had (Chaudhry et al., 2018).
- AUC = mean_k (R[k, k] + sum_{t > k} R[t, k]) / (T - k): LIBERO's area under the
  success curve of each task from when it was learnt (Liu et al., 2023).
"""

from __future__ import annotations

import numpy as np

from agent.errors import AgentError


def _check(r) -> np.ndarray:
    r = np.asarray(r, dtype=float)
    if r.ndim != 2 or r.shape[0] != r.shape[1] or r.shape[0] < 1:
        raise AgentError(f"an accuracy matrix must be square and non-empty, got shape {r.shape}")
    return r


def acc(r) -> float:
    """Average final score."""
    r = _check(r)
    return float(r[-1].mean())


def bwt(r) -> float:
    """Backward transfer (0 for a single task)."""
    r = _check(r)
    t = r.shape[0]
    if t < 2:
        return 0.0
    return float(np.mean([r[-1, j] - r[j, j] for j in range(t - 1)]))


def fwt(r, b) -> float:
    """Forward transfer against the untrained scores `b` (0 for a single task)."""
    r = _check(r)
    b = np.asarray(b, dtype=float)
    t = r.shape[0]
    if b.shape != (t,):
        raise AgentError(f"baseline scores must have {t} entries, got {b.shape}")
    if t < 2:
        return 0.0
    return float(np.mean([r[j - 1, j] - b[j] for j in range(1, t)]))


def forgetting(r, higher_is_better: bool = True) -> float:
    """Average drop from each task's best score to its final one (0 for a single task).

    Args:
        higher_is_better: False for an error matrix (position or yaw error): the best
            score is then the lowest, and forgetting is how much the error grew from it
            (positive: forgotten, in both cases).
    """
    r = _check(r)
    t = r.shape[0]
    if t < 2:
        return 0.0
    if not higher_is_better:
        return float(np.mean([r[-1, j] - r[j : t - 1, j].min() for j in range(t - 1)]))
    return float(np.mean([r[j : t - 1, j].max() - r[-1, j] for j in range(t - 1)]))


def auc(r) -> float:
    """LIBERO-style area under each task's score curve from when it was learnt."""
    r = _check(r)
    t = r.shape[0]
    return float(np.mean([r[k:, k].sum() / (t - k) for k in range(t)]))


def summarize(r, b, higher_is_better: bool = True) -> dict[str, float]:
    """All five metrics of one matrix (`higher_is_better=False` for error matrices)."""
    return {
        "acc": acc(r),
        "bwt": bwt(r),
        "fwt": fwt(r, b),
        "forgetting": forgetting(r, higher_is_better),
        "auc": auc(r),
    }
