"""The permutation null's fast layout (cells × permutations) against the original
permutations × cells loop: the same draws, bit for bit, so every p-value is unchanged."""

import numpy as np
import pytest

from edftools.stats import stratify_together
from edftools.stats.pairtest import _TIE, WithinBinPermutation, _hypergeometric_counts


def _reference_draw(
    null: WithinBinPermutation, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The statistics as first written: permutations × cells, each group's counts added at
    its columns, the cumulative sum along each row."""
    weighted = np.zeros((size, null.bounds.size))
    for cells, colors, take, beta in zip(
        null._cells, null._colors, null._take, null._beta, strict=True
    ):
        weighted[:, cells] += beta * _hypergeometric_counts(colors, take, size, rng)
    diff = null._base - np.cumsum(weighted, axis=1)
    return diff.max(axis=1), (-diff).max(axis=1)


def _pair(seed: int, n_p: int, n_r: int, shift: float, distinct: bool):
    rng = np.random.default_rng(seed)
    e_p, e_r = rng.normal(0, 1, n_p), rng.normal(shift, 1, n_r)
    if not distinct:  # ties: errors on a 0.05 lattice
        e_p, e_r = np.round(e_p * 20) / 20, np.round(e_r * 20) / 20
    c_p, c_r = rng.lognormal(0, 0.5, n_p), rng.lognormal(0.1, 0.5, n_r)
    return stratify_together([e_p, e_r], [c_p, c_r], 6)


@pytest.mark.parametrize(
    ("seed", "n_p", "n_r", "shift", "distinct"),
    [(0, 300, 250, 0.0, True), (1, 500, 520, 0.3, False), (2, 80, 3000, -0.2, True)],
)
def test_fast_draws_equal_the_reference_bit_for_bit(seed, n_p, n_r, shift, distinct):
    parent, restricted = _pair(seed, n_p, n_r, shift, distinct)
    null = WithinBinPermutation(parent, restricted)
    up, down = null.draw(700, np.random.default_rng(seed + 10))
    ref_up, ref_down = _reference_draw(null, 700, np.random.default_rng(seed + 10))
    assert np.array_equal(up, ref_up) and np.array_equal(down, ref_down)
    assert up.std() > 0  # the permutations differ: the comparison is not vacuous


def test_extend_counts_the_reference_exceedances():
    parent, restricted = _pair(3, 400, 380, 0.1, False)
    null = WithinBinPermutation(parent, restricted)
    null.extend(999, np.random.default_rng(5))
    up, down = _reference_draw(null, 999, np.random.default_rng(5))
    assert null.exceed_better == int((up >= null.better - _TIE).sum())
    assert null.exceed_worse == int((down >= null.worse - _TIE).sum())
    two = max(null.better, null.worse) - _TIE
    assert null.exceed_two_sided == int((np.maximum(up, down) >= two).sum())
