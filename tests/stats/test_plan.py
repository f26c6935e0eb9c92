"""Prospective planning: edftools.plan simulates the step's actual tests on a pilot."""

import numpy as np
import pytest

import edftools
from edftools.errors import StatsInputError


def test_plan_api_and_monotone_answers():
    rng = np.random.default_rng(0)
    pilot = 4 + rng.gamma(2, 1.5, 200)
    res = edftools.plan(pilot, margin=1.0, power=0.8, alpha=0.05, steps=1)
    assert res.n is not None and res.n == max(res.n_no_loss, res.n_improves)
    assert "per space" in repr(res) and len(repr(res)) < 300
    ns = [n for n, _, _ in res.curve]
    assert ns == sorted(ns)
    # stricter family (more steps) and a smaller margin both need more models
    assert edftools.plan(pilot, margin=1.0, steps=5).n_no_loss > res.n_no_loss
    assert edftools.plan(pilot, margin=0.5).n_no_loss > res.n_no_loss
    # a bigger design effect is easier to see
    assert edftools.plan(pilot, margin=1.0, effect=2.0).n_improves < res.n_improves


def test_plan_is_seeded():
    rng = np.random.default_rng(1)
    pilot = np.round(4 + rng.gamma(2, 1.5, 150), 1)  # ties: a lattice pilot
    assert edftools.plan(pilot, seed=3) == edftools.plan(pilot, seed=3)


def test_normalized_plan_and_edf_margin():
    rng = np.random.default_rng(2)
    c = rng.random(300)
    pilot = 4 + 3 * c + rng.gamma(2, 1.5, 300)
    res = edftools.plan(pilot, pilot_complexity=c, bins=4, margin=0.1, margin_unit="edf")
    assert res.margin.unit == "edf" and res.effect > 0 and res.n is not None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"power": 1.2}, "power"),
        ({"effect": -1.0}, "effect"),
        ({"steps": 0}, "steps"),
        ({"pilot_complexity": [1.0, 2.0]}, "complexities"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(StatsInputError, match=match):
        edftools.plan(np.arange(20.0), **kwargs)
