"""EDF bands: exactness of the multinomial bootstrap, DKW, coverage, bad input."""

import numpy as np
import pytest
from scipy import stats

from edftools.errors import StatsInputError
from edftools.stats import Normalization, bootstrap_edf, edf, edf_band, normalize_weights


def direct_replicates(e, w, grid, n_boot, rng, complexity=None, rule=None):
    """Plain resampling loop: draw n models, recompute (normalization) weights, evaluate."""
    out = np.empty((n_boot, grid.size))
    for b in range(n_boot):
        idx = rng.integers(0, e.size, e.size)
        if rule is not None:
            wb = normalize_weights(complexity[idx], rule.bins, rule.range)
        else:
            wb = None if w is None else w[idx]
        out[b] = edf(e[idx], wb).evaluate(grid)
    return out


def test_unweighted_replicates_are_exact_binomials():
    e = np.array([1.0, 2, 2, 3, 5, 8, 8, 8, 9, 10])
    grid = np.array([1.5, 2.5, 6.0, 9.5])
    reps = bootstrap_edf(e, grid=grid, n_boot=40_000, seed=1).replicates
    p = edf(e).evaluate(grid)
    n = e.size
    np.testing.assert_allclose(reps.mean(0), p, atol=0.003)
    np.testing.assert_allclose(reps.var(0), p * (1 - p) / n, rtol=0.03)
    # joint law: Cov(F*(g1), F*(g2)) = (F(g1) − F(g1)F(g2)) / n for g1 < g2
    cov = np.cov(reps[:, 0], reps[:, 2])[0, 1]
    assert cov == pytest.approx((p[0] - p[0] * p[2]) / n, rel=0.05)
    # the whole law of n·F*(g): a chi-square goodness of fit against Binomial(n, F̂(g))
    counts = np.bincount(np.rint(reps[:, 1] * n).astype(int), minlength=n + 1)
    expected = stats.binom.pmf(np.arange(n + 1), n, p[1]) * reps.shape[0]
    keep = expected > 5
    chi2 = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 0.001


@pytest.mark.parametrize("renormalize", [False, True])
def test_weighted_replicates_match_direct_resampling(renormalize):
    rng = np.random.default_rng(5)
    n = 60
    c = rng.uniform(0, 1, n)
    e = rng.normal(0, 1, n) + 2 * c
    grid = np.quantile(e, [0.2, 0.5, 0.8])
    rule = Normalization(3, (0.0, 1.0))
    if renormalize:
        fast = bootstrap_edf(e, grid=grid, n_boot=4000, seed=2, complexity=c, normalization=rule)
        slow = direct_replicates(e, None, grid, 1500, rng, c, rule)
    else:
        w = normalize_weights(c, 3, (0.0, 1.0))
        fast = bootstrap_edf(e, w, grid=grid, n_boot=4000, seed=2)
        slow = direct_replicates(e, w, grid, 1500, rng)
    for j in range(grid.size):
        assert stats.ks_2samp(fast.replicates[:, j], slow[:, j]).pvalue > 0.001
        assert fast.replicates[:, j].std() == pytest.approx(slow[:, j].std(), rel=0.1)


def test_estimate_matches_edf_and_default_grid():
    rng = np.random.default_rng(0)
    e, w = rng.normal(size=500), rng.random(500)
    band = edf_band(e, w, n_boot=200)
    assert band.grid.size == 512 and band.grid[0] == e.min() and band.grid[-1] == e.max()
    np.testing.assert_allclose(band.estimate, edf(e, w).evaluate(band.grid))
    assert np.all(band.lower <= band.estimate + 1e-12) and np.all(band.estimate <= band.upper)


def test_seeded_and_simultaneous_wider_than_pointwise():
    e = np.random.default_rng(3).normal(size=300)
    a = edf_band(e, n_boot=300, seed=7, grid=64)
    b = edf_band(e, n_boot=300, seed=7, grid=64)
    np.testing.assert_array_equal(a.lower, b.lower)
    s = edf_band(e, n_boot=300, seed=7, grid=64, kind="simultaneous")
    assert (s.upper - s.lower).max() > (a.upper - a.lower).max()


def test_dkw_half_width():
    e = np.random.default_rng(4).normal(size=400)
    band = edf_band(e, kind="dkw", level=0.9)
    assert band.half_width == pytest.approx(np.sqrt(np.log(2 / 0.1) / 800))
    with pytest.raises(StatsInputError, match="unweighted"):
        edf_band(e, np.linspace(1, 2, 400), kind="dkw")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"errors": [1.0, np.nan]}, "NaN"),
        ({"errors": []}, "empty"),
        ({"errors": [1.0, 2.0], "weights": [1.0, -2.0]}, "non-negative"),
        ({"errors": [1.0, 2.0], "weights": [1.0]}, "length"),
        ({"errors": [1.0, 2.0], "level": 1.5}, "level"),
        ({"errors": [1.0, 2.0], "kind": "bogus"}, "kind"),
        ({"errors": [1.0, 2.0], "n_boot": 0}, "n_boot"),
        ({"errors": [1.0, 2.0], "normalization": Normalization(2)}, "complexity"),
        ({"errors": [1.0, 2.0], "complexity": [1.0, 2.0]}, "normalization"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(StatsInputError, match=match):
        edf_band(**kwargs)
