"""The equivalence ("no loss") test: is the restricted space worse by less than a margin?

Margin in error points (``unit="pp"``, the default): over the quantile levels q in [a, b]
(default [0.1, 0.5], the better half of the models without its extreme 10%), the restricted
space loses less than δ points at every level,

    Q_R(q) < Q_P(q) + δ  for all q in [a, b]   ⇔   F_R(x + δ) > F_P(x)  for x in [Q_P(a), Q_P(b)],

with F the (normalized) EDFs and Q their generalized inverses. Margin in EDF units
(``unit="edf"``): F_R(x) > F_P(x) − δ at every x (the restricted EDF never falls more than δ
below the parent's).

The test is an intersection–union test (Berger 1982): the null "a loss of at least the margin
somewhere in the range" is the union over errors x of the pointwise nulls

    H_x :  a ≤ F_P(x),  F_P(x−) ≤ b   (x lies in [Q_P(a), Q_P(b)])   and   F_R(x + δ) ≤ F_P(x),

so it is rejected at level α when *every* pointwise one is rejected at level α — no
multiplicity correction is needed, and the size is at most α at every configuration whose
loss reaches the margin anywhere in the range, **its edges included**. The range is part of
each H_x: x is never tested only because the parent's *sample* quantiles Q̂_P(a), Q̂_P(b) put it
inside (the former version did that and, when Q̂_P(a) fell above Q_P(a), never tested a loss
sitting at the edge: it said "no loss" to such losses 7–25% of the time at α = 0.05). With
p = F̂_P(x) and r = F̂_R(x + δ) the pointwise statistic is

    u_x = max(r, a) − min(p, b + p − p₋),        p₋ = F̂_P(x−)   (p − p₋: the atom at x),

which is ≤ 0 in expectation over the whole null set {a ≤ F_P ≤ b, F_R ≤ F_P} and largest at its
two corners F_P = F_R = a and F_P = F_R = b. With W ~ N(0, σ_P²), R ~ N(0, σ_R²) the errors of
p and r there (σ² = V(x) = Σ_k π_k² F̂_k(1 − F̂_k)/n_k, the binomial variance per bin) and
σ² = σ_P² + σ_R², its p-value is the larger of the two corners' exact normal tails

    P(max(R, 0) + W ≥ u) = ½Φ̄(u/σ_P) + ½Φ̄(u/σ) + T(u/σ, σ_R/σ_P)     (corner a),
    P(R + max(W, 0) ≥ u) = ½Φ̄(u/σ_R) + ½Φ̄(u/σ) + T(u/σ, σ_P/σ_R)     (corner b),

T = Owen's T function (``scipy.special.owens_t``). Inside the range (a < r, p < b) u_x is the
loss z-test's difference r − p and the p-value is within a few percent of its Φ̄((r − p)/σ);
outside it, x is excused by the parent's own evidence that it lies outside. The test's p-value
is max_x over the parent's distinct errors (F̂_P is constant between them and F̂_R(x + δ) grows,
so no point between two of them has a larger p-value than the one below it). An EDF margin
tests z_x = (F̂_R(x) − F̂_P(x) + δ_F)/σ at every x, p = max_x Φ̄(z_x). The normal approximations
make the level asymptotic; the calibration at the edges and in the middle (size at the margin,
power for identical spaces) is simulated in ``benchmarks/bench_calibration.py`` and pinned in
the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats.interval import inverted_cdf_index
from edftools.stats.strata import Stratified

MarginUnit = Literal["pp", "edf"]
DEFAULT_MARGIN_PP = 1.0
DEFAULT_MARGIN_EDF = 0.05
DEFAULT_Q_RANGE = (0.1, 0.5)


@dataclass(frozen=True)
class Margin:
    """The equivalence margin δ and its unit (see the module docstring).

    ``unit="pp"``: δ error points (percentage points of top-1 error) at every quantile level
    in ``q_range``; ``unit="edf"``: δ of EDF mass at every error.
    """

    value: float = DEFAULT_MARGIN_PP
    unit: MarginUnit = "pp"
    q_range: tuple[float, float] = DEFAULT_Q_RANGE

    def __post_init__(self) -> None:
        if self.unit not in ("pp", "edf"):
            raise StatsInputError(f"margin unit must be 'pp' or 'edf', got {self.unit!r}")
        try:
            value = float(self.value)
        except (TypeError, ValueError):
            raise StatsInputError(f"margin must be a number, got {self.value!r}") from None
        if not np.isfinite(value) or value <= 0 or (self.unit == "edf" and value >= 1):
            limit = "in (0, 1)" if self.unit == "edf" else "a positive number of points"
            raise StatsInputError(f"margin must be {limit}, got {self.value!r}")
        lo, hi = (float(v) for v in self.q_range)
        if not 0.0 < lo < hi < 1.0:
            raise StatsInputError(
                f"margin quantile range must satisfy 0 < a < b < 1, got {lo}, {hi}"
            )
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "q_range", (lo, hi))

    def describe(self) -> str:
        """E.g. ``1 pp at quantiles 0.1–0.5`` or ``0.05 of EDF mass``."""
        if self.unit == "pp":
            return f"{self.value:g} pp at quantiles {self.q_range[0]:g}–{self.q_range[1]:g}"
        return f"{self.value:g} of EDF mass"


@dataclass(frozen=True)
class NoLossTest:
    """Result of :func:`no_loss_test`.

    ``loss``: the estimated largest loss in the margin's unit (pp: max over q in the range of
    Q̂_R(q) − Q̂_P(q); edf: sup_x F̂_P(x) − F̂_R(x)); ``pvalue``: the intersection–union p-value
    max_x p_x (module docstring); ``weakest``: the error x where p_x is largest, ``z_min`` the
    loss part's z there.
    """

    loss: float
    pvalue: float
    z_min: float
    weakest: float
    margin: Margin


def quantiles(sample: Stratified, levels: np.ndarray) -> np.ndarray:
    """Generalized-inverse quantiles Q(q) of the (normalized) EDF."""
    order = np.argsort(sample.errors, kind="stable")
    values = sample.errors[order]
    cum = np.cumsum(sample.weights[order])
    return values[inverted_cdf_index(cum, levels[:, None])[:, 0]]


def largest_loss(parent: Stratified, restricted: Stratified, margin: Margin) -> float:
    """max_q (Q_R(q) − Q_P(q)) over a 0.01-spaced grid of ``q_range`` (pp), or
    sup_x (F_P(x) − F_R(x)) (edf)."""
    if margin.unit == "pp":
        lo, hi = margin.q_range
        levels = np.linspace(lo, hi, max(2, round((hi - lo) * 100) + 1))
        return float(np.max(quantiles(restricted, levels) - quantiles(parent, levels)))
    x = np.unique(np.r_[parent.errors, restricted.errors])
    return float(max(0.0, np.max(parent.cdf(x) - restricted.cdf(x))))


def corner_pvalues(u: np.ndarray, var_p: np.ndarray, var_r: np.ndarray) -> np.ndarray:
    """max over the corners a and b of the normal tails of u_x (module docstring)."""
    from scipy.special import ndtr, owens_t

    sp, sr = np.sqrt(var_p), np.sqrt(var_r)
    s = np.sqrt(var_p + var_r)
    both = 0.5 * ndtr(-u / s)
    corner_a = 0.5 * ndtr(-u / sp) + both + owens_t(u / s, sr / sp)
    corner_b = 0.5 * ndtr(-u / sr) + both + owens_t(u / s, sp / sr)
    return np.clip(np.maximum(corner_a, corner_b), 0.0, 1.0)


def loss_statistic(
    p: np.ndarray, p_left: np.ndarray, r: np.ndarray, q_range: tuple[float, float]
) -> np.ndarray:
    """u_x = max(r, a) − min(p, b + p − p₋) (module docstring)."""
    a, b = q_range
    return np.maximum(r, a) - np.minimum(p, b + p - p_left)


def no_loss_test(parent: Stratified, restricted: Stratified, margin: Margin) -> NoLossTest:
    """Intersection–union test of "the restricted space loses less than the margin"
    (module docstring: at every parent error, the loss or the error's place outside the
    margin's quantile range must be shown)."""
    from scipy.special import ndtr

    if margin.unit == "pp":
        x = np.unique(parent.errors)
        r = restricted.cdf(x + margin.value)
        p = parent.cdf(x)
        u = loss_statistic(p, parent.cdf(np.nextafter(x, -np.inf)), r, margin.q_range)
        var_p, var_r = parent.variance(x), restricted.variance(x + margin.value)
        p_x = corner_pvalues(u, var_p, var_r)
    else:
        x = np.unique(np.r_[parent.errors, restricted.errors])
        u = restricted.cdf(x) - parent.cdf(x) + margin.value
        var_p, var_r = parent.variance(x), restricted.variance(x)
        p_x = ndtr(-u / np.sqrt(var_p + var_r))
    j = int(np.argmax(p_x))
    return NoLossTest(
        loss=largest_loss(parent, restricted, margin),
        pvalue=float(p_x[j]),
        z_min=float(u[j] / np.sqrt(var_p[j] + var_r[j])),
        weakest=float(x[j]),
        margin=margin,
    )
