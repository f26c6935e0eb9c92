"""Two-sample comparison: scipy agreement, weighted KS, test sizes and power, best-of-k."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from edftools.errors import StatsInputError
from edftools.stats import (
    compare,
    edf_deficit_bound,
    expected_best,
    holm,
    ks_permutation,
    ks_statistic,
)


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_unweighted_ks_is_scipy(alternative):
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 120), rng.normal(0.3, 1, 90)
    res = compare(a, b, alternative=alternative, n_boot=50)
    ref = stats.ks_2samp(a, b, alternative=alternative)
    assert res.statistic == ref.statistic and res.pvalue == ref.pvalue
    # our own statistic (strict-< EDFs, ties included) gives the same D
    assert ks_statistic(a, b, alternative=alternative) == pytest.approx(ref.statistic)
    ties_a, ties_b = np.round(a, 1), np.round(b, 1)
    ref_t = stats.ks_2samp(ties_a, ties_b, alternative=alternative).statistic
    assert ks_statistic(ties_a, ties_b, alternative=alternative) == pytest.approx(ref_t)
    assert res.anderson.statistic == pytest.approx(compare_ad_statistic(a, b))


def test_weighted_ks_equal_weights_and_scaling():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=80), rng.normal(size=70)
    w = rng.random(80)
    d_equal = ks_statistic(a, b, np.full(80, 3.0))
    assert d_equal == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert ks_statistic(a, b, w) == pytest.approx(ks_statistic(a, b, 7 * w))


def test_result_object_surface():
    rng = np.random.default_rng(2)
    a, b = rng.normal(30, 2, 300), rng.normal(29, 2, 300)
    res = compare(a, b, rng.random(300), rng.random(300), n_perm=199, n_boot=200, seed=3)
    assert res.weighted and res.anderson is None and 0 < res.pvalue <= 1
    med = res.median_difference
    assert med.low <= med.value <= med.high
    best_a, best_b = res.best_of(32)
    assert best_a.low <= best_a.value <= best_a.high and best_b.value < res.b.mean.value
    assert res.deficit.upper >= res.deficit.statistic >= 0
    plan = res.models_needed(margin=0.2)
    assert plan.n_detect > 2 and plan.n_equivalence is not None
    assert set(res.differences) >= {"min", "mean", "q0.1", "q0.25", "q0.5"}


def test_expected_best_exact_against_simulation():
    rng = np.random.default_rng(4)
    e = np.round(rng.gamma(5, 2, 400), 1)  # ties on purpose
    w = rng.random(400)
    res = expected_best(e, w, ks=(1, 4, 32), n_boot=100)
    p = w / w.sum()
    for k, mean, sd in zip(res.ks, res.mean, res.sd, strict=True):
        mins = e[rng.choice(e.size, size=(40_000, k), p=p)].min(axis=1)
        se = mins.std() / np.sqrt(mins.size)
        assert abs(mins.mean() - mean) < 4 * se
        assert sd == pytest.approx(mins.std(), rel=0.03)
    assert res.mean[0] == pytest.approx(np.dot(p, e))


def _size(test, reps, rng):
    return np.mean([test(rng) < 0.05 for _ in range(reps)])


def sizes(reps_scipy, reps_perm, seed):
    rng = np.random.default_rng(seed)
    ks = _size(
        lambda r: stats.ks_2samp(r.normal(size=100), r.normal(size=130)).pvalue, reps_scipy, rng
    )
    ad = _size(lambda r: compare_ad(r.normal(size=100), r.normal(size=130)), reps_scipy, rng)

    def weighted(r):
        a, b = r.normal(size=100), r.normal(size=130)
        return ks_permutation(a, b, r.random(100), r.random(130), n_perm=199, seed=r).pvalue

    perm = _size(weighted, reps_perm, rng)
    return {"ks": ks, "ad": ad, "weighted ks": perm}


def test_sizes_under_h0():
    """Rejection rate at α = 0.05 under H0 (same distribution), tolerance ±2 pp: 1200 reps
    for scipy's tests (SE 0.63 pp, ±3.2 SE) and 500 for the permutation test (SE 0.97 pp; its
    size is exactly α by construction, (1 + #)/(1 + 199) with α·200 = 10)."""
    for name, size in sizes(1200, 500, seed=5).items():
        assert abs(size - 0.05) <= 0.02, (name, size)


@pytest.mark.slow
def test_sizes_under_h0_full():
    """As above with 5000 / 2000 reps (SE 0.31 / 0.49 pp)."""
    for name, size in sizes(5000, 2000, seed=55).items():
        assert abs(size - 0.05) <= 0.02, (name, size)


def compare_ad(a, b):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stats.anderson_ksamp([a, b]).pvalue


def test_power_rises_with_n():
    rng = np.random.default_rng(6)
    rates = []
    for n in (50, 150, 400):

        def test(r, n=n):
            a, b = r.normal(size=n), r.normal(0.3, 1, size=n)
            return ks_permutation(a, b, r.random(n), r.random(n), n_perm=99, seed=r).pvalue

        rates.append(_size(test, 150, rng))
    assert rates[0] < rates[1] < rates[2] and rates[2] > 0.8


def test_deficit_bound_coverage():
    """A real deficit Δ = 0.1 (10% of the restricted models moved above all others): the
    bound U covers Δ in ≥ 92% of 150 samples (nominal ≥ 95%, SE 1.8 pp at 95%)."""
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(150):
        parent = rng.uniform(0, 1, 300)
        restricted = rng.uniform(0, 1, 300)
        mask = rng.random(300) < 0.1
        restricted[mask] = rng.uniform(1, 2, mask.sum())  # F_p − F_r = 0.1·x on [0, 1]
        hits += edf_deficit_bound(parent, restricted, n_boot=150, seed=rng).upper >= 0.1
    assert hits / 150 >= 0.92


def test_holm_matches_statsmodels():
    p = [0.01, 0.04, 0.03, 0.2]
    reject, adjusted = holm(p)
    ref = multipletests(p, method="holm")
    np.testing.assert_array_equal(reject, ref[0])
    np.testing.assert_allclose(adjusted, ref[1])
    with pytest.raises(StatsInputError):
        holm([0.5, 1.5])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"a": [1.0, np.nan], "b": [1.0]}, "NaN"),
        ({"a": [], "b": [1.0]}, "empty"),
        ({"a": [1.0], "b": [1.0, 2.0], "weights_b": [1.0]}, "length"),
        ({"a": [1.0], "b": [1.0], "weights_a": [-1.0]}, "non-negative"),
        ({"a": [1.0], "b": [2.0], "alternative": "bigger"}, "alternative"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(StatsInputError, match=match):
        compare(**kwargs)


def compare_ad_statistic(a, b):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stats.anderson_ksamp([a, b]).statistic
