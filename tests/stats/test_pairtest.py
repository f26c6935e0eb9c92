"""The one pair test: scipy for plain EDFs, exact within-bin permutations for normalized ones."""

import itertools

import numpy as np
import pytest
from scipy import stats

from edftools.stats import ks_statistic, pair_test, stratify_together
from edftools.stats.pairtest import COARSE_CELLS, WithinBinPermutation, cell_bounds
from edftools.stats.scenarios import Scenario
from edftools.stats.strata import Stratified


def test_plain_samples_use_scipy_one_sided_both_ways():
    rng = np.random.default_rng(0)
    p, r = rng.normal(6, 1, 150), rng.normal(5.7, 1.3, 120)
    parent, restricted = stratify_together([p, r], None, 8)
    res = pair_test(parent, restricted)
    up = stats.ks_2samp(r, p, alternative="greater")
    down = stats.ks_2samp(r, p, alternative="less")
    assert (res.better, res.p_better) == (pytest.approx(up.statistic), pytest.approx(up.pvalue))
    assert (res.worse, res.p_worse) == (pytest.approx(down.statistic), pytest.approx(down.pvalue))
    assert res.n_perm == 0 and res.statistic == max(res.better, res.worse)


def test_observed_statistics_are_the_weighted_ks_of_the_normalized_edfs():
    rng = np.random.default_rng(1)
    p, r = np.round(rng.normal(6, 1, 300), 1), np.round(rng.normal(5.8, 1, 250), 1)
    parent, restricted = stratify_together([p, r], [rng.random(300), rng.random(250) ** 2], 8)
    res = pair_test(parent, restricted, n_perm=99)
    args = (restricted.errors, parent.errors, restricted.weights, parent.weights)
    assert res.better == pytest.approx(ks_statistic(*args, alternative="greater"))
    assert res.worse == pytest.approx(ks_statistic(*args, alternative="less"))


def _enumerated_pvalues(parent: Stratified, restricted: Stratified) -> tuple[float, float]:
    """Exact permutation p-values by enumerating every within-bin relabelling."""
    e = np.r_[parent.errors, restricted.errors]
    s = np.r_[parent.strata, restricted.strata]
    counts = parent.counts
    per_bin = []
    for k in range(parent.pi.size):
        idx = np.flatnonzero(s == k)
        per_bin.append([set(c) for c in itertools.combinations(idx, counts[k])])
    observed = pair_test(parent, restricted, n_perm=1)
    hits_up = hits_down = total = 0
    for choice in itertools.product(*per_bin):
        is_p = np.zeros(e.size, bool)
        is_p[list(set().union(*choice))] = True
        pp = Stratified(e[is_p], s[is_p], parent.pi)
        rr = Stratified(e[~is_p], s[~is_p], parent.pi)
        t = pair_test(pp, rr, n_perm=1)
        hits_up += t.better >= observed.better - 1e-12
        hits_down += t.worse >= observed.worse - 1e-12
        total += 1
    return hits_up / total, hits_down / total


def test_within_bin_permutation_p_values_match_full_enumeration():
    rng = np.random.default_rng(2)
    pi = np.array([0.5, 0.5])
    parent = Stratified(rng.normal(0, 1, 7), np.array([0, 0, 0, 0, 1, 1, 1]), pi)
    restricted = Stratified(rng.normal(-0.8, 1, 6), np.array([0, 0, 0, 1, 1, 1]), pi)
    exact_up, exact_down = _enumerated_pvalues(parent, restricted)
    null = WithinBinPermutation(parent, restricted)
    null.extend(40_000, np.random.default_rng(3))
    res = null.result()
    for got, want in ((res.p_better, exact_up), (res.p_worse, exact_down)):
        se = np.sqrt(want * (1 - want) / 40_000)
        assert abs(got - want) < 4 * se + 1e-4, (got, want)


def test_normalized_size_with_different_complexity_distributions():
    """Spaces with different complexity histograms and equal errors within bins: each one-sided
    test rejects at 0.05 within ±3 SE over 300 seeded draws (SE 1.26 pp), where a pooled
    label shuffle is conservative (1.1% in the issue's simulation)."""
    scenario = Scenario("identical", normalized=True)
    rejections = np.zeros(2)
    for rep in range(300):
        ep, cp, er, cr = scenario.draw(200, np.random.default_rng([7, rep]))
        parent, restricted = stratify_together([ep, er], [cp, cr], 8)
        res = pair_test(parent, restricted, n_perm=199, seed=rep)
        rejections += [res.p_better <= 0.05, res.p_worse <= 0.05]
    assert np.all(np.abs(rejections / 300 - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / 300))


def test_coarse_cells_keep_the_statistic_within_their_resolution():
    rng = np.random.default_rng(4)
    p, r = rng.normal(0, 1, 3000), rng.normal(0.05, 1, 3000)
    assert cell_bounds(np.r_[p, r]).size <= COARSE_CELLS
    parent, restricted = stratify_together([p, r], [rng.random(3000), rng.random(3000)], 4)
    res = pair_test(parent, restricted, n_perm=50)
    args = (restricted.errors, parent.errors, restricted.weights, parent.weights)
    exact = ks_statistic(*args, alternative="less")
    assert exact - 2.0 / COARSE_CELLS <= res.worse <= exact + 1e-12
