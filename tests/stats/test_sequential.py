"""Group-sequential refinement: spending, the one-look special case, and simulated error rates
over all steps and looks (fast versions of ``benchmarks/bench_sequential.py``)."""

import numpy as np
import pytest

from edftools.errors import StatsInputError
from edftools.stats import Margin, chain_test, stratify_together, unstratified
from edftools.stats.scenarios import _base
from edftools.stats.sequential import (
    SequentialChain,
    SequentialDesign,
    chain_steps,
    simulate_study,
    spending_fraction,
)


@pytest.mark.parametrize("kind", ["obrien-fleming", "pocock"])
def test_spending_functions(kind):
    ts = np.linspace(0, 1, 21)
    g = [spending_fraction(t, 0.05, kind) for t in ts]
    assert g[0] == 0 and g[-1] == pytest.approx(1.0) and np.all(np.diff(g) >= 0)
    if kind == "obrien-fleming":
        assert spending_fraction(0.5, 0.05, kind) < 0.2  # little early
    else:
        assert spending_fraction(0.5, 0.05, kind) > 0.5


def test_design_looks_and_bad_designs():
    assert SequentialDesign(50, 120).looks == (50, 100, 120)
    with pytest.raises(StatsInputError, match="max_n"):
        SequentialDesign(100, 50)
    with pytest.raises(StatsInputError, match="spending"):
        SequentialDesign(spending="linear")


def test_one_look_at_full_information_is_the_fixed_design():
    rng = np.random.default_rng(0)
    samples = [unstratified(4 + rng.gamma(2, 1.5, 300) + s) for s in (0.0, 0.0, -1.5, 0.0)]
    design = SequentialDesign(look_every=300, max_n=300)
    chain = SequentialChain(chain_steps(4), design, Margin(), seed=1)
    chain.look([(samples[i], samples[i + 1]) for i in range(3)])
    fixed = chain_test(samples, Margin(), seed=1)
    assert chain.verdicts == [r.verdict for r in fixed]
    assert chain.finished


def _study(shifts, rep, seed):
    rng = np.random.default_rng([seed, rep])
    models = [(_base(400, rng, skewed=False)[0] + s) for s in shifts]

    def draw(j, n):
        return stratify_together([models[j][:n]], None, 8)[0]

    return simulate_study(
        draw, chain_steps(len(shifts)), SequentialDesign(50, 400), Margin(), rep, 199
    )


def _null_family_wise_error(n_spaces: int, reps: int = 80) -> float:
    """Share of simulated null studies with any false improves/worse/mixed verdict."""
    false = 0
    for rep in range(reps):
        chain, _ = _study((0.0,) * n_spaces, rep, 1)
        false += any(v in ("improves", "worse", "mixed") for v in chain.verdicts)
    return false / reps


def test_null_chain_family_wise_error_over_all_looks_of_two_steps():
    """3 identical spaces (2 steps), looks every 50 up to 400: any false improves/worse/mixed
    in ≤ α + 3 SE of 80 simulated studies (the 6-space chain is the slow test below)."""
    assert _null_family_wise_error(3) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 80)


@pytest.mark.slow
def test_null_chain_family_wise_error_over_all_looks():
    """6 identical spaces, looks every 50 up to 400: any false improves/worse/mixed in ≤ α +
    3 SE of 80 simulated studies."""
    assert _null_family_wise_error(6) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 80)


def test_mixed_chain_is_mostly_right_and_stops_early():
    """no loss, improves (−1.5 pp), worse (+1.5 pp): all three right in ≥ 0.8 − 3 SE of 40
    studies, and the decided spaces stop before max_n on average."""
    right, used = 0, []
    for rep in range(40):
        chain, counts = _study((0.0, 0.0, -1.5, 0.0), rep, 2)
        right += chain.verdicts == ["no loss", "improves", "worse"]
        used.append(np.mean(counts))
    assert right / 40 >= 0.8 - 3 * np.sqrt(0.8 * 0.2 / 40)
    assert np.mean(used) < 400


def test_normalized_chain_reaches_its_verdicts():
    """Complexity-normalized spaces (permutation p-values within bins, the restricted spaces
    drawing more complex models): the late looks' levels (~1e-3) are reachable, so the mixed
    chain no loss / improves / worse is decided right in most of 6 studies (a simulation that
    capped the permutations at 199 could never reject below 0.005 and decided none)."""
    right = 0
    for rep in range(6):
        rng = np.random.default_rng([7, rep])
        models = []
        for j, s in enumerate((0.0, 0.0, -1.5, 0.0)):
            e, c = _base(400, rng, skewed=j % 2 == 1)
            models.append((e + s, c))

        def draw(j, n, models=models):
            try:
                return stratify_together([e[:n] for e, _ in models], [c[:n] for _, c in models], 8)[
                    j
                ]
            except StatsInputError:
                return None

        chain, _ = simulate_study(draw, chain_steps(4), SequentialDesign(100, 400), Margin(), rep)
        right += chain.verdicts == ["no loss", "improves", "worse"]
    assert right >= 4


def test_every_look_records_the_futility_test_that_stops_no_loss():
    """Each record carries the futility rule's test (no loss with the roles swapped, at
    α·Δg), and a step is final before max_n exactly when it claims (improves, worse, mixed)
    or shows no loss with p_futility ≤ level_futility. (Gains of 0.8 pp: "no loss" is shown
    at looks where a gain of the 2 pp margin is not excluded yet.)"""
    from edftools.stats.noloss import no_loss_test

    rng = np.random.default_rng(11)
    models = [4 + rng.gamma(2, 1.5, 300) + s for s in (0.0, -0.8, -1.6, -1.6)]
    design = SequentialDesign(50, 300)
    chain, _ = simulate_study(
        lambda j, n: unstratified(models[j][:n]), chain_steps(4), design, Margin(), 4, 199
    )
    spent = {}
    for r in chain.history:
        a, b = chain.steps[r.step]
        n = min(r.n_parent, r.n_restricted)
        gain = no_loss_test(unstratified(models[b][:n]), unstratified(models[a][:n]), Margin())
        assert r.p_futility == gain.pvalue
        now = design.spent(n)
        assert r.level_futility == pytest.approx(0.05 * (now - spent.get(r.step, 0.0)))
        spent[r.step] = now
        if r.fraction < 1.0:
            futile = r.verdict == "no loss" and r.p_futility <= r.level_futility
            assert r.decided == (r.verdict in ("improves", "worse", "mixed") or futile)
    assert any(r.verdict == "no loss" and not r.decided for r in chain.history)
    assert any(r.verdict == "no loss" and r.decided for r in chain.history)
