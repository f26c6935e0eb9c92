"""compare(): verdict, two-sided KS (scipy agreement), AD, summaries, differences, best-of-k."""

import numpy as np
import pytest
from scipy import stats

from edftools.errors import StatsInputError
from edftools.stats import compare, expected_best, ks_statistic


def test_plain_ks_is_scipy_and_verdict_is_the_step_test():
    rng = np.random.default_rng(0)
    a, b = rng.normal(6, 1, 120), rng.normal(5, 1, 90)
    res = compare(a, b, n_boot=50)
    ref = stats.ks_2samp(b, a)
    assert res.statistic == pytest.approx(ref.statistic) and res.pvalue == pytest.approx(ref.pvalue)
    assert res.verdict == "improves" and res.test.p_better < 1e-4
    with pytest.warns(UserWarning):  # scipy floors the p-value; compare() silences it
        ref_ad = stats.anderson_ksamp([a, b])
    assert res.anderson.statistic == pytest.approx(ref_ad.statistic)
    assert len(repr(res)) < 300


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_weighted_ks_statistic_with_equal_weights_is_scipys(alternative):
    rng = np.random.default_rng(1)
    a, b = np.round(rng.normal(size=80), 1), np.round(rng.normal(0.3, 1, 70), 1)
    ref = stats.ks_2samp(a, b, alternative=alternative).statistic
    assert ks_statistic(a, b, np.full(80, 3.0), alternative=alternative) == pytest.approx(ref)
    w = rng.random(80)
    assert ks_statistic(a, b, w, alternative=alternative) == pytest.approx(
        ks_statistic(a, b, 7 * w, alternative=alternative)
    )


def test_normalized_compare_result_surface():
    rng = np.random.default_rng(2)
    a, b = rng.normal(30, 2, 300), rng.normal(29, 2, 300)
    res = compare(
        a, b, complexity_a=rng.random(300), complexity_b=rng.random(300), n_boot=200, seed=3
    )
    assert res.normalized and res.anderson is None and 0 < res.pvalue <= 1
    assert res.test.n_perm >= 999 and "within complexity bins" in res.test.method
    med = res.median_difference
    assert med.low <= med.value <= med.high
    best_a, best_b = res.best_of(32)
    assert best_a.low <= best_a.value <= best_a.high and best_b.value < res.b.mean.value
    assert set(res.differences) >= {"min", "mean", "q0.1", "q0.25", "q0.5"}


def test_expected_best_exact_against_simulation():
    rng = np.random.default_rng(4)
    e = np.round(rng.gamma(5, 2, 400), 1)  # ties on purpose
    w = rng.random(400)
    res = expected_best(e, w, best_of=(1, 4, 32), n_boot=100)
    p = w / w.sum()
    for k, mean, sd in zip(res.ks, res.mean, res.sd, strict=True):
        mins = e[rng.choice(e.size, size=(40_000, k), p=p)].min(axis=1)
        se = mins.std() / np.sqrt(mins.size)
        assert abs(mins.mean() - mean) < 4 * se
        assert sd == pytest.approx(mins.std(), rel=0.03)
    assert res.mean[0] == pytest.approx(np.dot(p, e))


def test_anderson_darling_size_under_h0():
    """scipy's AD k-sample test through compare: rejection rate at 0.05 under H0 over 400
    seeded draws within ±3.3 SE (SE 1.1 pp)."""
    rng = np.random.default_rng(5)
    rejected = [
        compare(rng.normal(size=100), rng.normal(size=130), n_boot=20).anderson.pvalue < 0.05
        for _ in range(400)
    ]
    assert abs(np.mean(rejected) - 0.05) <= 0.036


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"a": [1.0, np.nan], "b": [1.0]}, "NaN"),
        ({"a": [], "b": [1.0]}, "empty"),
        ({"a": [1.0, 2.0], "b": [1.0, 3.0], "complexity_a": [1.0, 2.0]}, "both complexities"),
        (
            {"a": [1.0, 2.0], "b": [1.0, 3.0], "complexity_a": [1.0], "complexity_b": [1, 2]},
            "1 complexities for 2 errors",
        ),
        ({"a": [1.0], "b": [2.0], "margin": -1}, "margin"),
        ({"a": [1.0], "b": [2.0], "margin_unit": "percent"}, "unit"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(StatsInputError, match=match):
        compare(**kwargs)
