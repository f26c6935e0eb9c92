"""The step-down of restriction steps (edftools.stats.multiplicity): against the closed test
by enumeration, and its family-wise error."""

import itertools

import numpy as np
import pytest

from edftools.errors import StatsInputError
from edftools.stats.multiplicity import NO_LOSS_SHARE, step_shares, steps_adjusted

# the consistent sets of a step's hypotheses (0 better, 1 worse, 2 no loss): never {1, 2}
STEP_SETS = [(), (0,), (1,), (2,), (0, 1), (0, 2)]


def _weights(step_set: tuple[int, ...]) -> dict[int, float]:
    if len(step_set) == 1:
        return {step_set[0]: 1.0}
    if step_set == (0, 1):
        return {0: 0.5, 1: 0.5}
    return {0: 1.0 - NO_LOSS_SHARE, 2: NO_LOSS_SHARE}


def _closed_by_enumeration(p: np.ndarray, alpha: float) -> np.ndarray:
    """H_i rejected iff every consistent intersection J ∋ i is rejected by its weighted
    Bonferroni test (w_i(J) = a_i(J_s) / k(J))."""
    m = p.shape[0]
    rejected = np.ones(p.shape, dtype=bool)
    for combo in itertools.product(STEP_SETS, repeat=m):
        k = sum(1 for s in combo if s)
        if k == 0:
            continue
        hit = any(
            p[s, h] <= alpha * a / k
            for s, step_set in enumerate(combo)
            for h, a in _weights(step_set).items()
        )
        if not hit:
            for s, step_set in enumerate(combo):
                for h in step_set:
                    rejected[s, h] = False
    return rejected


@pytest.mark.parametrize("m", [1, 2, 3])
def test_every_rejection_is_one_of_the_closed_test(m):
    rng = np.random.default_rng(m)
    for _ in range(150):
        # p-values spread over the scale where the shares matter (α·w from 0.0017 to 0.05)
        p = np.exp(rng.uniform(np.log(1e-4), np.log(0.2), (m, 3)))
        for alpha in (0.05, 0.1):
            closed = _closed_by_enumeration(p, alpha)
            ours = steps_adjusted(p) <= alpha
            assert not (ours & ~closed).any(), (p, alpha)


def test_one_step_levels():
    """One step: no loss at ω·α (0.045), better at (1 − ω)·α, worse at α/2, each growing as
    partners are rejected."""
    none = np.zeros((1, 3), dtype=bool)
    np.testing.assert_allclose(step_shares(none)[0], [1 - NO_LOSS_SHARE, 0.5, NO_LOSS_SHARE])
    no_loss_done = np.array([[False, False, True]])
    np.testing.assert_allclose(step_shares(no_loss_done)[0, :2], [0.5, 0.5])
    better_done = np.array([[True, False, False]])
    np.testing.assert_allclose(step_shares(better_done)[0, 1:], [1.0, 1.0])
    # two steps: each gets half, until one of them has nothing open
    two = step_shares(np.array([[True, True, True], [False, False, False]]))
    np.testing.assert_allclose(two[1], [1 - NO_LOSS_SHARE, 0.5, NO_LOSS_SHARE])
    # a no-loss p-value of 0.04 is a "no loss" (Shaffer's step-down needed 0.025)
    adjusted = steps_adjusted(np.array([[0.5, 0.5, 0.04]]))
    np.testing.assert_allclose(adjusted[0, 2], 0.04 / NO_LOSS_SHARE)
    with pytest.raises(StatsInputError):
        step_shares(np.zeros((2, 2), dtype=bool))
    with pytest.raises(StatsInputError):
        steps_adjusted(np.full((1, 3), 1.5))


@pytest.mark.parametrize("m", [1, 2, 3])
def test_family_wise_error_for_every_configuration_of_true_hypotheses(m):
    """Every consistent configuration of true hypotheses T over m steps: at the least
    favourable p-values (0 for the false ones, which are then all rejected first) every true
    H_i is tested at α·w_i(F), F = the false ones, so P(any false rejection) ≤ α·Σ_{i∈T}
    w_i(F) (exactly 1 − Π(1 − α·w_i(F)) for independent uniform p-values): Σ ≤ 1."""
    for combo in itertools.product(STEP_SETS, repeat=m):
        true = np.zeros((m, 3), dtype=bool)
        for s, step_set in enumerate(combo):
            true[s, list(step_set)] = True
        if not true.any():
            continue
        shares = step_shares(~true)
        assert shares[true].sum() <= 1.0 + 1e-12, combo
        # and the step-down reaches exactly that state: false ones first, at p = 0
        p = np.where(true, 0.5, 0.0)
        np.testing.assert_array_equal(steps_adjusted(p) <= 0.05, ~true)
