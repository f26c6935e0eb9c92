"""Multiplicity control over a family of tests: Holm, and Holm with Shaffer's logical limit.

Holm's step-down: sort p_(1) ≤ … ≤ p_(m); reject H_(j) while p_(j) ≤ α / (m − j + 1).
Shaffer's S1 refinement replaces m − j + 1 by t_j, the largest number of hypotheses that can
still be true once j − 1 are false; it controls the family-wise error at α like Holm and is
never less powerful. For restriction steps each step has three hypotheses (better, worse,
loss ≥ margin, see :mod:`edftools.stats.verdicts`) of which at most two can be true together
("nowhere worse" implies "no loss"), so with m steps

    t_j = min(2m, 3m − j + 1).

Adjusted p-values: p̃_(j) = max_{i ≤ j} min(1, t_i · p_(i)); H is rejected when p̃ ≤ α.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import check_level


def _pvalues(pvalues: Sequence[float]) -> np.ndarray:
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise StatsInputError("pvalues must be a non-empty 1-D sequence")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise StatsInputError("pvalues must be numbers in [0, 1]")
    return p


def holm(pvalues: Sequence[float], alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down (statsmodels ``multipletests(method="holm")``): ``(reject, adjusted)``."""
    from statsmodels.stats.multitest import multipletests

    p = _pvalues(pvalues)
    reject, adjusted, _, _ = multipletests(p, alpha=check_level(alpha, "alpha"), method="holm")
    return reject, adjusted


def shaffer_divisor(steps: int, rejected: int) -> int:
    """t = min(2m, 3m − r): the most hypotheses of m steps that can still be true once r are
    rejected (false)."""
    return max(1, min(2 * steps, 3 * steps - rejected))


def step_divisors(steps: int) -> np.ndarray:
    """Shaffer's t_j = min(2m, 3m − j + 1), j = 1 … 3m, for m steps of three hypotheses."""
    return np.array([shaffer_divisor(steps, j - 1) for j in range(1, 3 * steps + 1)])


def step_down(
    pvalues: Sequence[float], divisors: Sequence[int], alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Step-down with divisors t_j (Holm: t_j = m − j + 1): ``(reject, adjusted)``.

    p̃_(j) = max_{i ≤ j} min(1, t_i·p_(i)); reject where p̃ ≤ α.
    """
    p = _pvalues(pvalues)
    t = np.asarray(divisors, dtype=float)
    if t.shape != p.shape or (t < 1).any():
        raise StatsInputError("divisors must be one number ≥ 1 per p-value")
    order = np.argsort(p, kind="stable")
    adjusted_sorted = np.maximum.accumulate(np.minimum(1.0, t * p[order]))
    adjusted = np.empty_like(p)
    adjusted[order] = adjusted_sorted
    return adjusted <= check_level(alpha, "alpha"), adjusted
