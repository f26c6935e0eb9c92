"""Statistics of design-space error distributions: pure numpy/scipy/statsmodels, no torch.

Public API (formulas in each function's docstring):
    edf(errors, weights)                         weighted EDF F(e) = Σ w_i·1[e_i < e] / Σ w_i
    normalize_weights(complexity, bins, ...)     NDS complexity normalization w_i = π_k / n_k
    edf_band(errors, weights, grid, level, kind) bootstrap pointwise / sup-norm bands, DKW
    compare(a, b, weights_a, weights_b, ...)     KS, Anderson–Darling, differences, best-of-k
    good_range(values, errors, ...)              DDS empirical bootstrap (or its exact law)
    trend(x, y, ...)                             OLS / quantile regression on log complexity
    power(n, delta, alpha, power)                KS power or models needed per space
and helpers: bootstrap_edf, expected_best, edf_deficit_bound, ks_permutation, holm,
models_to_settle, Normalization.
"""

from __future__ import annotations

from edftools.stats.bands import BootstrapEDF, EDFBand, bootstrap_edf, edf_band
from edftools.stats.compare import ADResult, CompareResult, compare, holm
from edftools.stats.edf import EDF, edf
from edftools.stats.good_range import GoodRangeResult, good_range
from edftools.stats.normalize import Normalization, normalize_weights
from edftools.stats.power import PowerResult, SettlePlan, models_to_settle, power
from edftools.stats.summaries import BestOfK, Estimate, SampleSummary, expected_best, summarize
from edftools.stats.trend import LineFit, TrendResult, trend
from edftools.stats.twosample import (
    DeficitBound,
    KSResult,
    edf_deficit_bound,
    ks_permutation,
    ks_statistic,
)

__all__ = [
    "EDF",
    "ADResult",
    "BestOfK",
    "BootstrapEDF",
    "CompareResult",
    "DeficitBound",
    "EDFBand",
    "Estimate",
    "GoodRangeResult",
    "KSResult",
    "LineFit",
    "Normalization",
    "PowerResult",
    "SampleSummary",
    "SettlePlan",
    "TrendResult",
    "bootstrap_edf",
    "compare",
    "edf",
    "edf_band",
    "edf_deficit_bound",
    "expected_best",
    "good_range",
    "holm",
    "ks_permutation",
    "ks_statistic",
    "models_to_settle",
    "normalize_weights",
    "power",
    "summarize",
    "trend",
]
