"""The OLS and quantile-regression lines of stats/linefit against statsmodels itself: the
same parameters, CIs and p-values bit for bit (what the trend panels show does not move)."""

import numpy as np
import pytest
from statsmodels.regression.linear_model import OLS
from statsmodels.regression.quantile_regression import QuantReg

from edftools.stats.linefit import _score_at_percentile, ols_line, quantile_line


def _data(seed: int, n: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.log(np.exp(rng.uniform(np.log(2e8), np.log(4e9), n)))
    if kind == "integer":  # a depth-like parameter: few distinct values, many ties
        y = np.round(2.0 + 0.8 * t + rng.normal(0, 1.5, n)).clip(1)
    elif kind == "heavy":
        y = 3.0 * t + rng.standard_t(2, n)
    else:
        y = 20.0 - 0.2 * t + rng.normal(0, 1, n)
    return y, np.column_stack([np.ones_like(t), t])


CASES = [(0, 40, "integer"), (1, 300, "heavy"), (2, 600, "flat"), (3, 9, "integer")]


@pytest.mark.parametrize(("seed", "n", "kind"), CASES)
def test_ols_line_is_statsmodels_bit_for_bit(seed, n, kind):
    y, design = _data(seed, n, kind)
    ref = OLS(y, design).fit()
    params, ci, pvalues = ols_line(y, design, 0.05)
    assert np.array_equal(params, ref.params, equal_nan=True)
    assert np.array_equal(ci, ref.conf_int(0.05), equal_nan=True)
    assert np.array_equal(pvalues, ref.pvalues, equal_nan=True)


@pytest.mark.parametrize("q", [0.1, 0.25, 0.5, 0.9])
@pytest.mark.parametrize(("seed", "n", "kind"), CASES)
def test_quantile_line_is_statsmodels_bit_for_bit(seed, n, kind, q):
    y, design = _data(seed, n, kind)
    ref = QuantReg(y, design).fit(q=q)
    params, ci, pvalues = quantile_line(y, design, q, 0.1)
    assert np.array_equal(params, ref.params, equal_nan=True)
    assert np.array_equal(ci, ref.conf_int(0.1), equal_nan=True)
    assert np.array_equal(pvalues, ref.pvalues, equal_nan=True)


def test_score_at_percentile_is_scipys():
    from scipy.stats import scoreatpercentile

    values = np.random.default_rng(4).normal(size=37)
    for per in (0, 25, 50, 75, 100, 33.3):
        assert _score_at_percentile(values, per) == scoreatpercentile(values, per)
