"""Samples split into complexity strata: the one representation every normalized test uses.

NDS normalization (:mod:`edftools.stats.normalize`) cuts the complexity range into K bins and
gives bin k the mass π_k (1/K), so the normalized EDF is the mixture of the per-bin EDFs

    F(e) = Σ_k π_k · F_k(e),      F_k(e) = #{i in bin k : e_i ≤ e} / n_k       (right limits),

i.e. the weighted EDF with w_i = π_k / n_k. A :class:`Stratified` sample keeps what that needs
and what the resampling tests need: the errors of the models inside the range, their bin, and
π. An unnormalized sample is the special case K = 1 (one stratum, π = (1,)).

Tests condition on the strata: a permutation test permutes labels *within* bins (the bin
counts of both samples stay fixed, so the weights do too), and a bootstrap resamples models
and recomputes w_i = π_k / n*_k in every resample.

**Test strata finer than the K bins.** Permuting within a bin is exact when the two spaces'
errors are exchangeable inside it. When error varies with complexity *inside* a bin and the
spaces' complexity laws differ there, they are not, and the bias this leaves grows like √n
against the statistic's noise while K stays fixed (at 10,000 models per space the 8-bin test
said "worse" or "improves" to equal spaces 5–34% of the time in
``benchmarks/bench_calibration.py``). :func:`permutation_strata` therefore cuts each bin into
s_k = max(1, ⌊√N_k / :data:`SUBSTRATUM_SCALE`⌋) groups of equal pooled count by complexity
(N_k = both samples' models in bin k): one group per bin below N_k = 64 (the NDS test as it
was), 3 at N_k = 250, 12 at N_k = 2,500. Labels are permuted within groups, which keeps
every bin's counts (the reported NDS 8-bin EDF and its weights stay what they are).

The test is *exact* (P(p ≤ a) ≤ a for every a and any number of permutations) given errors
exchangeable within the groups — e.g. errors independent of complexity inside a bin. With
equal errors at equal complexity but different complexity laws inside a group it is
approximate: the two spaces' mean complexities in a group of complexity width w differ by
O(w²) (the difference of the laws' log-density slopes times Var(f) ≈ w²/12), and w shrinks
like 1/√N_k, so the bias falls like 1/n while the statistic's noise falls like 1/√n. On the
benchmark's confounded nulls (four complexity laws, n = 100 … 20,000, 400 studies per cell)
P(false improves, worse or mixed) was 0.020–0.065 (MC SE ≤ 0.012), none above 0.05 by two SE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import as_sample
from edftools.stats.normalize import Normalization, bin_models

#: Bin k is cut into max(1, ⌊√N_k / SUBSTRATUM_SCALE⌋) test strata (module docstring).
SUBSTRATUM_SCALE = 4.0


@dataclass(frozen=True, eq=False)
class Stratified:
    """One sample's errors with their complexity bin (see the module docstring).

    Attributes:
        errors: errors of the models used (inside the normalization range), shape (n,).
        strata: bin index 0 … K−1 of each model, shape (n,).
        pi: bin masses π_k, shape (K,), summing to 1.
        dropped: number of models left out (complexity outside the range).
        complexity: the models' complexities (normalized samples; None: not known), which
            :func:`permutation_strata` cuts the bins by.
    """

    errors: np.ndarray
    strata: np.ndarray
    pi: np.ndarray
    dropped: int = 0
    complexity: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of models used."""
        return int(self.errors.size)

    @property
    def bins(self) -> int:
        """Number of strata K (1 = not normalized)."""
        return int(self.pi.size)

    @property
    def normalized(self) -> bool:
        """Whether the sample carries NDS weights (more than one stratum)."""
        return self.pi.size > 1

    @property
    def counts(self) -> np.ndarray:
        """n_k, the number of models per bin."""
        return np.bincount(self.strata, minlength=self.pi.size)

    @property
    def weights(self) -> np.ndarray:
        """w_i = π_k / n_k (they sum to 1)."""
        return (self.pi / np.maximum(self.counts, 1))[self.strata]

    @cached_property
    def sorted_bins(self) -> tuple[np.ndarray, ...]:
        """The errors of each bin, sorted ascending."""
        order = np.argsort(self.errors, kind="stable")
        e, s = self.errors[order], self.strata[order]
        return tuple(e[s == k] for k in range(self.pi.size))

    def bin_cdfs(self, x: Any) -> np.ndarray:
        """F_k(x) = #{i in k : e_i ≤ x}/n_k per bin, shape (K, len(x)); 0 for an empty bin."""
        xs = np.atleast_1d(np.asarray(x, dtype=float))
        out = np.zeros((self.pi.size, xs.size))
        for k, sorted_k in enumerate(self.sorted_bins):
            if sorted_k.size:
                out[k] = np.searchsorted(sorted_k, xs, side="right") / sorted_k.size
        return out

    def cdf(self, x: Any) -> np.ndarray:
        """F(x) = Σ_k π_k·F_k(x) at each x (right limits)."""
        return self.pi @ self.bin_cdfs(x)

    def variance(self, x: Any) -> np.ndarray:
        """Var F̂(x) given the bin counts: Σ_k π_k² F_k(1 − F_k)/n_k, with F_k kept inside
        [1/(2n_k), 1 − 1/(2n_k)] so a bin with all models on one side still has spread."""
        n_k = np.maximum(self.counts, 1)[:, None]
        f = np.clip(self.bin_cdfs(x), 0.5 / n_k, 1.0 - 0.5 / n_k)
        return (self.pi**2) @ (f * (1.0 - f) / n_k)


