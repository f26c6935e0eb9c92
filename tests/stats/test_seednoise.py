"""Seed-noise SD (pooled within-config SD) and its chi-square CI against direct computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from edftools.errors import StatsInputError
from edftools.stats.seednoise import pooled_sd, sd_interval, seed_noise


def _replicates(rng: np.random.Generator, configs: int, sizes: list[int], sigma: float):
    means = rng.gamma(2.0, 2.0, size=configs) + 5.0
    return [means[c] + sigma * rng.standard_normal(sizes[c % len(sizes)]) for c in range(configs)]


def test_pooled_sd_matches_the_anova_residual_mean_square() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    groups = _replicates(rng, 12, [2, 3, 4], 0.8)
    sd, df = pooled_sd([*groups, np.array([3.0])])  # a single run adds nothing
    y = np.concatenate(groups)
    labels = np.repeat(np.arange(len(groups)), [g.size for g in groups])
    dummies = (labels[:, None] == np.arange(len(groups))[None, :]).astype(float)
    fit = sm.OLS(y, dummies).fit()
    assert df == y.size - len(groups) == int(fit.df_resid)
    assert sd == pytest.approx(math.sqrt(fit.mse_resid), rel=1e-12)
    direct = sum(((g - g.mean()) ** 2).sum() for g in groups) / sum(g.size - 1 for g in groups)
    assert sd == pytest.approx(math.sqrt(direct), rel=1e-12)
    assert pooled_sd([[1.0], [2.0]]) == (pytest.approx(math.nan, nan_ok=True), 0)


def test_interval_is_the_chi_square_interval() -> None:
    low, high = sd_interval(2.0, 10, 0.9)
    assert low == pytest.approx(2.0 * math.sqrt(10 / sps.chi2.ppf(0.95, 10)))
    assert high == pytest.approx(2.0 * math.sqrt(10 / sps.chi2.ppf(0.05, 10)))
    assert low < 2.0 < high


def test_ci_covers_sigma_at_its_level_by_simulation() -> None:
    rng = np.random.default_rng(20)
    sigma, sims = 0.6, 400
    hits = 0
    for _ in range(sims):
        groups = _replicates(rng, 10, [2, 3], sigma)
        r = seed_noise(groups, [g[0] for g in groups], level=0.95)
        hits += r.low <= sigma <= r.high
    assert abs(hits / sims - 0.95) <= 0.03


def test_result_reports_the_edf_spread_next_to_the_noise() -> None:
    rng = np.random.default_rng(1)
    groups = _replicates(rng, 8, [3], 0.5)
    originals = rng.normal(10.0, 2.0, size=50)
    r = seed_noise(groups, originals)
    assert r.edf_sd == pytest.approx(np.std(originals, ddof=1))
    assert r.iqr == pytest.approx(sps.iqr(originals))
    assert r.n_configs == 8 and r.n_runs == 24 and r.df == 16 and r.n_edf == 50
    assert r.ratio == pytest.approx(r.sd / r.edf_sd)
    assert "SeedNoise(sd=" in repr(r) and len(repr(r)) < 160
    frame = r.to_frame()
    assert list(frame["n_configs"]) == [8] and frame["ratio"].iloc[0] == pytest.approx(r.ratio)


def test_bad_input_is_one_typed_error() -> None:
    with pytest.raises(StatsInputError, match="at least one config with two"):
        seed_noise([[1.0], [2.0]], [1.0, 2.0])
    with pytest.raises(StatsInputError, match="NaN"):
        seed_noise([[1.0, math.nan]], [1.0, 2.0])
    with pytest.raises(StatsInputError, match="level"):
        seed_noise([[1.0, 2.0]], [1.0, 2.0], level=1.5)


def test_robust_sd_estimates_sigma_and_ignores_a_few_diverged_seeds() -> None:
    from edftools.stats.seednoise import pooled_sd, robust_sd

    rng = np.random.default_rng(11)
    estimates = []
    for _ in range(200):
        groups = [rng.normal(5.0, 0.6, 2) for _ in range(40)]
        estimates.append(robust_sd(groups))
    assert abs(np.mean(estimates) - 0.6) < 0.03  # consistent for sigma (normal errors)
    groups = [rng.normal(5.0, 0.6, 2) for _ in range(40)]
    for g in groups[:4]:
        g[1] = 90.0  # 10% of the configs have a seed that diverged
    assert pooled_sd(groups)[0] > 10 and robust_sd(groups) < 1.0
    assert np.isnan(robust_sd([np.array([1.0])]))
