"""Compare two design spaces' (weighted) error EDFs: tests, differences with CIs, best-of-k.

``compare(a, b)`` bundles, in one scipy-style result:
    KS test       unweighted: scipy.stats.ks_2samp; weighted: own D with a permutation p-value;
    Anderson–Darling k-sample (scipy.stats.anderson_ksamp; unweighted samples only);
    differences   Δ = stat(a) − stat(b) for min, mean and quantiles, percentile bootstrap CIs
                  (a and b resampled independently, weights carried along);
    best of k     E[min of k models] per sample, k = 1 … 64, exact formula + bootstrap CI;
    deficit       upper confidence bound of sup_e (F_a(e) − F_b(e)) (b's worst EDF deficit,
                  with a the parent space): :func:`edf_deficit_bound`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import check_count, check_level, make_rng, sample_and_weights
from edftools.stats.power import SettlePlan, models_to_settle
from edftools.stats.summaries import DEFAULT_KS, Estimate, SampleSummary, summarize
from edftools.stats.twosample import (
    DeficitBound,
    KSResult,
    check_alternative,
    edf_deficit_bound,
    ks_permutation,
)


@dataclass(frozen=True)
class ADResult:
    """Anderson–Darling k-sample test (scipy): statistic and p-value (capped to [0.001, 0.25])."""

    statistic: float
    pvalue: float


@dataclass(frozen=True, eq=False)
class CompareResult:
    """Result of :func:`compare`; ``statistic``/``pvalue`` are the KS test's (scipy style).

    Attributes:
        ks: the KS test (scipy's, or weighted with permutation p-value).
        anderson: the Anderson–Darling k-sample test, None for weighted samples.
        a, b: per-sample summaries (min, mean, median, quantiles, best_of_k with CIs).
        differences: stat(a) − stat(b) with bootstrap CIs for "min", "mean", "q0.5", ….
        deficit: bound on sup_e (F_a − F_b), b's worst deficit relative to a.
        weighted: whether either sample carried weights.
    """

    ks: KSResult
    anderson: ADResult | None
    a: SampleSummary
    b: SampleSummary
    differences: dict[str, Estimate]
    deficit: DeficitBound
    weighted: bool

    @property
    def statistic(self) -> float:
        """The KS statistic D."""
        return self.ks.statistic

    @property
    def pvalue(self) -> float:
        """The KS test's p-value."""
        return self.ks.pvalue

    @property
    def median_difference(self) -> Estimate:
        """median(a) − median(b) with its bootstrap CI."""
        return self.differences["q0.5"]

    def best_of(self, k: int = 32) -> tuple[Estimate, Estimate]:
        """E[min of k models] of a and of b, each with its bootstrap CI."""
        return self.a.best_of_k.at(k), self.b.best_of_k.at(k)

    def models_needed(
        self, power: float = 0.8, alpha: float = 0.05, margin: float | None = None
    ) -> SettlePlan:
        """Models per space to settle the comparison (see :func:`models_to_settle`)."""
        return models_to_settle(
            self.ks.statistic, self.deficit.statistic, margin, alpha, power, self.deficit.level
        )


def anderson(a: np.ndarray, b: np.ndarray) -> ADResult:
    """scipy.stats.anderson_ksamp on [a, b] (its warnings about capped p-values silenced)."""
    from scipy import stats

    if np.unique(np.r_[a, b]).size < 2:
        return ADResult(float("nan"), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.anderson_ksamp([a, b])
    return ADResult(float(res.statistic), float(res.pvalue))


def _difference(sa: np.ndarray, sb: np.ndarray, value: float, level: float) -> Estimate:
    reps = sa - sb
    alpha = 1.0 - level
    low, high = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return Estimate(float(value), float(low), float(high), level)


def compare(
    a: Any,
    b: Any,
    weights_a: Any = None,
    weights_b: Any = None,
    alternative: str = "two-sided",
    n_perm: int = 999,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    quantiles: Sequence[float] = (0.1, 0.25, 0.5),
    ks: Sequence[int] = DEFAULT_KS,
    seed: Any = 0,
) -> CompareResult:
    """Compare the error EDFs of two samples (a = reference/parent, b = the other space).

    KS: D = sup_e |F_a − F_b| (or D+ = sup(F_a − F_b) for "greater", D− for "less", as in
    scipy); unweighted samples use ``scipy.stats.ks_2samp`` (exact/asymptotic p-value),
    weighted ones the permutation p-value (1 + #{D* ≥ D}) / (1 + n_perm). Anderson–Darling
    k-sample via scipy for unweighted samples. Differences stat(a) − stat(b) and the
    best-of-k curves come with percentile-bootstrap CIs (``n_boot`` resamples, ``level``).
    """
    from scipy import stats

    ea, wa = sample_and_weights(a, weights_a, "a", "weights_a")
    eb, wb = sample_and_weights(b, weights_b, "b", "weights_b")
    check_alternative(alternative)
    level = check_level(level)
    n_perm = check_count(n_perm, "n_perm")
    n_boot = check_count(n_boot, "n_boot")
    rng = make_rng(seed)
    seeds = rng.integers(0, 2**63 - 1, size=4)
    weighted = wa is not None or wb is not None
    if weighted:
        ks_res = ks_permutation(ea, eb, wa, wb, alternative, n_perm, seeds[0])
        ad = None
    else:
        res = stats.ks_2samp(ea, eb, alternative=alternative)
        ks_res = KSResult(float(res.statistic), float(res.pvalue), "scipy ks_2samp", alternative)
        ad = anderson(ea, eb)
    opts = {"quantiles": quantiles, "ks": ks, "level": level, "n_boot": n_boot}
    sa = summarize(ea, wa, seed=seeds[1], **opts)
    sb = summarize(eb, wb, seed=seeds[2], **opts)
    diffs = {
        "min": _difference(
            sa.replicates["min"], sb.replicates["min"], sa.min.value - sb.min.value, level
        ),
        "mean": _difference(
            sa.replicates["mean"], sb.replicates["mean"], sa.mean.value - sb.mean.value, level
        ),
    }
    for q, est_a in sa.quantiles.items():
        key = f"q{q:g}"
        diffs[key] = _difference(
            sa.replicates[key], sb.replicates[key], est_a.value - sb.quantiles[q].value, level
        )
    deficit = edf_deficit_bound(ea, eb, wa, wb, level=level, n_boot=n_boot, seed=seeds[3])
    return CompareResult(ks_res, ad, sa, sb, diffs, deficit, weighted)


def holm(pvalues: Sequence[float], alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm step-down correction (statsmodels ``multipletests(method="holm")``).

    Returns ``(reject, adjusted)``: p_(i) is adjusted to max_{j ≤ i} min(1, (m − j + 1)·p_(j)).
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise StatsInputError("pvalues must be a non-empty 1-D sequence")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise StatsInputError("pvalues must be numbers in [0, 1]")
    reject, adjusted, _, _ = multipletests(p, alpha=check_level(alpha, "alpha"), method="holm")
    return reject, adjusted
