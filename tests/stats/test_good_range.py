"""Good range: exact law vs seeded fast bootstrap vs a literal pycls-style resampling loop."""

import numpy as np
import pytest
from scipy import stats

from edftools.errors import StatsInputError
from edftools.stats import good_range
from edftools.stats.good_range import min_rank_probs


def literal_loop(values, errors, sample, reps, rng):
    """The DDS bootstrap as pycls writes it: draw 25% with replacement, keep the argmin."""
    m = max(1, round(sample * errors.size))
    out = np.empty(reps)
    for i in range(reps):
        idx = rng.integers(0, errors.size, m)
        out[i] = values[idx[np.argmin(errors[idx])]]
    return out


def test_min_rank_law_sums_to_one_and_matches_enumeration():
    p = min_rank_probs(4, 2)
    # 16 equally likely ordered pairs from ranks 0..3; min = r in 2(4−r)−1 of them
    np.testing.assert_allclose(p, np.array([7, 5, 3, 1]) / 16)
    assert min_rank_probs(1000, 250).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("ties", [False, True])
def test_exact_bootstrap_and_literal_agree(ties):
    rng = np.random.default_rng(1)
    n = 200
    values = rng.integers(10, 30, n).astype(float)
    errors = rng.normal(30, 2, n) + 0.05 * (values - 20) ** 2
    if ties:
        errors = np.round(errors, 0)  # many tied errors
    exact = good_range(values, errors, method="exact")
    fast = good_range(values, errors, n_boot=40_000, seed=2)
    loop = literal_loop(values, errors, 0.25, 6000, rng)
    support = exact.support
    observed = np.array([(loop == v).sum() for v in support])
    expected = exact.probs * loop.size
    keep = expected > 5
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 0.001
    fast_probs = np.array([fast.probs[fast.support == v].sum() for v in support])
    np.testing.assert_allclose(fast_probs, exact.probs, atol=0.01)
    assert abs(fast.median - exact.median) <= 1 and abs(fast.low - exact.low) <= 1


def test_seeded_and_interval_contains_median():
    rng = np.random.default_rng(3)
    v, e = rng.uniform(0, 1, 5000), rng.normal(size=5000)
    a = good_range(v, e, seed=11)
    b = good_range(v, e, seed=11)
    assert (a.low, a.median, a.high) == (b.low, b.median, b.high)
    assert a.low <= a.median <= a.high
    assert a.draws == 1250


def test_recovers_the_best_value():
    rng = np.random.default_rng(4)
    v = rng.uniform(10, 30, 20_000)
    e = (v - 20) ** 2 / 10 + rng.normal(0, 1, v.size)
    res = good_range(v, e)
    assert res.low < 20 < res.high


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": [1.0, 2.0], "errors": [1.0]}, "length"),
        ({"values": [1.0], "errors": [np.nan]}, "NaN"),
        ({"values": [1.0], "errors": [1.0], "sample": 0.0}, "sample"),
        ({"values": [1.0], "errors": [1.0], "method": "magic"}, "method"),
        ({"values": [], "errors": []}, "empty"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(StatsInputError, match=match):
        good_range(**kwargs)
