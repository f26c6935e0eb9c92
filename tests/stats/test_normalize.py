"""Complexity normalization: the NDS rule exactly, log bins, target histograms, empty bins."""

import numpy as np
import pytest

from edftools.errors import StatsInputError
from edftools.stats import Normalization, edf, normalize_weights


def nds_rule(c, bins, lo, hi):
    """The NDS rule written directly: keep lo < c < hi, np.histogram, w = 1/count/K."""
    keep = (c > lo) & (c < hi)
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(c[keep], edges)
    idx = np.clip(np.digitize(c[keep], edges) - 1, 0, bins - 1)
    w = np.zeros(c.size)
    w[keep] = 1.0 / counts[idx] / bins
    return w


@pytest.mark.parametrize("bins", [1, 5, 40])
def test_equals_nds_rule(bins):
    rng = np.random.default_rng(bins)
    c = rng.gamma(3.0, 0.1, 5000)
    lo, hi = 0.05, 0.8
    np.testing.assert_array_equal(normalize_weights(c, bins, (lo, hi)), nds_rule(c, bins, lo, hi))


def test_edges_and_range_are_strict():
    c = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 0.1, 0.6])
    w = normalize_weights(c, 2, (0.0, 1.0))
    assert w[0] == 0 and w[4] == 0  # lo and hi themselves are excluded
    # bin 0 = (0, 0.5): 0.25, 0.1; bin 1 = [0.5, 1): 0.5, 0.75, 0.6
    np.testing.assert_allclose(w, [0, 0.25, 1 / 6, 1 / 6, 0, 0.25, 1 / 6])


def test_every_bin_has_equal_mass_and_default_range_keeps_all():
    rng = np.random.default_rng(1)
    c = rng.lognormal(0, 1, 2000)
    w = normalize_weights(c, 8, log=True)
    assert (w > 0).all()
    idx = Normalization(8, log=True).assign(c)
    np.testing.assert_allclose(np.bincount(idx, weights=w), np.full(8, 1 / 8))
    edges = np.geomspace(c.min(), c.max(), 9)
    counts, _ = np.histogram(c, edges)
    np.testing.assert_array_equal(np.bincount(idx), counts)


def test_target_reproduces_other_histogram():
    rng = np.random.default_rng(2)
    c = rng.uniform(0, 1, 3000)
    target = rng.beta(2, 5, 4000)
    w = normalize_weights(c, 10, (0.0, 1.0), target=target)
    idx = Normalization(10, (0.0, 1.0)).assign(c)
    t_counts = np.histogram(target, np.linspace(0, 1, 11))[0]
    np.testing.assert_allclose(np.bincount(idx, weights=w), t_counts / t_counts.sum())


def test_normalized_edf_removes_complexity_confound():
    rng = np.random.default_rng(3)
    c = rng.uniform(0, 1, 20_000) ** 3  # most models cheap
    e = 40 - 20 * c + rng.normal(0, 1, c.size)  # error falls with complexity
    w = normalize_weights(c, 20, (0.0, 1.0))
    # equal mass per bin ≈ uniform complexity: mean error ≈ 40 − 20·0.5
    assert edf(e, w).mean == pytest.approx(30.0, abs=0.15)


def test_empty_bin_is_named():
    c = np.r_[np.linspace(0.01, 0.3, 50), np.linspace(0.71, 0.99, 50)]
    with pytest.raises(StatsInputError, match=r"bins are empty \(bin 2 .*fewer bins"):
        normalize_weights(c, 5, (0.0, 1.0))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bins": 0}, "positive integer"),
        ({"bins": 2, "range": (1.0, 0.0)}, "lo < hi"),
        ({"bins": 2, "range": (0.0, 1.0), "log": True}, "positive range"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(StatsInputError, match=match):
        normalize_weights([0.2, 0.5, 0.7], **kwargs)


def test_bad_complexity():
    with pytest.raises(StatsInputError, match="NaN"):
        normalize_weights([0.1, np.nan], 2)
    with pytest.raises(StatsInputError, match="positive"):
        normalize_weights([-1.0, 2.0], 2, log=True)
