"""Power of one KS test: asymptotic bound, simulation against scipy."""

import numpy as np
import pytest
from scipy import stats

from edftools.errors import StatsInputError
from edftools.stats import power


def test_asymptotic_solves_its_own_formula():
    res = power(delta=0.1)
    assert res.power >= 0.8 and power(n=res.n - 1, delta=0.1).power < 0.8
    d = power(n=res.n).delta
    assert d == pytest.approx(0.1, rel=0.01)
    ps = [power(n=n, delta=0.1).power for n in (50, 200, 800)]
    assert ps[0] < ps[1] < ps[2]


def test_asymptotic_is_a_lower_bound_and_simulation_matches_scipy():
    rng = np.random.default_rng(0)
    n, delta = 200, 0.15
    shift = 2 * stats.norm.ppf((1 + delta) / 2)
    pvals = [
        stats.ks_2samp(rng.normal(size=n), rng.normal(shift, 1, n), method="asymp").pvalue
        for _ in range(600)
    ]
    scipy_power = np.mean(np.array(pvals) < 0.05)
    sim = power(n=n, delta=delta, method="simulation", n_sim=2000, seed=1).power
    assert abs(sim - scipy_power) < 0.06  # SE of the difference ≈ 2.2 pp
    assert power(n=n, delta=delta).power <= sim + 0.02


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"delta": 1.5},
        {"delta": 0.1, "alpha": 0},
        {"n": 1, "delta": 0.1},
        {"delta": 0.1, "method": "guess"},
    ],
)
def test_bad_input(kwargs):
    with pytest.raises(StatsInputError):
        power(**kwargs)
