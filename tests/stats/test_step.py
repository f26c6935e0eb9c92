"""One restriction step and families of steps: verdict rules, the public API, multiplicity,
the no-loss test and Monte-Carlo control."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

import edftools
from edftools.errors import StatsInputError
from edftools.stats import Margin, chain_test, holm, no_loss_test, step_down, unstratified
from edftools.stats.verdicts import step_verdict


def test_verdict_rules():
    assert step_verdict(better=True, worse=True, no_loss=True) == "mixed"
    assert step_verdict(better=False, worse=True, no_loss=False) == "worse"
    assert step_verdict(better=True, worse=False, no_loss=True) == "improves"
    assert step_verdict(better=True, worse=False, no_loss=False) == "inconclusive"
    assert step_verdict(better=False, worse=False, no_loss=True) == "no loss"
    assert step_verdict(better=False, worse=False, no_loss=False) == "inconclusive"


def test_step_test_api():
    rng = np.random.default_rng(0)
    parent, restricted = rng.normal(8, 2, 400), rng.normal(6.5, 2, 400)
    res = edftools.step_test(parent, restricted)
    assert res.verdict == "improves"
    assert res.margin == Margin(1.0, "pp", (0.1, 0.5))
    # the no-loss p-value has a floor of β = 1e-5 (Berger–Boos, edftools.stats.noloss)
    assert res.p_better < 1e-6 and res.p_worse > 0.5 and res.p_no_loss < 2e-5
    assert res.loss < 0 and len(repr(res)) < 200 and "improves" in repr(res)
    worse = edftools.step_test(restricted, parent, margin=0.05, margin_unit="edf")
    assert worse.verdict == "worse" and worse.margin.unit == "edf"
    normalized = edftools.step_test(
        parent, restricted, parent_complexity=rng.random(400), restricted_complexity=rng.random(400)
    )
    assert normalized.verdict == "improves" and normalized.n_perm >= 999
    with pytest.raises(StatsInputError, match="both complexities"):
        edftools.step_test(parent, restricted, parent_complexity=rng.random(400))


def test_same_seed_same_result_and_clear_verdicts_do_not_depend_on_the_seed():
    rng = np.random.default_rng(1)
    p, r = rng.normal(8, 2, 300), rng.normal(7, 2, 300)
    cp, cr = rng.random(300), rng.random(300)
    kw = {"parent_complexity": cp, "restricted_complexity": cr}
    a = edftools.step_test(p, r, seed=5, **kw)
    assert a == edftools.step_test(p, r, seed=5, **kw)
    assert {edftools.step_test(p, r, seed=s, **kw).verdict for s in range(5)} == {a.verdict}


def test_monte_carlo_control_adds_permutations_near_the_threshold():
    """A pair whose better-p sits near α/2 gets more than the first 999 permutations."""
    rng = np.random.default_rng(2)
    found = False
    for rep in range(40):
        p, r = rng.normal(8, 2, 150), rng.normal(7.55, 2, 150)
        cp, cr = rng.random(150), rng.random(150)
        res = edftools.step_test(p, r, parent_complexity=cp, restricted_complexity=cr, seed=rep)
        if res.n_perm > 999:
            found = True
            assert abs(res.p_better - 0.025) < 0.02 or abs(res.p_worse - 0.025) < 0.02
            break
    assert found


def test_step_down_with_holm_divisors_is_statsmodels_holm():
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.001])
    reject, adjusted = step_down(p, 5 - np.arange(5))
    ref = multipletests(p, method="holm")
    np.testing.assert_array_equal(reject, ref[0])
    np.testing.assert_allclose(adjusted, ref[1])
    np.testing.assert_allclose(holm(p)[1], ref[1])
    with pytest.raises(StatsInputError):
        holm([0.5, 1.5])


def test_family_wise_error_over_a_chain_of_identical_spaces():
    """Six identical spaces (5 steps): any false better/worse claim in ≤ α + 3 SE of 200
    seeded chains."""
    errors = 0
    for rep in range(200):
        rng = np.random.default_rng([11, rep])
        samples = [unstratified(4 + rng.gamma(2, 1.5, 150)) for _ in range(6)]
        results = chain_test(samples, seed=rep)
        errors += any(r.decisions[0] or r.decisions[1] for r in results)
    assert errors / 200 <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 200)


def test_no_loss_test_pp_and_edf_margins():
    rng = np.random.default_rng(3)
    p = unstratified(rng.normal(8, 2, 2000))
    same = unstratified(rng.normal(8, 2, 2000))
    far = unstratified(rng.normal(10, 2, 2000))
    assert no_loss_test(p, same, Margin(1.0)).pvalue < 1e-4
    bad = no_loss_test(p, far, Margin(1.0))
    assert bad.pvalue > 0.5 and bad.loss == pytest.approx(2.0, abs=0.3)
    assert no_loss_test(p, same, Margin(0.05, "edf")).pvalue < 0.05
    assert no_loss_test(p, far, Margin(0.05, "edf")).pvalue > 0.5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"value": 0}, "margin must be"),
        ({"value": 1.5, "unit": "edf"}, r"in \(0, 1\)"),
        ({"value": 1.0, "unit": "percent"}, "unit"),
        ({"value": 1.0, "q_range": (0.5, 0.1)}, "quantile range"),
    ],
)
def test_bad_margins(kwargs, match):
    with pytest.raises(StatsInputError, match=match):
        Margin(**kwargs)


def test_no_loss_tails_are_scipys_bivariate_normal():
    """Owen's-T forms of Φ₂ and of P(R + max(W, −c) ≥ u) against scipy's bivariate normal."""
    from scipy.stats import multivariate_normal, norm

    from edftools.stats.noloss import bivariate_normal_cdf, upper_tail

    for h, k, rho in [(0.3, -1.2, 0.7), (-2.0, 0.5, 0.3), (0.0, 1.0, 0.6), (2.0, 2.0, 0.707)]:
        ref = multivariate_normal([0, 0], [[1, rho], [rho, 1]]).cdf([h, k])
        got = bivariate_normal_cdf(np.array([h]), np.array([k]), np.array([rho]))[0]
        assert got == pytest.approx(ref, abs=1e-7)
    for u, c, sd_p, sd_r in [
        (0.05, 0.0, 0.02, 0.03),
        (0.08, 0.05, 0.02, 0.03),
        (0.1, 0.01, 0.04, 0.02),
    ]:
        # P(R + max(W, −c) ≥ u) = P(W ≥ −c, R + W ≥ u) + P(W < −c)·P(R ≥ u + c)
        sd = np.hypot(sd_p, sd_r)
        cov = [[sd_p**2, sd_p**2], [sd_p**2, sd**2]]  # (W, R + W)
        low = multivariate_normal([0, 0], cov)
        first = 1 - norm.cdf(-c / sd_p) - norm.cdf(u / sd) + low.cdf([-c, u])
        expected = first + norm.cdf(-c / sd_p) * norm.sf((u + c) / sd_r)
        got = upper_tail(*(np.array([v]) for v in (u, c, sd_p, sd_r)))[0]
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-8)


def test_no_loss_tests_the_edges_of_its_range():
    """A loss of exactly the margin at q = 0.1 only: the sample range [Q̂(0.1), Q̂(0.5)] often
    misses it, the whole-range test does not (the former test said "no loss" here in 8–12% of
    these draws)."""
    from edftools.stats.scenarios import Scenario

    sc = Scenario("bump", 1.0, at=0.1)
    claims = 0
    for rep in range(150):
        ep, _, er, _ = sc.draw(200, np.random.default_rng([7, rep]))
        claims += no_loss_test(unstratified(ep), unstratified(er), Margin(1.0)).pvalue <= 0.025
    assert claims / 150 <= 0.025 + 3 * np.sqrt(0.025 * 0.975 / 150)
