"""The (weighted) error EDF of the NDS paper: F(e) = Σ w_i·1[e_i < e] / Σ w_i.

The inequality is strict, as in the papers: F(e) is the fraction (or weighted mass) of models
whose error is *below* e, so F is left-continuous and F(min error) = 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import sample_and_weights
from edftools.stats.interval import inverted_cdf_index


@dataclass(frozen=True, eq=False)
class EDF:
    """A weighted empirical distribution of errors (result of :func:`edf`).

    Attributes:
        points: the distinct errors, ascending (the step points of F).
        masses: the (normalized) mass at each point; they sum to 1.
        n: number of models with positive weight.
        weighted: whether the models carry unequal weights.
        n_eff: Kish effective sample size (Σ w_i)² / Σ w_i² (equals n when unweighted).
    """

    points: np.ndarray
    masses: np.ndarray
    n: int
    weighted: bool
    n_eff: float

    @property
    def cumulative(self) -> np.ndarray:
        """F just above each step point: Σ_{x_j ≤ points[i]} mass_j (right limits)."""
        return np.minimum(np.cumsum(self.masses), 1.0)

    @property
    def steps(self) -> tuple[np.ndarray, np.ndarray]:
        """``(points, cumulative)``: F jumps to ``cumulative[i]`` just after ``points[i]``."""
        return self.points, self.cumulative

    @property
    def min(self) -> float:
        """The lowest error among models with positive weight."""
        return float(self.points[0])

    @property
    def max(self) -> float:
        """The highest error among models with positive weight."""
        return float(self.points[-1])

    @property
    def mean(self) -> float:
        """Weighted mean error Σ w_i·e_i / Σ w_i."""
        return float(np.dot(self.masses, self.points))

    def evaluate(self, x: Any) -> np.ndarray | float:
        """F(x) = Σ w_i·1[e_i < x] (strict), for a scalar or an array of x."""
        xa = np.asarray(x, dtype=float)
        if np.isnan(xa).any():
            raise StatsInputError("cannot evaluate the EDF at NaN")
        idx = np.searchsorted(self.points, xa, side="left")
        cum = np.concatenate(([0.0], self.cumulative))
        out = cum[idx]
        return float(out) if out.ndim == 0 else out

    __call__ = evaluate

    def quantile(self, q: Any) -> np.ndarray | float:
        """Generalized inverse Q(q) = min{x_j : Σ_{x_i ≤ x_j} w_i ≥ q} (numpy's inverted_cdf).

        Q(0) is the minimum error, Q(1) the maximum.
        """
        qa = np.asarray(q, dtype=float)
        if np.isnan(qa).any() or (qa < 0).any() or (qa > 1).any():
            raise StatsInputError(f"quantile levels must be in [0, 1], got {q!r}")
        idx = inverted_cdf_index(np.cumsum(self.masses), qa.reshape(-1, 1))[:, 0]
        out = self.points[idx].reshape(qa.shape)
        return float(out) if out.ndim == 0 else out

    def area(self, eps: float) -> float:
        """NDS area under the EDF up to ε: 1 − Σ w_i·min(1, e_i/ε) = (1/ε)∫_0^ε F(e) de."""
        if not np.isfinite(eps) or eps <= 0:
            raise StatsInputError(f"eps must be a positive number, got {eps!r}")
        return float(1.0 - np.dot(self.masses, np.minimum(1.0, self.points / eps)))

    def __repr__(self) -> str:
        kind = "weighted " if self.weighted else ""
        return (
            f"EDF({kind}n={self.n}, min={self.min:.4g}, mean={self.mean:.4g}, "
            f"distinct={self.points.size})"
        )


def edf(errors: Any, weights: Any = None) -> EDF:
    """Empirical distribution of errors, F(e) = Σ_i w_i·1[e_i < e] / Σ_i w_i.

    Args:
        errors: one error per model (any 1-D array-like of finite numbers).
        weights: optional non-negative weights (e.g. from :func:`normalize_weights`); models
            with weight 0 are left out; ``None`` gives every model weight 1/n.

    Returns:
        An :class:`EDF` with ``evaluate``, ``quantile``, ``min``, ``mean``, ``steps``, ``area``.

    Raises:
        StatsInputError: NaN/inf errors or weights, negative weights, mismatched lengths, an
            empty sample, or weights summing to zero.
    """
    e, w = sample_and_weights(errors, weights)
    points, inverse = np.unique(e, return_inverse=True)
    if w is None:
        masses = np.bincount(inverse, minlength=points.size) / e.size
        n_eff = float(e.size)
    else:
        masses = np.asarray(np.bincount(inverse, weights=w, minlength=points.size), dtype=float)
        n_eff = float(1.0 / np.dot(w, w))
    return EDF(points=points, masses=masses, n=int(e.size), weighted=w is not None, n_eff=n_eff)
