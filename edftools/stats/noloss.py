"""The equivalence ("no loss") test: is the restricted space worse by less than a margin?

Margin in error points (``unit="pp"``, the default): over the quantile levels q in [a, b]
(default [0.1, 0.5], the better half of the models without its extreme 10%), the restricted
space loses less than δ points at every level,

    Q_R(q) < Q_P(q) + δ  for all q in [a, b]   ⇔   F_R(x + δ) > F_P(x)  for x in [Q_P(a), Q_P(b)],

with F the (normalized) EDFs and Q their generalized inverses. Margin in EDF units
(``unit="edf"``): F_R(x) > F_P(x) − δ at every x (the restricted EDF never falls more than δ
below the parent's).

The test is an intersection–union test (Berger 1982): the null "a loss of at least the margin
somewhere" is the union of the pointwise nulls H_x : F_R(x + δ_x) − F_P(x) + δ_F ≤ 0, so it is
rejected at level α when *every* pointwise one-sided test rejects at level α — no multiplicity
correction is needed, and the size is α at a configuration where the loss equals the margin at
one point. The pointwise test is a z-test on the difference of the two EDF values,

    z_x = (F̂_R(x + δ_x) − F̂_P(x) + δ_F) / sqrt(V_R(x + δ_x) + V_P(x)),
    V(x) = Σ_k π_k² F̂_k(x)(1 − F̂_k(x)) / n_k            (binomial variance per bin),

and the test's p-value is max_x Φ(−z_x). It is checked at the parent's distinct errors in the
range (the sup of F_P(x) − F_R(x + δ) is attained at a jump of F_P). Calibration (size at the
margin, power for identical spaces) is simulated in ``benchmarks/bench_calibration.py`` and in
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
    max_x Φ(−z_x); ``weakest``: the error x where z_x is smallest.
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


def no_loss_test(parent: Stratified, restricted: Stratified, margin: Margin) -> NoLossTest:
    """Intersection–union z-test of "the restricted space loses less than the margin"."""
    from scipy.special import ndtr

    if margin.unit == "pp":
        lo, hi = quantiles(parent, np.asarray(margin.q_range))
        x = np.unique(parent.errors[(parent.errors >= lo) & (parent.errors <= hi)])
        shift, offset = margin.value, 0.0
    else:
        x = np.unique(np.r_[parent.errors, restricted.errors])
        shift, offset = 0.0, margin.value
    diff = restricted.cdf(x + shift) - parent.cdf(x) + offset
    se = np.sqrt(restricted.variance(x + shift) + parent.variance(x))
    z = diff / se
    j = int(np.argmin(z))
    return NoLossTest(
        loss=largest_loss(parent, restricted, margin),
        pvalue=float(ndtr(-z[j])),
        z_min=float(z[j]),
        weakest=float(x[j]),
        margin=margin,
    )
