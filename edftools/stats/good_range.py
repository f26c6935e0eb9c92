"""The empirical bootstrap of DDS (footnote in §3): where do the best models' values lie?

Draw m = round(sample·n) of the (value, error) pairs with replacement, keep the value of the
lowest-error draw, repeat; report the interval [Q(α/2), Q(1 − α/2)] and the median ("the most
likely best value") of the kept values.

Sort the models by error (ranks r = 0 … n−1). The lowest-error draw has rank ≥ r exactly when
all m draws do, so P(R ≥ r) = ((n − r)/n)^m and

    P(R = r) = ((n − r)/n)^m − ((n − r − 1)/n)^m.

Models with tied errors share their group's mass equally (the first drawn of the tied models
is kept, and by symmetry each is equally likely). Hence:
  * method="exact": the bootstrap distribution of the kept value, with no resampling at all;
  * method="bootstrap": n_boot seeded draws of R by inversion, R = ⌊n − n·U^{1/m}⌋ with
    U ~ Uniform(0, 1) (the same law as literally drawing m models and taking the best), O(n_boot).
Quantiles use the generalized inverse (numpy's "inverted_cdf") in both methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import as_sample, check_count, check_level, make_rng
from edftools.stats.defaults import DEFAULT_GOOD_RANGE_N_BOOT, DEFAULT_LEVEL, DEFAULT_SEED
from edftools.stats.interval import inverted_cdf


@dataclass(frozen=True, eq=False)
class GoodRangeResult:
    """Interval [low, high] and median of the best model's value; ``method`` exact/bootstrap.

    ``support``/``probs`` hold the distribution of the kept value (exact: the closed form;
    bootstrap: the empirical frequencies of the draws).
    """

    low: float
    high: float
    median: float
    level: float
    method: str
    draws: int
    support: np.ndarray
    probs: np.ndarray

    def __repr__(self) -> str:
        """Short: the interval and median, no distribution arrays."""
        return (
            f"GoodRangeResult([{self.low:.4g}, {self.high:.4g}] at {self.level:g}, median "
            f"{self.median:.4g}, {self.method}, draws={self.draws})"
        )

    def confidence_interval(self) -> tuple[float, float]:
        """``(low, high)``."""
        return self.low, self.high


def min_rank_probs(n: int, m: int) -> np.ndarray:
    """P(R = r), r = 0 … n−1: the lowest rank among m uniform draws with replacement from n."""
    r = np.arange(n + 1)
    with np.errstate(divide="ignore"):
        tail = np.exp(m * np.log1p(-r / n))
    tail[-1] = 0.0
    return tail[:-1] - tail[1:]


def good_range(
    values: Any,
    errors: Any,
    sample: float = 0.25,
    n_boot: int = DEFAULT_GOOD_RANGE_N_BOOT,
    level: float = DEFAULT_LEVEL,
    seed: Any = DEFAULT_SEED,
    method: str = "bootstrap",
) -> GoodRangeResult:
    """Empirical bootstrap of the best model's value (DDS): interval and median.

    m = max(1, round(sample·n)) draws with replacement per repetition; the kept value is that of
    the lowest-error draw. ``method="exact"`` computes the law of the kept value in closed form,
    P(R = r) = ((n−r)/n)^m − ((n−r−1)/n)^m over error ranks r; ``"bootstrap"`` draws ``n_boot``
    repetitions (seeded) from that same law. See the module docstring.
    """
    v = as_sample(values, "values")
    e = as_sample(errors, "errors")
    if v.size != e.size:
        raise StatsInputError(f"values has length {v.size} but errors has length {e.size}")
    if not 0.0 < float(sample) <= 1.0:
        raise StatsInputError(f"sample must be a fraction in (0, 1], got {sample!r}")
    level = check_level(level)
    if method not in ("bootstrap", "exact"):
        raise StatsInputError(f"method must be 'bootstrap' or 'exact', got {method!r}")
    n = e.size
    m = max(1, round(float(sample) * n))
    order = np.argsort(e, kind="stable")
    v_sorted, e_sorted = v[order], e[order]
    starts = np.flatnonzero(np.r_[True, e_sorted[1:] != e_sorted[:-1]])
    sizes = np.diff(np.r_[starts, n])
    group_of_rank = np.repeat(np.arange(starts.size), sizes)
    if method == "exact":
        group_mass = np.add.reduceat(min_rank_probs(n, m), starts)
        per_model = (group_mass / sizes)[group_of_rank]
        support, inverse = np.unique(v_sorted, return_inverse=True)
        probs = np.asarray(
            np.bincount(inverse, weights=per_model, minlength=support.size), dtype=float
        )
        probs /= probs.sum()
    else:
        n_boot = check_count(n_boot, "n_boot")
        rng = make_rng(seed)
        u = rng.random(n_boot)
        rank = np.floor(n - n * u ** (1.0 / m)).astype(np.int64)
        rank = np.clip(rank, 0, n - 1)
        g = group_of_rank[rank]
        tied = sizes[g] > 1
        if tied.any():  # a tie: each tied model equally likely to be the one kept
            pick = rng.integers(0, sizes[g[tied]])
            rank[tied] = starts[g[tied]] + pick
        support, counts = np.unique(v_sorted[rank], return_counts=True)
        probs = counts / n_boot
    alpha = 1.0 - level
    return GoodRangeResult(
        low=inverted_cdf(support, probs, alpha / 2),
        high=inverted_cdf(support, probs, 1.0 - alpha / 2),
        median=inverted_cdf(support, probs, 0.5),
        level=level,
        method=method,
        draws=m,
        support=support,
        probs=probs,
    )
