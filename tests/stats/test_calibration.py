"""Calibration of the step verdicts by simulation (fast versions of
``benchmarks/bench_calibration.py``; fixed seeds, so the rates are deterministic).

Tolerances: a rate bounded by α must be ≤ α + 3 Monte-Carlo SE; a rate that must reach the
planned power must be ≥ power − 5 pp − 3 SE.
"""

import numpy as np
import pytest

from edftools.stats import plan
from edftools.stats.scenarios import Scenario, verdict_rates

ALPHA = 0.05
REPS = 150


def _upper(reps: int = REPS) -> float:
    return ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / reps)


@pytest.mark.parametrize("normalized", [False, True], ids=["plain", "normalized"])
def test_identical_spaces_rarely_get_a_false_difference(normalized):
    rates = verdict_rates(Scenario("identical", normalized=normalized), 200, REPS, n_perm=199)
    for word in ("improves", "worse", "mixed"):
        assert rates[word] <= _upper(), (word, rates)
    assert rates["improves"] + rates["worse"] + rates["mixed"] <= _upper()


@pytest.mark.parametrize("normalized", [False, True], ids=["plain", "normalized"])
@pytest.mark.parametrize("kind", ["shift", "bump"])
def test_a_loss_equal_to_the_margin_is_rarely_called_no_loss(normalized, kind):
    rates = verdict_rates(Scenario(kind, 1.0, normalized), 300, REPS, n_perm=199, seed=1)
    assert rates["no loss"] + rates["improves"] <= _upper(), rates


@pytest.mark.parametrize("normalized", [False, True], ids=["plain", "normalized"])
def test_crossing_edfs_are_not_called_improves(normalized):
    rates = verdict_rates(Scenario("cross", 1.5, normalized), 200, REPS, n_perm=199, seed=3)
    assert rates["improves"] <= _upper(), rates
    assert rates["mixed"] > 0.5  # both one-sided tests see their side


@pytest.mark.parametrize("normalized", [False, True], ids=["plain", "normalized"])
def test_the_planned_n_reaches_the_planned_power(normalized):
    ep, cp, _, _ = Scenario("identical", normalized=normalized).draw(200, np.random.default_rng(99))
    p = plan(ep, pilot_complexity=cp if normalized else None, margin=1.0, n_sim=300)
    floor = 0.8 - 0.05 - 3 * np.sqrt(0.8 * 0.2 / REPS)
    same = verdict_rates(
        Scenario("identical", normalized=normalized), p.n_no_loss, REPS, n_perm=199, seed=4
    )
    assert same["no loss"] >= floor, (p, same)
    better = verdict_rates(
        Scenario("shift", -1.0, normalized), p.n_improves, REPS, n_perm=199, seed=5
    )
    assert better["improves"] >= floor, (p, better)