def permutation_strata(a: Stratified, b: Stratified) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The permutation test's strata of two samples binned by one rule: each bin k cut into
    s_k groups of equal pooled count by complexity (module docstring). Returns the group of
    every model of ``a`` and of ``b`` and the bin of every group. Without complexities, the
    groups are the bins."""
    if a.complexity is None or b.complexity is None:
        return a.strata, b.strata, np.arange(a.pi.size)
    strata = np.r_[a.strata, b.strata]
    order = np.lexsort((np.r_[a.complexity, b.complexity], strata))
    group = np.empty(strata.size, dtype=np.int64)
    bins: list[int] = []
    start = 0
    for k, size in enumerate(np.bincount(strata, minlength=a.pi.size)):
        parts = max(1, int(np.sqrt(size) / SUBSTRATUM_SCALE))
        rank = np.arange(size)
        group[order[start : start + size]] = len(bins) + rank * parts // max(size, 1)
        bins.extend([k] * parts)
        start += size
    return group[: a.n], group[a.n :], np.asarray(bins, dtype=np.int64)


def unstratified(errors: Any, name: str = "errors") -> Stratified:
    """A plain sample: one stratum, every model weight 1/n."""
    e = as_sample(errors, name)
    return Stratified(e, np.zeros(e.size, dtype=np.int64), np.ones(1))


def common_range(complexities: Sequence[np.ndarray]) -> tuple[float, float]:
    """The complexity range every sample covers, (max_s min c_s, min_s max c_s), widened by
    10⁻⁶ of its span on each side so the extreme models fall inside the strict range."""
    lo = max(float(np.min(c)) for c in complexities)
    hi = min(float(np.max(c)) for c in complexities)
    if not lo < hi:
        raise StatsInputError(
            f"the samples' complexity ranges do not overlap (common range [{lo:.4g}, {hi:.4g}]); "
            "compare them without normalization"
        )
    pad = 1e-6 * (hi - lo)
    return lo - pad, hi + pad


def stratify(
    errors: Any,
    complexity: Any,
    rule: Normalization,
    name: str = "sample",
) -> Stratified:
    """Bin a sample by complexity with ``rule`` (models outside its range are dropped).

    Raises StatsInputError naming the sample and its empty bins.
    """
    e = as_sample(errors, f"{name} errors")
    c = as_sample(complexity, f"{name} complexity")
    if c.size != e.size:
        raise StatsInputError(f"{name}: {c.size} complexities for {e.size} errors")
    try:
        idx, pi = bin_models(c, rule)
    except StatsInputError as exc:
        raise StatsInputError(f"{name}: {exc}") from None
    keep = idx >= 0
    if not keep.any():
        raise StatsInputError(f"{name}: no model lies inside the normalization range")
    return Stratified(e[keep], idx[keep].astype(np.int64), pi, int((~keep).sum()), c[keep])


def stratify_together(
    errors: Sequence[Any],
    complexities: Sequence[Any] | None,
    bins: int,
    names: Sequence[str] | None = None,
    log: bool = False,
) -> list[Stratified]:
    """Samples normalized over the range they all cover (NDS: each bin mass 1/K), or plain
    samples when ``complexities`` is None."""
    names = list(names or [f"sample {i + 1}" for i in range(len(errors))])
    if complexities is None:
        return [unstratified(e, f"{n} errors") for e, n in zip(errors, names, strict=True)]
    comps = [as_sample(c, f"{n} complexity") for c, n in zip(complexities, names, strict=True)]
    for e, c, n in zip(errors, comps, names, strict=True):
        if np.size(e) != c.size:
            raise StatsInputError(f"{n}: {c.size} complexities for {np.size(e)} errors")
    rule = Normalization(bins, common_range(comps), log=log)
    return [stratify(e, c, rule, n) for e, c, n in zip(errors, comps, names, strict=True)]


def stratify_pair(
    parent: Any,
    restricted: Any,
    parent_complexity: Any,
    restricted_complexity: Any,
    bins: int,
    names: tuple[str, str] = ("parent", "restricted"),
) -> tuple[Stratified, Stratified]:
    """Two samples normalized together (both complexities given) or plain (neither)."""
    if (parent_complexity is None) != (restricted_complexity is None):
        raise StatsInputError("give both complexities (normalized EDFs) or neither (plain EDFs)")
    comps = None if parent_complexity is None else [parent_complexity, restricted_complexity]
    a, b = stratify_together([parent, restricted], comps, bins, names=list(names))
    return a, b
