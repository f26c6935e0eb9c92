"""EDF: strict inequality, weights, quantiles, area; agreement with scipy and statsmodels."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.distributions.empirical_distribution import ECDF

from edftools.errors import StatsInputError
from edftools.stats import edf

finite = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)
samples = st.lists(st.sampled_from([1.0, 2.0, 2.5, 3.0]) | finite, min_size=1, max_size=40)


def test_strict_inequality_and_summary():
    f = edf([3.0, 1.0, 2.0, 2.0])
    assert f.evaluate(1.0) == 0.0  # strict: F(min) = 0
    assert f.evaluate(2.0) == 0.25
    assert f.evaluate(2.0000001) == 0.75
    assert f.evaluate(10.0) == 1.0
    assert f.min == 1.0 and f.mean == 2.0 and f.n == 4
    np.testing.assert_allclose(f.steps[1], [0.25, 0.75, 1.0])


def test_weights_and_zero_weight_models():
    f = edf([1.0, 2.0, 9.0], [1.0, 3.0, 0.0])
    assert f.min == 1.0 and f.max == 2.0 and f.n == 2
    assert f.evaluate(1.5) == pytest.approx(0.25)
    assert f.mean == pytest.approx(1.75)
    assert f.n_eff == pytest.approx(16 / 10)


def test_area_matches_integral():
    rng = np.random.default_rng(0)
    e, w = rng.uniform(0, 20, 50), rng.random(50)
    f = edf(e, w)
    eps = 12.0
    xs = np.linspace(0, eps, 200_001)
    integral = np.trapezoid(f.evaluate(xs), xs) / eps
    assert f.area(eps) == pytest.approx(integral, abs=1e-4)


@settings(max_examples=60, deadline=None)
@given(samples, st.randoms(use_true_random=False))
def test_monotone_bounded_permutation_invariant(values, rnd):
    f = edf(values)
    xs = np.linspace(-1, 101, 97)
    ys = f.evaluate(xs)
    assert np.all(np.diff(ys) >= -1e-15) and ys.min() >= 0 and ys.max() <= 1 + 1e-12
    shuffled = list(values)
    rnd.shuffle(shuffled)
    np.testing.assert_array_equal(edf(shuffled).evaluate(xs), ys)


@settings(max_examples=60, deadline=None)
@given(samples, st.floats(min_value=1e-3, max_value=1e3))
def test_weight_scaling_invariant(values, scale):
    w = np.arange(1, len(values) + 1, dtype=float)
    xs = np.asarray(sorted(values)) + 1e-9
    np.testing.assert_allclose(edf(values, w).evaluate(xs), edf(values, w * scale).evaluate(xs))


@settings(max_examples=60, deadline=None)
@given(samples)
def test_agrees_with_scipy_and_statsmodels(values):
    f = edf(values)
    pts = np.unique(values)
    # scipy/statsmodels give P(X ≤ x); ours is P(X < x): equal right after each point,
    # and ours at x equals theirs just below x
    np.testing.assert_allclose(f.steps[1], stats.ecdf(values).cdf.evaluate(pts), atol=1e-12)
    np.testing.assert_allclose(f.steps[1], ECDF(values)(pts), atol=1e-12)
    below = ECDF(values)(np.nextafter(pts, -np.inf))
    np.testing.assert_allclose(f.evaluate(pts), below, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(samples, st.floats(min_value=0, max_value=1))
def test_quantile_agrees_with_numpy(values, q):
    w = np.linspace(1, 2, len(values))
    assert edf(values).quantile(q) == np.quantile(values, q, method="inverted_cdf")
    expected = np.quantile(values, q, weights=w, method="inverted_cdf")
    assert edf(values, w).quantile(q) == pytest.approx(expected)


def test_ties_quantile_exact_levels():
    f = edf([1, 2, 2, 3, 4, 5, 6, 7, 8, 9])
    assert f.quantile(0.3) == 2.0  # 0.3·10 is 3 in exact arithmetic
    assert f.quantile(0.7) == 6.0  # 7 of 10 models are ≤ 6
    assert f.quantile(0.0) == 1.0 and f.quantile(1.0) == 9.0


@pytest.mark.parametrize(
    ("errors", "weights", "match"),
    [
        ([1.0, np.nan], None, "NaN"),
        ([], None, "empty"),
        ([1.0, 2.0], [1.0, -1.0], "non-negative"),
        ([1.0, 2.0], [1.0], "length"),
        ([1.0, 2.0], [0.0, 0.0], "sum to zero"),
        ([[1.0, 2.0]], None, "one-dimensional"),
        (["a"], None, "numbers"),
    ],
)
def test_bad_input(errors, weights, match):
    with pytest.raises(StatsInputError, match=match):
        edf(errors, weights)


def test_bad_quantile_and_area():
    f = edf([1.0, 2.0])
    with pytest.raises(StatsInputError):
        f.quantile(1.5)
    with pytest.raises(StatsInputError):
        f.area(0.0)
