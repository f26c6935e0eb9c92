"""Statistics of design-space error distributions: pure numpy/scipy/statsmodels, no torch.

Public API (formulas in each function's docstring):
    edf(errors, weights)                         weighted EDF F(e) = Σ w_i·1[e_i < e] / Σ w_i
    normalize_weights(complexity, bins, ...)     NDS complexity normalization w_i = π_k / n_k
    edf_band(errors, ..., kind)                  bootstrap pointwise / sup-norm bands, DKW
    step_test(parent, restricted, ...)           one restriction step: verdict and its tests
    chain_test / family_test                     many steps, family-wise error ≤ α
    plan(pilot_errors, margin, ...)              models per space that decide a step
    compare(a, b, ...)                           verdict, KS, Anderson–Darling, differences
    summarize(errors, ...)                       min, mean, quantiles, best of k with CIs
    good_range(values, errors, ...)              DDS empirical bootstrap (or its exact law)
    trend(x, y, ...)                             OLS / quantile regression on log complexity
    power(n, delta, alpha, power)                power of one KS test, or its n
and the pieces: pair_test (one-sided KS both ways), no_loss_test, holm, step_down, Margin,
Stratified / stratify_together (samples split into complexity bins), ks_statistic.
"""

from __future__ import annotations

from edftools.stats.bands import BootstrapEDF, EDFBand, bootstrap_edf, edf_band
from edftools.stats.compare import ADResult, CompareResult, compare, compare_stratified
from edftools.stats.edf import EDF, edf
from edftools.stats.good_range import GoodRangeResult, good_range
from edftools.stats.multiplicity import holm, step_down
from edftools.stats.noloss import Margin, NoLossTest, no_loss_test
from edftools.stats.normalize import Normalization, normalize_weights
from edftools.stats.pairtest import PairTest, ks_statistic, pair_test
from edftools.stats.plan import PlanResult, plan
from edftools.stats.power import PowerResult, power
from edftools.stats.sequential import SequentialChain, SequentialDesign
from edftools.stats.step import StepResult, chain_test, family_test, step_test
from edftools.stats.strata import Stratified, stratify_together, unstratified
from edftools.stats.summaries import (
    BestOfK,
    Estimate,
    SampleSummary,
    expected_best,
    summarize,
    summarize_stratified,
)
from edftools.stats.trend import LineFit, TrendResult, trend
from edftools.stats.verdicts import VERDICTS

__all__ = [
    "EDF",
    "VERDICTS",
    "ADResult",
    "BestOfK",
    "BootstrapEDF",
    "CompareResult",
    "EDFBand",
    "Estimate",
    "GoodRangeResult",
    "LineFit",
    "Margin",
    "NoLossTest",
    "Normalization",
    "PairTest",
    "PlanResult",
    "PowerResult",
    "SampleSummary",
    "SequentialChain",
    "SequentialDesign",
    "StepResult",
    "Stratified",
    "TrendResult",
    "bootstrap_edf",
    "chain_test",
    "compare",
    "compare_stratified",
    "edf",
    "edf_band",
    "expected_best",
    "family_test",
    "good_range",
    "holm",
    "ks_statistic",
    "no_loss_test",
    "normalize_weights",
    "pair_test",
    "plan",
    "power",
    "step_down",
    "step_test",
    "stratify_together",
    "summarize",
    "summarize_stratified",
    "trend",
    "unstratified",
]
