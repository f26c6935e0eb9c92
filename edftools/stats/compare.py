"""Compare two design spaces' error EDFs: the step verdict, summaries and their differences.

``compare(a, b)`` treats ``a`` as the reference (parent) and ``b`` as the other (restricted)
space and bundles, in one scipy-style result:

    test          the step verdict of b against a (:func:`edftools.stats.step.step_test`'s
                  tests: one-sided KS both ways, the no-loss test, a weighted step-down over
                  the three),
                  with the two-sided KS statistic and p-value as ``statistic`` / ``pvalue``;
    anderson      Anderson–Darling k-sample (``scipy.stats.anderson_ksamp``; plain EDFs only);
    a, b          min, mean, quantiles and E[best of k] of each sample with bootstrap CIs;
    differences   stat(a) − stat(b) for min, mean and the quantiles, percentile-bootstrap CIs
                  from the two samples' independent resamples.

With complexities both samples are normalized over the range both cover (NDS, ``bins`` bins of
mass 1/K), the KS tests permute labels within bins, and every bootstrap recomputes the
normalization weights in each resample.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from edftools.stats._checks import check_count, check_level
from edftools.stats.defaults import (
    DEFAULT_ALPHA,
    DEFAULT_BEST_OF,
    DEFAULT_BINS,
    DEFAULT_LEVEL,
    DEFAULT_MARGIN_UNIT,
    DEFAULT_N_BOOT,
    DEFAULT_N_PERM,
    DEFAULT_Q_RANGE,
    DEFAULT_QUANTILES,
    DEFAULT_SEED,
)
from edftools.stats.interval import percentile_interval
from edftools.stats.step import StepResult, as_margin, family_test
from edftools.stats.strata import Stratified, stratify_pair
from edftools.stats.summaries import Estimate, SampleSummary, summarize_stratified


@dataclass(frozen=True)
class ADResult:
    """Anderson–Darling k-sample test (scipy): statistic and p-value (capped to [0.001, 0.25])."""

    statistic: float
    pvalue: float


@dataclass(frozen=True, eq=False)
class CompareResult:
    """Result of :func:`compare` (b compared with the reference a).

    Attributes:
        test: the step verdict of b against a, with D+, D−, the no-loss test and p-values.
        statistic, pvalue: the two-sided KS test (scipy's, or within-bin permutations).
        anderson: the Anderson–Darling k-sample test, None for normalized samples.
        a, b: per-sample summaries (min, mean, median, quantiles, best of k with CIs).
        differences: stat(a) − stat(b) with bootstrap CIs for "min", "mean", "q0.5", ….
        normalized: whether the EDFs are complexity-normalized.
    """

    test: StepResult
    statistic: float
    pvalue: float
    anderson: ADResult | None
    a: SampleSummary
    b: SampleSummary
    differences: dict[str, Estimate]
    normalized: bool

    @property
    def verdict(self) -> str:
        """The step verdict of b against a (improves = b better)."""
        return self.test.verdict

    @property
    def median_difference(self) -> Estimate:
        """median(a) − median(b) with its bootstrap CI."""
        return self.differences["q0.5"]

    def best_of(self, k: int = 32) -> tuple[Estimate, Estimate]:
        """E[min of k models] of a and of b, each with its bootstrap CI."""
        return self.a.best_of_k.at(k), self.b.best_of_k.at(k)

    def __repr__(self) -> str:
        med = self.median_difference
        return (
            f"CompareResult(verdict={self.verdict!r}, D={self.statistic:.3f}, "
            f"p={self.pvalue:.3g}, median a−b={med.value:.3g} "
            f"[{med.low:.3g}, {med.high:.3g}], n={self.a.n}/{self.b.n}, "
            f"normalized={self.normalized})"
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


def differences(
    sa: SampleSummary, sb: SampleSummary, level: float = DEFAULT_LEVEL
) -> dict[str, Estimate]:
    """stat(a) − stat(b) for min, mean and each quantile, with percentile-bootstrap CIs from
    the two summaries' replicates (independent resamples of a and of b)."""
    values = {"min": sa.min.value - sb.min.value, "mean": sa.mean.value - sb.mean.value}
    for q, est in sa.quantiles.items():
        values[f"q{q:g}"] = est.value - sb.quantiles[q].value
    out = {}
    for key, value in values.items():
        low, high = percentile_interval(sa.replicates[key] - sb.replicates[key], level)
        out[key] = Estimate(float(value), float(low), float(high), level)
    return out


def compare(
    a: Any,
    b: Any,
    *,
    complexity_a: Any = None,
    complexity_b: Any = None,
    bins: int = DEFAULT_BINS,
    margin: Any = None,
    margin_unit: str = DEFAULT_MARGIN_UNIT,
    q_range: tuple[float, float] = DEFAULT_Q_RANGE,
    alpha: float = DEFAULT_ALPHA,
    n_perm: int = DEFAULT_N_PERM,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    best_of: Sequence[int] = DEFAULT_BEST_OF,
    seed: int = DEFAULT_SEED,
) -> CompareResult:
    """Compare the error EDFs of a (reference) and b: verdict, KS, AD, summaries, differences.

    Verdict and tests as :func:`edftools.step_test` (b is "restricted": improves = b better,
    margin in ``margin_unit``); two-sided KS D = sup_e |F_a − F_b| with scipy's p-value for
    plain samples or a within-bin permutation p-value for normalized ones; differences and
    summaries with percentile-bootstrap CIs (``n_boot`` resamples, ``level``); E[min of k]
    for k in ``best_of``.
    """
    sa_, sb_ = stratify_pair(a, b, complexity_a, complexity_b, bins, names=("a", "b"))
    return compare_stratified(
        sa_,
        sb_,
        margin=as_margin(margin, margin_unit, q_range),
        alpha=alpha,
        n_perm=n_perm,
        n_boot=n_boot,
        level=level,
        quantiles=quantiles,
        best_of=best_of,
        seed=seed,
    )


def compare_stratified(
    a: Stratified,
    b: Stratified,
    *,
    margin: Any = None,
    alpha: float = DEFAULT_ALPHA,
    n_perm: int = DEFAULT_N_PERM,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    best_of: Sequence[int] = DEFAULT_BEST_OF,
    seed: int = DEFAULT_SEED,
) -> CompareResult:
    """:func:`compare` of two stratified samples."""
    level = check_level(level)
    check_count(n_boot, "n_boot")
    seeds = np.random.SeedSequence(seed).spawn(3)
    test = family_test([(a, b)], as_margin(margin), alpha, seeds[0], n_perm)[0]
    summary = partial(
        summarize_stratified, quantiles=quantiles, best_of=best_of, level=level, n_boot=n_boot
    )
    sa = summary(a, seed=seeds[1])
    sb = summary(b, seed=seeds[2])
    normalized = a.normalized or b.normalized
    return CompareResult(
        test=test,
        statistic=max(test.better, test.worse),
        pvalue=test.p_two_sided,
        anderson=None if normalized else anderson(a.errors, b.errors),
        a=sa,
        b=sb,
        differences=differences(sa, sb, level),
        normalized=normalized,
    )
