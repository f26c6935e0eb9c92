"""Per-sample summaries with bootstrap confidence intervals, and the expected best of k models.

Expected best of k (the random-search-efficiency curve of NDS): draw k models with replacement
with probabilities p_j (normalized weights) and keep the lowest error. With distinct errors
x_1 < … < x_D and tail masses S_j = Σ_{i ≥ j} p_i, P(min ≥ x_j) = S_j^k, so exactly

    E[min_k]   = x_1 + Σ_{j ≥ 2} (x_j − x_{j−1})·S_j^k,
    E[min_k²]  = x_1² + Σ_{j ≥ 2} (x_j² − x_{j−1}²)·S_j^k,   sd = sqrt(E[min_k²] − E[min_k]²),

no simulation needed. Bootstrap CIs resample the models (weights carried along) and recompute
every summary from the same exact multinomial draws (:mod:`edftools.stats.resample`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import check_count, check_level, make_rng, sample_and_weights
from edftools.stats.defaults import (
    DEFAULT_BEST_OF,
    DEFAULT_LEVEL,
    DEFAULT_N_BOOT,
    DEFAULT_QUANTILES,
    DEFAULT_SEED,
)
from edftools.stats.interval import inverted_cdf_index, percentile_interval
from edftools.stats.normalize import Normalization
from edftools.stats.pairtest import cell_bounds
from edftools.stats.resample import Categories, categorize, original_edf, resample_edfs
from edftools.stats.strata import Stratified, stratify, unstratified

_SUMMARY_CELLS = 256
_TINY = 1e-20
_CHUNK_ENTRIES = 2_000_000


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a percentile-bootstrap confidence interval [low, high]."""

    value: float
    low: float
    high: float
    level: float

    def confidence_interval(self) -> tuple[float, float]:
        """``(low, high)``, in the style of scipy's result objects."""
        return self.low, self.high


@dataclass(frozen=True, eq=False)
class BestOfK:
    """Expected best (lowest) error of k random models, k in ``ks``.

    ``mean[i]`` = E[min of ks[i] draws], ``sd[i]`` its spread over trials (NDS plots mean ± 2 sd),
    ``low``/``high`` the bootstrap CI of the mean at ``level``.
    """

    ks: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float

    def __repr__(self) -> str:
        """Short: the largest k's expected best error with its CI."""
        k = int(self.ks[-1])
        return (
            f"BestOfK({self.ks.size} k from {int(self.ks[0])} to {k}; best of {k}: "
            f"{self.mean[-1]:.4g} [{self.low[-1]:.4g}, {self.high[-1]:.4g}])"
        )

    def at(self, k: int) -> Estimate:
        """The estimate with CI for one k (must be one of ``ks``)."""
        hits = np.flatnonzero(self.ks == k)
        if hits.size == 0:
            raise StatsInputError(f"k={k} was not computed; available: {self.ks.tolist()}")
        i = int(hits[0])
        return Estimate(float(self.mean[i]), float(self.low[i]), float(self.high[i]), self.level)


@dataclass(frozen=True, eq=False)
class SampleSummary:
    """min, mean, quantiles and best-of-k of one sample, each with a bootstrap CI."""

    n: int
    min: Estimate
    mean: Estimate
    median: Estimate
    quantiles: dict[float, Estimate]
    best_of_k: BestOfK
    replicates: dict[str, np.ndarray]

    def __repr__(self) -> str:
        """Short: the estimates with their CIs, no bootstrap replicates."""

        def est(e: Estimate) -> str:
            return f"{e.value:.4g} [{e.low:.4g}, {e.high:.4g}]"

        return (
            f"SampleSummary(n={self.n}, min={est(self.min)}, mean={est(self.mean)}, "
            f"median={est(self.median)}, {self.best_of_k!r})"
        )


def check_ks(ks: Sequence[int]) -> np.ndarray:
    """``ks`` (the k of best-of-k) as a sorted array of distinct positive ints."""
    arr = np.unique(np.asarray([check_count(k, "k") for k in ks], dtype=np.int64))
    if arr.size == 0:
        raise StatsInputError("best_of is empty: give at least one k ≥ 1")
    return arr


