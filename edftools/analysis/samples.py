"""Runs → samples, and the statistics asked of them (all computed by :mod:`edftools.stats`).

The one place where the analysis turns a runs frame into per-space samples (errors split into
complexity bins) and asks ``edftools.stats`` for summaries, bands, the step verdicts, plans,
good ranges and trends. Nothing here re-implements a statistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from edftools.analysis.settings import default
from edftools.errors import EdftoolsError, StatsInputError
from edftools.stats import (
    EDFBand,
    GoodRangeResult,
    Margin,
    Normalization,
    PlanResult,
    SampleSummary,
    StepResult,
    Stratified,
    TrendResult,
    edf_band,
    family_test,
    summarize_stratified,
    unstratified,
)
from edftools.stats import good_range as stats_good_range
from edftools.stats import plan as stats_plan
from edftools.stats import trend as stats_trend
from edftools.stats.strata import common_range, stratify

BEST_OF_KS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_BINS: int = default("bins")
GRID_POINTS = 256
#: A plan simulates from a pilot of at most this many models (a seeded subsample).
PLAN_PILOT_MAX = 2000
#: Simulated studies per n in a report's plan (Monte-Carlo SE of a power near 0.8: 2.3 pp).
PLAN_SIMULATIONS = 300


@dataclass(frozen=True, eq=False)
class SpaceSample:
    """One space's selected runs and the models the statistics use.

    ``errors``/``complexity`` hold every selected run; ``stratified`` the models inside the
    normalization range with their complexity bin (one stratum when not normalized);
    ``used`` marks those models among the runs; ``rule`` is the normalization (or None).
    """

    name: str
    errors: np.ndarray
    complexity: np.ndarray | None
    stratified: Stratified
    used: np.ndarray
    rule: Normalization | None

    @property
    def n(self) -> int:
        """Number of models the statistics use."""
        return self.stratified.n

    @property
    def weights(self) -> np.ndarray | None:
        """Normalization weight per run (0 outside the range), or None when not normalized."""
        if self.rule is None:
            return None
        w = np.zeros(self.errors.size)
        w[self.used] = self.stratified.weights
        return w


def build_samples(
    frame: pd.DataFrame,
    spaces: Sequence[str],
    normalize: str = default("normalize"),
    bins: int = DEFAULT_BINS,
    complexity_range: tuple[float, float] | None = None,
) -> list[SpaceSample]:
    """Per-space samples from a selected runs frame (column ``err`` holds the error).

    With ``normalize`` = a complexity column (``flops``, ``params``, ``latency_ms``, ...),
    every space is normalized over the same range (``complexity_range``, default the range all
    spaces cover) with ``bins`` linear bins, the NDS rule: bin k has mass 1/K, a model in it
    weight (1/K)/n_k; ``none``: plain EDFs.
    """
    if normalize != "none" and normalize not in frame.columns:
        raise StatsInputError(
            f"no complexity column {normalize!r} to normalize by (columns: "
            f"{', '.join(map(str, frame.columns))}); or normalize none"
        )
    parts = [frame[frame["space"] == s] for s in spaces]
    errors = [p["err"].to_numpy(dtype=float) for p in parts]
    if normalize == "none":
        return [
            SpaceSample(s, e, None, unstratified(e), np.ones(e.size, dtype=bool), None)
            for s, e in zip(spaces, errors, strict=True)
        ]
    comps = [pd.to_numeric(p[normalize], errors="coerce").to_numpy(dtype=float) for p in parts]
    for s, c in zip(spaces, comps, strict=True):
        if not np.isfinite(c).all():
            raise StatsInputError(
                f"space {s!r} has runs without a numeric {normalize}; use --normalize none"
            )
    try:
        rng = complexity_range or common_range(comps)
    except EdftoolsError as exc:
        raise StatsInputError(f"{exc} (--normalize none)") from None
    rule = Normalization(bins, rng)
    out = []
    for s, e, c in zip(spaces, errors, comps, strict=True):
        sample = stratify(e, c, rule, f"space {s!r}")
        used = rule.assign(c) >= 0
        out.append(SpaceSample(s, e, c, sample, used, rule))
    return out


def summarize(
    sample: SpaceSample, seed: int | np.random.SeedSequence, n_boot: int = default("n_boot")
) -> SampleSummary:
    """min, mean, median and E[best of k] (k in :data:`BEST_OF_KS`) with bootstrap CIs, the
    normalization weights recomputed in every resample."""
    return summarize_stratified(
        sample.stratified, quantiles=(0.5,), best_of=BEST_OF_KS, n_boot=n_boot, seed=seed
    )


def error_grid(samples: Sequence[SpaceSample], points: int = GRID_POINTS) -> np.ndarray:
    """A common error grid over the used models of all samples (for EDFs and bands)."""
    used = np.concatenate([s.stratified.errors for s in samples])
    lo, hi = float(used.min()), float(used.max())
    if lo == hi:
        hi = lo + 1.0
    return np.linspace(lo, hi + 1e-9 * (hi - lo), points)


def band(
    sample: SpaceSample,
    grid: np.ndarray,
    seed: int | np.random.SeedSequence,
    normalized: bool = True,
) -> EDFBand:
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


def verdicts(
    pairs: Sequence[tuple[SpaceSample, SpaceSample]],
    margin: Margin,
    alpha: float,
    seed: int | np.random.SeedSequence,
) -> list[StepResult]:
    """The step verdict of every (parent, restricted) pair, family-wise error ≤ α over all
    of them (``stats.family_test``)."""
    return family_test([(p.stratified, r.stratified) for p, r in pairs], margin, alpha, seed)


def models_needed(
    pilot: SpaceSample, margin: Margin, alpha: float, steps: int, seed: int
) -> PlanResult:
    """``stats.plan`` from a pilot space: models per space for the step to end "no loss" if
    the spaces are equal and "improves" if the restricted one is better by the margin, with
    power 0.8, in a family of ``steps`` steps (a seeded subsample of at most
    :data:`PLAN_PILOT_MAX` models is the pilot)."""
    s = pilot.stratified
    keep = np.arange(s.n)
    if s.n > PLAN_PILOT_MAX:
        keep = np.sort(np.random.default_rng(seed).choice(s.n, PLAN_PILOT_MAX, replace=False))
    complexity = None
    if pilot.complexity is not None:
        complexity = pilot.complexity[pilot.used][keep]
    return stats_plan(
        s.errors[keep],
        pilot_complexity=complexity,
        bins=s.bins,
        margin=margin,
        alpha=alpha,
        steps=steps,
        n_sim=PLAN_SIMULATIONS,
        seed=seed,
    )


def good_range(values: np.ndarray, errors: np.ndarray) -> GoodRangeResult:
    """DDS empirical bootstrap of the best model's value (draw 25% of the (value, error) pairs
    with replacement, keep the value of the lowest error), computed from its exact law
    (``stats.good_range(method="exact")``, the limit of infinitely many repetitions)."""
    return stats_good_range(values, errors, sample=0.25, method="exact")


def trend(x: np.ndarray, y: np.ndarray, errors: np.ndarray, top: float = 0.25) -> TrendResult:
    """OLS regression of a parameter on log complexity among the good models
    (error ≤ the ``top`` quantile): y = β0 + β1·log x (``stats.trend``)."""
    return stats_trend(x, y, errors=errors, top=top, quantiles=())
