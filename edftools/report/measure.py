"""The numbers behind the reports, all computed by :mod:`edftools.stats`.

This module is the one place where the report calls the statistics API: it turns a runs
frame into per-space samples (errors + complexity-normalization weights) and asks
``edftools.stats`` for summaries, bands, tests, the equivalence bound, good ranges, trends
and power. Nothing here re-implements a statistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from edftools.errors import EdftoolsError, StatsInputError
from edftools.report.data import NORMALIZE_CHOICES
from edftools.stats import (
    CompareResult,
    EDFBand,
    GoodRangeResult,
    Normalization,
    SampleSummary,
    TrendResult,
    edf_band,
    edf_deficit_bound,
    ks_permutation,
    ks_statistic,
    models_to_settle,
    normalize_weights,
)
from edftools.stats import compare as stats_compare
from edftools.stats import good_range as stats_good_range
from edftools.stats import summarize as stats_summarize
from edftools.stats import trend as stats_trend

BEST_OF_KS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_BINS = 8
GRID_POINTS = 256


@dataclass(frozen=True, eq=False)
class SpaceSample:
    """One space's models: errors, complexity and the normalization weights.

    ``weights`` is None for plain EDFs, else the NDS weights (0 for a model outside the common
    range); ``rule`` is the :class:`~edftools.stats.normalize.Normalization` they came from.
    """

    name: str
    errors: np.ndarray
    complexity: np.ndarray | None
    weights: np.ndarray | None
    rule: Normalization | None

    @property
    def n(self) -> int:
        """Number of models that carry weight (all of them when not normalized)."""
        return int(self.errors.size if self.weights is None else np.count_nonzero(self.weights))

    @property
    def used(self) -> np.ndarray:
        """Boolean mask of the models that carry weight."""
        if self.weights is None:
            return np.ones(self.errors.size, dtype=bool)
        return self.weights > 0


def common_range(complexities: Sequence[np.ndarray]) -> tuple[float, float]:
    """The complexity range all spaces cover: (max_s min c_s, min_s max c_s), widened by
    10⁻⁶ of its span on each side so the extreme models are inside the strict range."""
    lo = max(float(np.min(c)) for c in complexities)
    hi = min(float(np.max(c)) for c in complexities)
    if not lo < hi:
        raise StatsInputError(
            f"the spaces' complexity ranges do not overlap (common range [{lo:.4g}, {hi:.4g}]); "
            "use --normalize none"
        )
    pad = 1e-6 * (hi - lo)
    return lo - pad, hi + pad


def build_samples(
    frame: pd.DataFrame,
    spaces: Sequence[str],
    normalize: str = "flops",
    bins: int = DEFAULT_BINS,
    complexity_range: tuple[float, float] | None = None,
) -> list[SpaceSample]:
    """Per-space samples from a selected runs frame (column ``err`` holds the error).

    With ``normalize`` = ``flops`` or ``params``, every space is normalized over the same
    range (``complexity_range``, default :func:`common_range`) with ``bins`` linear bins:
    w_i = (1/K)/n_k for a model in bin k (``normalize_weights``, the NDS rule).
    """
    if normalize not in NORMALIZE_CHOICES:
        raise StatsInputError(f"normalize must be one of {NORMALIZE_CHOICES}, got {normalize!r}")
    parts = [frame[frame["space"] == s] for s in spaces]
    errors = [p["err"].to_numpy(dtype=float) for p in parts]
    if normalize == "none":
        return [SpaceSample(s, e, None, None, None) for s, e in zip(spaces, errors, strict=True)]
    comps = [pd.to_numeric(p[normalize], errors="coerce").to_numpy(dtype=float) for p in parts]
    for s, c in zip(spaces, comps, strict=True):
        if not np.isfinite(c).all():
            raise StatsInputError(f"space {s!r} has runs without {normalize}; use --normalize none")
    rng = complexity_range or common_range(comps)
    rule = Normalization(bins, rng)
    out = []
    for s, e, c in zip(spaces, errors, comps, strict=True):
        try:
            w = normalize_weights(c, bins, range=rng)
        except EdftoolsError as exc:
            raise StatsInputError(f"space {s!r}: {exc}") from None
        out.append(SpaceSample(s, e, c, w, rule))
    return out


def summarize(sample: SpaceSample, seed: int, n_boot: int = 1000) -> SampleSummary:
    """min, mean, median and E[best of k] (k in :data:`BEST_OF_KS`) with bootstrap CIs."""
    used = sample.used
    w = None if sample.weights is None else sample.weights[used]
    return stats_summarize(
        sample.errors[used], w, quantiles=(0.5,), ks=BEST_OF_KS, n_boot=n_boot, seed=seed
    )


def error_grid(samples: Sequence[SpaceSample], points: int = GRID_POINTS) -> np.ndarray:
    """A common error grid over the used models of all samples (for EDFs and bands)."""
    used = np.concatenate([s.errors[s.used] for s in samples])
    lo, hi = float(used.min()), float(used.max())
    if lo == hi:
        hi = lo + 1.0
    return np.linspace(lo, hi + 1e-9 * (hi - lo), points)


def band(sample: SpaceSample, grid: np.ndarray, seed: int, normalized: bool = True) -> EDFBand:
    """Pointwise 95% bootstrap band of the (normalized) EDF on ``grid``; with normalization
    the NDS weights are recomputed in every resample (``edf_band(normalization=...)``)."""
    if normalized and sample.rule is not None:
        return edf_band(
            sample.errors,
            grid=grid,
            seed=seed,
            complexity=sample.complexity,
            normalization=sample.rule,
        )
    return edf_band(sample.errors, grid=grid, seed=seed)


@dataclass(frozen=True)
class StepTest:
    """A parent → restricted comparison.

    ``ks_d`` = sup_e |F_r − F_p| with ``p_value`` (two-sided; weighted KS with a permutation
    p-value when normalized, ``scipy.stats.ks_2samp`` otherwise); ``gain`` = sup_e (F_r − F_p);
    ``deficit`` = sup_e (F_p − F_r) and ``deficit_upper`` its bootstrap 95% upper bound.
    """

    ks_d: float
    p_value: float
    method: str
    gain: float
    deficit: float
    deficit_upper: float


def _used(sample: SpaceSample) -> tuple[np.ndarray, np.ndarray | None]:
    used = sample.used
    return sample.errors[used], None if sample.weights is None else sample.weights[used]


def step_test(
    parent: SpaceSample,
    restricted: SpaceSample,
    seed: int | np.random.SeedSequence,
    n_boot: int = 1000,
    n_perm: int = 4999,
) -> StepTest:
    """Two-sided KS test of parent vs restricted (``scipy.stats.ks_2samp`` for plain EDFs,
    ``stats.ks_permutation`` for normalized ones, as ``stats.compare`` does), the largest gain
    sup_e(F_r − F_p) (``stats.ks_statistic``) and the deficit bound of sup_e(F_p − F_r)
    (``stats.edf_deficit_bound``)."""
    ep, wp = _used(parent)
    er, wr = _used(restricted)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    s_perm, s_boot = (np.random.default_rng(s) for s in root.spawn(2))
    if wp is None and wr is None:
        from scipy.stats import ks_2samp

        res = ks_2samp(ep, er)
        d, p, method = float(res.statistic), float(res.pvalue), "scipy ks_2samp"
    else:
        perm = ks_permutation(ep, er, wp, wr, n_perm=n_perm, seed=s_perm)
        d, p, method = perm.statistic, perm.pvalue, perm.method
    bound = edf_deficit_bound(ep, er, wp, wr, n_boot=n_boot, seed=s_boot)
    return StepTest(d, p, method, gain(parent, restricted), bound.statistic, bound.upper)


def compare_result(
    a: SpaceSample,
    b: SpaceSample,
    seed: int | np.random.SeedSequence,
    n_boot: int = 1000,
    n_perm: int = 4999,
) -> CompareResult:
    """``stats.compare`` of two samples (a = reference): KS, AD, differences, deficit bound."""
    ea, wa = _used(a)
    eb, wb = _used(b)
    rng = np.random.default_rng(seed)
    return stats_compare(
        ea, eb, wa, wb, n_perm=n_perm, n_boot=n_boot, ks=BEST_OF_KS, quantiles=(0.5,), seed=rng
    )


def models_needed(test: StepTest, margin: float, alpha: float) -> int:
    """Models per space that would settle an inconclusive step, taking the observed EDF
    difference as the truth: the smaller of the n that detects δ = D with power 0.8
    (``stats.models_to_settle``: N = ((c_α + z_0.8/2)/δ)², n = 2N) and the n that brings the
    deficit bound below the margin (n = 2·(q/(margin − D⁻))², q = sqrt(ln(1/0.05)/2))."""
    plan = models_to_settle(test.ks_d, test.deficit, margin, alpha=alpha)
    options = [plan.n_detect] + ([plan.n_equivalence] if plan.n_equivalence else [])
    return int(min(options))


def gain(a: SpaceSample, b: SpaceSample) -> float:
    """sup_e (F_b(e) − F_a(e)): how far b's EDF rises above a's (``stats.ks_statistic``)."""
    ea, wa = _used(a)
    eb, wb = _used(b)
    return ks_statistic(ea, eb, wa, wb, alternative="less")


def good_range(
    values: np.ndarray, errors: np.ndarray, seed: int | np.random.SeedSequence
) -> GoodRangeResult:
    """DDS empirical bootstrap of the best model's value (draw 25% of the (value, error) pairs
    with replacement, keep the value of the lowest error), computed from its exact law
    (``stats.good_range(method="exact")``, the limit of infinitely many repetitions; ``seed``
    is unused by the exact law and kept for a sampled variant)."""
    del seed
    return stats_good_range(values, errors, sample=0.25, method="exact")


def trend(x: np.ndarray, y: np.ndarray, errors: np.ndarray, top: float = 0.25) -> TrendResult:
    """OLS regression of a parameter on log complexity among the good models
    (error ≤ the ``top`` quantile): y = β0 + β1·log x (``stats.trend``)."""
    return stats_trend(x, y, errors=errors, top=top, quantiles=())