def best_of_k_from_tails(
    points: np.ndarray, tails: np.ndarray, ks: np.ndarray, with_sd: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """E[min_k] and sd(min_k) for rows of tail masses S (shape (B, D) → (B, K) twice).

    ``tails[:, j]`` = S_j = P(error ≥ points[j]); S_0 = 1. ``sd`` is None unless ``with_sd``.
    """
    steps = np.diff(points)[:, None]
    if with_sd:
        steps = np.column_stack([steps[:, 0], np.diff(points**2)])
    s = np.clip(tails[:, 1:], 0.0, 1.0)
    b = tails.shape[0]
    moments = np.empty((b, ks.size, steps.shape[1]))
    power = s.copy()
    done = 1
    for i, k in enumerate(ks):
        if k - done == 1:
            np.multiply(power, s, out=power)
        elif k > done:
            power *= s ** (k - done)
        done = k
        moments[:, i, :] = power @ steps
        if i % 4 == 3:
            # S_j^k is non-increasing in j: drop the trailing columns where every row fell
            # below 1e-20 (terms below float precision; subnormal products are slow)
            live = np.flatnonzero(power.max(axis=0) > _TINY)
            cut = int(live[-1]) + 1 if live.size else 0
            power, s, steps = power[:, :cut], s[:, :cut], steps[:cut]
    mean = points[0] + moments[:, :, 0]
    if not with_sd:
        return mean, None
    sq = points[0] ** 2 + moments[:, :, 1]
    return mean, np.sqrt(np.maximum(sq - mean**2, 0.0))


def _stats_from_edf_rows(
    points: np.ndarray,
    below: np.ndarray,
    quantiles: np.ndarray,
    ks: np.ndarray,
    with_sd: bool = False,
) -> dict[str, np.ndarray]:
    """Summaries per row; ``below[:, j]`` = F(points[j]) (mass < x_j), ``below[:, D]`` = 1."""
    cum_le = below[:, 1:]  # mass ≤ x_j
    mass = np.diff(below, axis=1)
    out: dict[str, np.ndarray] = {
        "min": points[np.argmax(mass > 0, axis=1)],
        "mean": mass @ points,
    }
    d = points.size
    for q in quantiles:
        out[f"q{q:g}"] = points[inverted_cdf_index(cum_le, q)]
    mean, sd = best_of_k_from_tails(points, 1.0 - below[:, :d], ks, with_sd)
    out["best_of_k"] = mean
    if sd is not None:
        out["best_of_k_sd"] = sd
    return out


def _interval(value: float, reps: np.ndarray, level: float) -> Estimate:
    low, high = percentile_interval(reps, level)
    return Estimate(float(value), float(low), float(high), level)


def summarize(
    errors: Any,
    weights: Any = None,
    *,
    complexity: Any = None,
    normalization: Normalization | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    best_of: Sequence[int] = DEFAULT_BEST_OF,
    level: float = DEFAULT_LEVEL,
    n_boot: int = DEFAULT_N_BOOT,
    seed: Any = DEFAULT_SEED,
) -> SampleSummary:
    """min, mean, quantiles Q(q) and E[min of k] of a (weighted) sample with bootstrap CIs.

    Quantiles use the generalized inverse Q(q) = min{x : F(x+) ≥ q}. CIs are percentile
    bootstrap intervals over ``n_boot`` resamples of the models. With ``weights`` the weights
    are carried along; with ``complexity`` and a :class:`Normalization` the NDS weights
    w_i = π_k / n*_k are recomputed in every resample (as :func:`edf_band` does). The bootstrap
    CI of the minimum is known to be unreliable (the minimum is not smooth).
    """
    if normalization is not None or complexity is not None:
        if weights is not None:
            raise StatsInputError("give either weights or complexity with normalization")
        if normalization is None or complexity is None:
            raise StatsInputError("normalization needs the models' complexity, and vice versa")
        sample = stratify(errors, complexity, normalization, "errors")
        return summarize_stratified(
            sample, quantiles=quantiles, best_of=best_of, level=level, n_boot=n_boot, seed=seed
        )
    e, w = sample_and_weights(errors, weights)
    if w is None:
        return summarize_stratified(
            unstratified(e),
            quantiles=quantiles,
            best_of=best_of,
            level=level,
            n_boot=n_boot,
            seed=seed,
        )
    points = np.unique(e)
    cat = categorize(e, np.r_[points, np.nextafter(points[-1], np.inf)], weights=w)
    return _summary(points, cat, cat, quantiles, best_of, level, n_boot, seed, e.size)


def summarize_stratified(
    sample: Stratified,
    *,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    best_of: Sequence[int] = DEFAULT_BEST_OF,
    level: float = DEFAULT_LEVEL,
    n_boot: int = DEFAULT_N_BOOT,
    seed: Any = DEFAULT_SEED,
) -> SampleSummary:
    """:func:`summarize` of a stratified sample, weights recomputed in every resample.

    The point estimates are exact. The resamples are exact draws too when the sample has at
    most 2,048 distinct errors; above that, errors are grouped into 256 quantile cells, each
    represented by its largest error (a resolution of 1/256 of the sample, well inside the
    intervals of a sample that large).
    """
    e = sample.errors
    points = np.unique(e)
    exact = categorize(e, np.r_[points, np.nextafter(points[-1], np.inf)], weights=sample.weights)
    bounds = cell_bounds(e, coarse=_SUMMARY_CELLS)
    cells = bounds[np.minimum(np.searchsorted(bounds, e, side="left"), bounds.size - 1)]
    grid = np.r_[bounds, np.nextafter(bounds[-1], np.inf)]
    boot = categorize(cells, grid, strata=sample.strata, stratum_mass=sample.pi)
    return _summary(points, exact, (bounds, boot), quantiles, best_of, level, n_boot, seed, e.size)


def _summary(
    points: np.ndarray,
    exact: Categories,
    boot: Categories | tuple[np.ndarray, Categories],
    quantiles: Sequence[float],
    best_of: Sequence[int],
    level: float,
    n_boot: int,
    seed: Any,
    n: int,
) -> SampleSummary:
    level = check_level(level)
    n_boot = check_count(n_boot, "n_boot")
    ks_arr = check_ks(best_of)
    qs = np.unique(np.r_[np.asarray(quantiles, dtype=float), 0.5])
    if (qs < 0).any() or (qs > 1).any():
        raise StatsInputError(f"quantiles must be in [0, 1], got {list(quantiles)}")
    boot_points, boot_cat = boot if isinstance(boot, tuple) else (points, boot)
    est = _stats_from_edf_rows(points, original_edf(exact)[None, :], qs, ks_arr, True)
    rng = make_rng(seed)
    chunk = max(1, min(n_boot, _CHUNK_ENTRIES // ((boot_points.size + 1) * 2)))
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, n_boot, chunk):
        rows = resample_edfs(boot_cat, min(chunk, n_boot - start), rng)
        parts.append(_stats_from_edf_rows(boot_points, rows, qs, ks_arr))
    reps = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    low, high = percentile_interval(reps["best_of_k"], level)
    best = BestOfK(
        ks=ks_arr,
        mean=est["best_of_k"][0],
        sd=est["best_of_k_sd"][0],
        low=low,
        high=high,
        level=level,
    )
    quant = {float(q): _interval(est[f"q{q:g}"][0], reps[f"q{q:g}"], level) for q in qs}
    return SampleSummary(
        n=int(n),
        min=_interval(est["min"][0], reps["min"], level),
        mean=_interval(est["mean"][0], reps["mean"], level),
        median=quant[0.5],
        quantiles=quant,
        best_of_k=best,
        replicates=reps,
    )


def expected_best(
    errors: Any,
    weights: Any = None,
    best_of: Sequence[int] = DEFAULT_BEST_OF,
    level: float = DEFAULT_LEVEL,
    n_boot: int = DEFAULT_N_BOOT,
    seed: Any = DEFAULT_SEED,
) -> BestOfK:
    """Random-search efficiency: E[min error of k models drawn ∝ weights], k in ``ks``.

    Exact formula E[min_k] = x_1 + Σ_{j≥2}(x_j − x_{j−1})·S_j^k over the distinct errors x_j with
    tail masses S_j; CI by bootstrap over models. See the module docstring.
    """
    return summarize(
        errors, weights, quantiles=(), best_of=best_of, level=level, n_boot=n_boot, seed=seed
    ).best_of_k
