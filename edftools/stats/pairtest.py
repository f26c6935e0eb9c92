"""The one pair test of two error EDFs: is the restricted space better somewhere, worse somewhere?

For a parent P and a restricted space R with (normalized) EDFs F_P, F_R (right limits,
F(e) = Σ_k π_k·#{i in k : e_i ≤ e}/n_k, see :mod:`edftools.stats.strata`), the two one-sided
Kolmogorov–Smirnov statistics

    D+ = sup_e (F_R(e) − F_P(e))     R has more models below some error: R better there,
    D− = sup_e (F_P(e) − F_R(e))     R has fewer: R worse there,

test H+ : F_R ≤ F_P everywhere (R nowhere better) and H− : F_R ≥ F_P everywhere (R nowhere
worse). Two crossing EDFs reject both.

* Plain samples (K = 1): ``scipy.stats.ks_2samp(R, P, alternative="greater" / "less")`` for
  equal sizes (exact); for unequal sizes the exact one-sided p-value is counted here
  (:func:`ks_one_sided_pvalue`, lattice paths, O(n_P·n_R) in vectorized rows: scipy's exact
  one-sided method takes 0.2–0.6 s at 500–3,000 models and falls back to its asymptotic
  p-value with a RuntimeWarning), and beyond :data:`EXACT_CELLS` path cells it is scipy's
  asymptotic one, which is accurate there.
* Normalized samples: a permutation test that permutes the space labels *within* test strata
  nested in the complexity bins (:func:`edftools.stats.strata.permutation_strata`: the bins
  themselves up to 64 pooled models per bin, then ⌊√N_k / 4⌋ equal-count complexity groups
  per bin), so each space keeps its bin counts n_k (and therefore its weights) in every
  permutation. It is exact under the null that the two spaces' errors are exchangeable within
  every stratum — also when the spaces' complexity distributions differ, where a pooled
  shuffle is not (it mixes bins of different weight). When error varies with complexity
  inside a stratum and the spaces' complexity laws differ there, the null "equal errors at
  equal complexity" holds only approximately within the strata: a bias of order the strata's
  squared complexity width, which falls faster than the statistic's noise as n grows
  (measured size 0.020–0.065 ± ≤ 0.012 from n = 100 to 20,000; see
  :mod:`edftools.stats.strata`).
  Each permutation is drawn as multivariate-hypergeometric counts of P-labels per (stratum,
  error cell), which is the law of a
  uniformly random within-bin relabelling, at a cost O(cells) instead of O(models). The errors
  are grouped into cells at the pooled distinct values — the exact KS sup — when there are at
  most :data:`MAX_CELLS` of them, else at :data:`COARSE_CELLS` pooled quantiles (the sup over
  those bounds, within 1/COARSE_CELLS of the exact one); either way the statistic is computed
  the same way for the data and for every permutation, so the test stays exact.
  p = (1 + #{D*_b ≥ D}) / (1 + B) for each side, from the same B permutations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import Seed, make_rng, sample_and_weights
from edftools.stats.defaults import DEFAULT_N_PERM, DEFAULT_SEED
from edftools.stats.strata import Stratified, permutation_strata

#: Unequal-n exact one-sided KS p-values up to this many lattice cells (n_P·n_R), else asymptotic.
EXACT_CELLS = 25_000_000
_RESCALE_ROWS = 40  # a row grows by at most (cells + 1)×: rescale before float64 overflows
MAX_CELLS = 2048
COARSE_CELLS = 256
_CHUNK_ENTRIES = 2_000_000
#: numpy's "count" method costs about a tenth of "marginals" per unit (measured)
_COUNT_VS_MARGINALS = 0.1
_TIE = 1e-12


@dataclass(frozen=True)
class PairTest:
    """One-sided KS statistics D+ (R better) and D− (R worse) with their p-values.

    ``n_perm`` is the number of permutations behind the p-values (0 for scipy's exact or
    asymptotic p-values); ``mc_se_*`` their Monte-Carlo standard errors sqrt(p(1 − p)/B).
    """

    better: float
    worse: float
    p_better: float
    p_worse: float
    p_two_sided: float
    method: str
    n_perm: int = 0

    @property
    def statistic(self) -> float:
        """The two-sided KS statistic D = max(D+, D−)."""
        return max(self.better, self.worse)

    @property
    def mc_se_better(self) -> float:
        """Monte-Carlo standard error of ``p_better`` (0 without permutations)."""
        return _mc_se(self.p_better, self.n_perm)

    @property
    def mc_se_worse(self) -> float:
        """Monte-Carlo standard error of ``p_worse`` (0 without permutations)."""
        return _mc_se(self.p_worse, self.n_perm)


def _mc_se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1.0 - p) / n)) if n else 0.0


def cell_bounds(
    values: np.ndarray, max_cells: int = MAX_CELLS, coarse: int = COARSE_CELLS
) -> np.ndarray:
    """Upper bounds v_1 < … < v_G of the error cells (v_{j−1}, v_j]: the distinct values when
    there are at most ``max_cells``, else ``coarse`` pooled quantiles (generalized inverse, so
    every bound is a data value and the largest is the maximum)."""
    distinct = np.unique(values)
    if distinct.size <= max_cells:
        return distinct
    levels = np.arange(1, coarse + 1) / coarse
    return np.unique(np.quantile(values, levels, method="inverted_cdf"))


def pair_test(
    parent: Stratified,
    restricted: Stratified,
    n_perm: int = DEFAULT_N_PERM,
    seed: Seed = DEFAULT_SEED,
) -> PairTest:
    """D+ and D− with p-values (scipy for plain samples, within-bin permutations otherwise)."""
    if not (parent.normalized or restricted.normalized):
        return scipy_pair_test(parent.errors, restricted.errors)
    null = WithinBinPermutation(parent, restricted)
    null.extend(n_perm, make_rng(seed))
    return null.result()


def scipy_pair_test(parent: np.ndarray, restricted: np.ndarray) -> PairTest:
    """One-sided KS both ways and two-sided (R = first sample): ``scipy.stats.ks_2samp``, with
    the one-sided p-values of unequal sizes from :func:`ks_one_sided_pvalue` (module
    docstring). No warning reaches the caller."""
    import warnings

    from scipy.stats import ks_2samp

    m, n = restricted.size, parent.size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        both = ks_2samp(restricted, parent)
        if m == n:
            up = ks_2samp(restricted, parent, alternative="greater")
            down = ks_2samp(restricted, parent, alternative="less")
            stats = (float(up.statistic), float(down.statistic))
            pvalues = (float(up.pvalue), float(down.pvalue))
        else:
            stats = (
                ks_statistic(restricted, parent, alternative="greater"),
                ks_statistic(restricted, parent, alternative="less"),
            )
            pvalues = (
                ks_one_sided_pvalue(stats[0], m, n),
                ks_one_sided_pvalue(stats[1], n, m),
            )
    return PairTest(
        stats[0], stats[1], pvalues[0], pvalues[1], float(both.pvalue), "KS (scipy ks_2samp)"
    )


def ks_one_sided_pvalue(d: float, m: int, n: int) -> float:
    """P(D+ ≥ d) for D+ = sup(F_1 − F_2) of two samples of sizes m (sample 1) and n drawn from
    one continuous law: exact, by counting the lattice paths (i, j) (i of sample 1 and j of
    sample 2 among the smallest i + j pooled values) that keep i·n − j·m < c = d·m·n,

        P(D+ ≥ d) = 1 − #{paths staying below} / C(m + n, m),

    a row at a time (a cumulative sum over the allowed cells, rescaled to stay finite). Beyond
    :data:`EXACT_CELLS` cells: the asymptotic p-value scipy uses (Hodges 1958, eq. 5.3). Ties
    make it conservative.
    """
    from scipy.special import gammaln

    if d <= 0:
        return 1.0
    if m * n > EXACT_CELLS:
        return _asymptotic_one_sided(d, m, n)
    c = round(d * m * n)
    log_scale = 0.0
    if m <= n:  # rows i = 0..m over columns j = 0..n; allowed: j ≥ jmin(i)
        row = np.ones(n + 1)
        for i in range(1, m + 1):
            jmin = max(0, (i * n - c) // m + 1)
            if jmin > n:
                return 1.0
            row[:jmin] = 0.0
            np.cumsum(row[jmin:], out=row[jmin:])
            if i % _RESCALE_ROWS == 0:
                log_scale += np.log(row[-1])
                row /= row[-1]
        stay = row[n]
    else:  # rows j = 0..n over i = 0..m; allowed: i ≤ imax(j), i·n < c + j·m
        row = np.zeros(m + 1)
        row[: min(m, -(-c // n) - 1) + 1] = 1.0
        for j in range(1, n + 1):
            imax = min(m, -(-(c + j * m) // n) - 1)
            np.cumsum(row[: imax + 1], out=row[: imax + 1])
            row[imax + 1 :] = 0.0
            if j % _RESCALE_ROWS == 0:
                top = row.max()
                log_scale += np.log(top)
                row /= top
        stay = row[m]
    if stay <= 0:
        return 1.0
    log_total = gammaln(m + n + 1) - gammaln(m + 1) - gammaln(n + 1)
    return float(min(1.0, max(0.0, -np.expm1(np.log(stay) + log_scale - log_total))))


def _asymptotic_one_sided(d: float, m: int, n: int) -> float:
    """exp(−2z² − 2z(M + 2N)/(3·sqrt(MN(M + N)))), z = sqrt(MN/(M + N))·d, M ≥ N (Hodges'
    eq. 5.3, scipy's asymptotic one-sided two-sample KS p-value)."""
    z = np.sqrt(m * n / (m + n)) * d
    big, small = max(m, n), min(m, n)
    expt = -2 * z**2 - 2 * z * (big + 2 * small) / np.sqrt(big * small * (big + small)) / 3.0
    return float(min(1.0, np.exp(expt)))


def _hypergeometric_counts(
    colors: np.ndarray, take: int, size: int, rng: np.random.Generator
) -> np.ndarray:
    """``size`` draws of how many of ``take`` models drawn without replacement fall in each
    cell (numpy's multivariate hypergeometric), by whichever of numpy's two exact methods is
    cheaper here: "count" costs O(models drawn) per draw — and drawing the complement is the
    same law — "marginals" O(cells)."""
    total = int(colors.sum())
    small = min(take, total - take)
    if small * _COUNT_VS_MARGINALS < colors.size:
        counts = rng.multivariate_hypergeometric(colors, small, size=size, method="count")
        return counts if small == take else colors - counts
    return rng.multivariate_hypergeometric(colors, take, size=size, method="marginals")


def ks_statistic(
    a: Any, b: Any, weights_a: Any = None, weights_b: Any = None, alternative: str = "two-sided"
) -> float:
    """Weighted KS statistic of samples a, b with fixed weights, over the pooled points:
    D = sup|F_a − F_b| (two-sided), D+ = sup(F_a − F_b) (greater), D− = sup(F_b − F_a) (less),
    as ``scipy.stats.ks_2samp`` names them."""
    if alternative not in ("two-sided", "greater", "less"):
        raise StatsInputError(
            f"alternative must be two-sided, greater or less, got {alternative!r}"
        )
    ea, wa = sample_and_weights(a, weights_a, "a", "weights_a")
    eb, wb = sample_and_weights(b, weights_b, "b", "weights_b")
    x = np.unique(np.r_[ea, eb])
    fa = _weighted_cdf(ea, wa, x)
    fb = _weighted_cdf(eb, wb, x)
    if alternative == "greater":
        return float(max(0.0, (fa - fb).max()))
    if alternative == "less":
        return float(max(0.0, (fb - fa).max()))
    return float(np.abs(fa - fb).max())


def _weighted_cdf(e: np.ndarray, w: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    order = np.argsort(e, kind="stable")
    cum = np.r_[0.0, np.cumsum(np.ones(e.size) if w is None else w[order])]
    return cum[np.searchsorted(e[order], x, side="right")] / cum[-1]


class WithinBinPermutation:
    """The within-bin permutation null of (D+, D−) for one pair; more draws can be added.

    ``extend(B, rng)`` draws B more permutations and counts how many reach the observed
    statistics; :meth:`result` gives the p-values from all draws so far.
    """

    def __init__(self, parent: Stratified, restricted: Stratified) -> None:
        if parent.bins != restricted.bins or not np.allclose(parent.pi, restricted.pi):
            raise ValueError("both samples must be stratified by the same rule")
        pooled = np.r_[parent.errors, restricted.errors]
        self.bounds = cell_bounds(pooled)
        g = self.bounds.size
        cell_p = np.minimum(np.searchsorted(self.bounds, parent.errors, side="left"), g - 1)
        cell_r = np.minimum(np.searchsorted(self.bounds, restricted.errors, side="left"), g - 1)
        n_p, n_r = parent.counts, restricted.counts
        pi = parent.pi
        group_p, group_r, group_bin = permutation_strata(parent, restricted)
        self.groups = int(group_bin.size)
        self._cells: list[np.ndarray] = []  # per group: the cells that hold models
        self._colors: list[np.ndarray] = []  # per group: pooled models per such cell
        self._take: list[int] = []  # per group: its models of P
        self._beta: list[float] = []  # per group: π_k (1/n_{P,k} + 1/n_{R,k}) of its bin k
        base = np.zeros(g)  # Σ_k π_k C_k(j) / n_{R,k}
        diff = np.zeros(g)  # F_R − F_P on the cell bounds, for the data
        for grp, k in enumerate(group_bin):
            if n_p[k] == 0 or n_r[k] == 0:
                continue
            mine = np.bincount(cell_p[group_p == grp], minlength=g)
            theirs = np.bincount(cell_r[group_r == grp], minlength=g)
            all_k = mine + theirs
            cells = np.flatnonzero(all_k)
            if cells.size == 0:
                continue
            self._cells.append(cells)
            self._colors.append(all_k[cells])
            self._take.append(int(mine.sum()))
            self._beta.append(float(pi[k] * (1.0 / n_p[k] + 1.0 / n_r[k])))
            base += pi[k] * np.cumsum(all_k) / n_r[k]
            diff += pi[k] * (np.cumsum(theirs) / n_r[k] - np.cumsum(mine) / n_p[k])
        self._base = base
        self.cells_per_draw = int(sum(c.size for c in self._cells))
        self.better = float(max(0.0, diff.max()))
        self.worse = float(max(0.0, (-diff).max()))
        self.draws = 0
        self.exceed_better = 0
        self.exceed_worse = 0
        self.exceed_two_sided = 0

    def extend(self, n_more: int, rng: np.random.Generator) -> None:
        """Draw ``n_more`` within-bin permutations and count exceedances of D+ and D−."""
        chunk = max(1, _CHUNK_ENTRIES // max(self.bounds.size, 1))
        done = 0
        while done < n_more:
            size = min(chunk, n_more - done)
            up, down = self.draw(size, rng)
            self.exceed_better += int((up >= self.better - _TIE).sum())
            self.exceed_worse += int((down >= self.worse - _TIE).sum())
            two = max(self.better, self.worse) - _TIE
            self.exceed_two_sided += int((np.maximum(up, down) >= two).sum())
            done += size
        self.draws += n_more

    def draw(self, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(D+*, D−*) of ``size`` permutations, the groups' counts drawn in group order:

            F*_R − F*_P at bound j = base_j − Σ_{cells c ≤ j} Σ_groups β_group·N*_{P,group,c}

        (β = π_k (1/n_{P,k} + 1/n_{R,k}), base_j = Σ_k π_k·C_k(j)/n_{R,k}). Laid out cells ×
        permutations, so that each group adds whole rows and the cumulative sum runs down
        contiguous rows; every sum is the same float sum, in the same order, as cell by cell
        (tests/stats/test_pairtest_draws.py holds that reference)."""
        weighted = np.zeros((self.bounds.size, size))
        for cells, colors, take, beta in zip(
            self._cells, self._colors, self._take, self._beta, strict=True
        ):
            weighted[cells] += beta * _hypergeometric_counts(colors, take, size, rng).T
        np.cumsum(weighted, axis=0, out=weighted)
        diff = np.subtract(self._base[:, None], weighted, out=weighted)
        return diff.max(axis=0), -diff.min(axis=0)

    def result(self) -> PairTest:
        """The test from every permutation drawn so far."""
        b = self.draws
        return PairTest(
            self.better,
            self.worse,
            (1 + self.exceed_better) / (1 + b),
            (1 + self.exceed_worse) / (1 + b),
            (1 + self.exceed_two_sided) / (1 + b),
            "KS, labels permuted within complexity bins",
            b,
        )
