"""The renormalized bootstrap EDF computed in place against its first, direct form: the same
float operations, so every bootstrap band and summary is unchanged bit for bit."""

import numpy as np
import pytest

from edftools.stats.resample import Categories, categorize, edf_from_counts


def _reference(cat: Categories, counts: np.ndarray) -> np.ndarray:
    """F*(g_j) = Σ_k π_k·F*_k(g_j) / Σ_{k: N*_k > 0} π_k as first written: every cell up to
    the one above the grid, the cumulative sum, then the division where N*_k > 0."""
    counts = np.atleast_2d(counts)
    b, k = counts.shape[0], cat.values.size
    per = np.zeros((b, cat.m + 1, k))
    per[:, cat.cell, cat.group] = counts
    cum = np.cumsum(per, axis=1)
    n_k = cum[:, -1, :]
    present = n_k > 0
    share = np.where(present, cat.values[None, :], 0.0)
    share /= share.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        f_k = np.where(present[:, None, :], cum[:, : cat.m, :] / n_k[:, None, :], 0.0)
    return np.einsum("bjk,bk->bj", f_k, share)


@pytest.mark.parametrize("seed", range(6))
def test_in_place_edf_equals_the_reference_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(15, 600)), int(rng.integers(2, 10))
    errors = rng.random(n)
    # a grid that leaves models above it, and small samples where bins go empty in resamples
    grid = np.sort(rng.random(int(rng.integers(3, 300)))) * 0.9
    strata = rng.integers(0, k, n)
    cat = categorize(errors, grid, strata=strata, stratum_mass=rng.dirichlet(np.ones(k)))
    counts = rng.multinomial(cat.n, cat.probs / cat.probs.sum(), size=400)
    got, want = edf_from_counts(cat, counts), _reference(cat, counts)
    assert np.array_equal(got, want)
    assert got.std(axis=0).max() > 0  # the resamples differ: the comparison is not vacuous


def test_a_bin_empty_in_a_resample_is_dropped_as_before():
    errors = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    strata = np.array([0, 0, 0, 1, 1])
    cat = categorize(errors, np.array([0.15, 0.35, 0.6]), strata=strata,
                     stratum_mass=np.array([0.5, 0.5]))  # fmt: skip
    counts = np.zeros((1, cat.probs.size), dtype=np.int64)
    counts[0, np.flatnonzero(cat.group == 0)] = 5 // int((cat.group == 0).sum())
    counts[0, np.flatnonzero(cat.group == 0)[0]] += 5 - counts[0].sum()  # bin 1 not drawn
    got = edf_from_counts(cat, counts)
    assert np.array_equal(got, _reference(cat, counts))
    # F* is bin 0's own EDF alone (bin 1 dropped, its weight renormalized away)
    f0 = np.cumsum(np.bincount(cat.cell[cat.group == 0], counts[0, cat.group == 0], 4))[:3] / 5
    assert np.allclose(got[0], f0) and got[0, -1] == 1.0
