"""Trend regression: recovers a known slope among good models, CIs contain it."""

import numpy as np
import pytest

from edftools.errors import StatsInputError
from edftools.stats import trend


def test_recovers_log_slope_among_good_models():
    rng = np.random.default_rng(0)
    flops = np.exp(rng.uniform(np.log(2e8), np.log(4e9), 3000))
    width = 3.0 * np.log(flops) + rng.normal(0, 1, flops.size)
    errors = rng.normal(30, 2, flops.size)
    res = trend(flops, width, errors=errors, top=0.2, quantiles=(0.25, 0.5))
    assert res.n == 600
    assert res.ols.slope.low < 3.0 < res.ols.slope.high
    assert res.quantile[0.5].slope.low < 3.0 < res.quantile[0.5].slope.high
    assert res.ols.pvalue < 1e-10
    fit = res.ols
    assert res.predict(1e9) == pytest.approx(fit.intercept.value + fit.slope.value * np.log(1e9))


def test_flat_trend_is_not_significant():
    rng = np.random.default_rng(1)
    x = np.exp(rng.uniform(0, 3, 400))
    res = trend(x, 20 + rng.normal(0, 2, 400), quantiles=())
    assert res.ols.slope.low < 0 < res.ols.slope.high


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": [1.0, 2.0], "y": [1.0]}, "length"),
        ({"x": [-1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]}, "positive"),
        ({"x": [1.0, 1.0, 1.0], "y": [1.0, 2.0, 3.0]}, "distinct"),
        ({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0], "top": 0.5}, "together"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(StatsInputError, match=match):
        trend(**kwargs)
