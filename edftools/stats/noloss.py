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
each H_x: no x is left untested because the parent's *sample* quantiles Q̂_P(a), Q̂_P(b) put it
outside (the former version tested only between them and, when Q̂_P(a) fell above Q_P(a),
never tested a loss sitting at the edge: it said "no loss" to such losses 7–25% of the time
at α = 0.05). With p = F̂_P(x), p₋ = F̂_P(x−), r = F̂_R(x + δ), σ_P² = V_P(x), σ_R² = V_R(x + δ),
V(x) = Σ_k π_k² F̂_k(1 − F̂_k)/n_k (the binomial variance per bin) and σ² = σ_P² + σ_R², the
pointwise statistic has a loss branch and a range branch,

    s_x = max( (r − min(p, b + p − p₋)) / σ,  (a − p) / σ_P )

(p − p₋ is x's own atom: F_P(x) may exceed b by it), and its p-value is Berger and Boos'
(1994): the largest tail probability over the values t of the nuisance F_P(x) that H_x allows
and a 1 − β confidence interval p ± z_{β/2}·σ_P contains (β = :data:`NUISANCE_LEVEL`), plus β;
β alone when that set is empty (x shown outside the range). With F_R(x + δ) = F_P(x) = t (the
least favourable point given t), W ~ N(0, σ_P²), R ~ N(0, σ_R²) and c = b − t,

    P(s_x ≥ s) ≤ P(R + max(W, −c) ≥ sσ) + Φ̄(s − (a − t)/σ_P) − P(both branches of the plain
                 loss (R + W)/σ and (a − t − W)/σ_P reach s),

every term a normal or bivariate-normal tail (Owen's T, ``scipy.special.owens_t``); at t = b
the first is P(R + max(W, 0) ≥ sσ) = ½Φ̄(sσ/σ_R) + ½Φ̄(s) + T(s, σ_P/σ_R). Inside the range,
away from its edges, this is the loss z-test's Φ̄((r − p)/σ) + β; at the edges the parent's
own evidence that x lies outside counts as well as the loss evidence. The test's p-value is
max_x over the parent's distinct errors (F̂_P is constant between them and F̂_R(x + δ) grows).
An EDF margin tests z_x = (F̂_R(x) − F̂_P(x) + δ_F)/σ at every x, p = max_x Φ̄(z_x). The normal
approximations make the level asymptotic; its calibration at the edges and in the middle
(size at the margin, power for identical spaces) is simulated in
``benchmarks/bench_calibration.py`` and pinned in the tests. Every p-value is at least β =
10⁻⁵, so no "no loss" is claimed at a level below it (a sequential study's earliest looks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats.defaults import (
    DEFAULT_MARGIN_PP,
    DEFAULT_MARGIN_UNIT,
    DEFAULT_Q_RANGE,
    MarginUnit,
)
from edftools.stats.interval import inverted_cdf_index
from edftools.stats.strata import Stratified

#: β of the Berger–Boos p-value: the confidence set for F_P(x) has level 1 − β, and every
#: no-loss p-value is at least β (module docstring).
NUISANCE_LEVEL = 1e-5
_NUISANCE_POINTS = 3


@dataclass(frozen=True)
class Margin:
    """The equivalence margin δ and its unit (see the module docstring).

    ``unit="pp"``: δ error points (percentage points of top-1 error) at every quantile level
    in ``q_range``; ``unit="edf"``: δ of EDF mass at every error.
    """

    value: float = DEFAULT_MARGIN_PP
    unit: MarginUnit = DEFAULT_MARGIN_UNIT
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


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Φ₂(h, k; ρ) = P(Z₁ ≤ h, Z₂ ≤ k) for standard normals of correlation ρ (|ρ| < 1), by
    Owen's (1956) formula ½Φ(h) + ½Φ(k) − T(h, a_h) − T(k, a_k) − β,
    a_h = (k − ρh)/(h·sqrt(1 − ρ²)), a_k = (h − ρk)/(k·sqrt(1 − ρ²)), β = ½ when hk < 0."""
    from scipy.special import ndtr, owens_t

    h = np.where(h == 0, 1e-300, h)
    k = np.where(k == 0, 1e-300, k)
    root = np.sqrt(1.0 - rho**2)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        t_h = owens_t(h, np.clip((k - rho * h) / (h * root), -1e300, 1e300))
        t_k = owens_t(k, np.clip((h - rho * k) / (k * root), -1e300, 1e300))
    out = 0.5 * ndtr(h) + 0.5 * ndtr(k) - t_h - t_k - np.where(h * k < 0, 0.5, 0.0)
    return np.clip(out, 0.0, 1.0)


def upper_tail(u: np.ndarray, c: np.ndarray, sd_p: np.ndarray, sd_r: np.ndarray) -> np.ndarray:
    """P(R + max(W, −c) ≥ u) for independent R ~ N(0, sd_r²), W ~ N(0, sd_p²), c ≥ 0:
    Φ̄(u/σ) − Φ(−c/sd_p) + Φ₂(−c/sd_p, u/σ; sd_p/σ) + Φ(−c/sd_p)·Φ̄((u + c)/sd_r)."""
    from scipy.special import ndtr

    sd = np.sqrt(sd_p**2 + sd_r**2)
    below = ndtr(-c / sd_p)
    joint = bivariate_normal_cdf(-c / sd_p, u / sd, sd_p / sd)
    return np.clip(ndtr(-u / sd) - below + joint + below * ndtr(-(u + c) / sd_r), 0.0, 1.0)


def pointwise_pvalues(
    p: np.ndarray,
    p_left: np.ndarray,
    r: np.ndarray,
    var_p: np.ndarray,
    var_r: np.ndarray,
    q_range: tuple[float, float],
    beta: float | None = None,
) -> np.ndarray:
    """The Berger–Boos p-value of H_x at every x (module docstring)."""
    from scipy.special import ndtr, ndtri

    beta = NUISANCE_LEVEL if beta is None else beta
    a, b = q_range
    top = b + p - p_left  # F_P(x) may exceed b by x's own atom
    sd_p, sd_r = np.sqrt(var_p), np.sqrt(var_r)
    sd = np.sqrt(var_p + var_r)
    s = np.maximum((r - np.minimum(p, top)) / sd, (a - p) / sd_p)
    reach = float(ndtri(1.0 - beta / 2.0)) * sd_p
    lo, hi = np.maximum(a, p - reach), np.minimum(top, p + reach)
    inside = lo <= hi
    rho = sd_p / sd
    worst = np.zeros_like(s)
    for w in np.linspace(0.0, 1.0, _NUISANCE_POINTS):
        t = lo + w * (hi - lo)
        shift = (a - t) / sd_p  # the mean of (a − p)/sd_p when F_P(x) = t
        loss = upper_tail(s * sd, np.maximum(top - t, 0.0), sd_p, sd_r)
        below = ndtr(shift - s)
        # both branches at once, for the plain loss branch (r − p)/σ ≤ the first one
        both = 1.0 - ndtr(s) - ndtr(s - shift) + bivariate_normal_cdf(s, s - shift, rho)
        worst = np.maximum(worst, loss + below - np.clip(both, 0.0, None))
    return np.where(inside, np.minimum(1.0, beta + worst), beta)


def no_loss_test(parent: Stratified, restricted: Stratified, margin: Margin) -> NoLossTest:
    """Intersection–union test of "the restricted space loses less than the margin"
    (module docstring: at every parent error, the loss or the error's place outside the
    margin's quantile range must be shown)."""
    from scipy.special import ndtr

    if margin.unit == "pp":
        x = np.unique(parent.errors)
        r = restricted.cdf(x + margin.value)
        p = parent.cdf(x)
        left = parent.cdf(np.nextafter(x, -np.inf))
        u = r - np.minimum(p, margin.q_range[1] + p - left)
        var_p, var_r = parent.variance(x), restricted.variance(x + margin.value)
        p_x = pointwise_pvalues(p, left, r, var_p, var_r, margin.q_range)
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
