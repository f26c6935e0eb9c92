"""Sampling: reproducibility, restrictions, bands and the conditional distribution."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from edftools.errors import SpaceError
from edftools.spaces import complexity, get_space
from edftools.spaces.regnet import generate_regnet

BAND = {"flops": (360e6, 400e6)}


def test_same_seed_same_configs_and_different_seed_differs():
    sp = get_space("AnyNetX_A")
    a = sp.sample(50, seed=3, bands=BAND)
    assert a == sp.sample(50, seed=3, bands=BAND)
    assert [c.to_json() for c in a] == [c.to_json() for c in sp.sample(50, seed=3, bands=BAND)]
    assert a != sp.sample(50, seed=4, bands=BAND)


@pytest.mark.parametrize("name", ["AnyNetX_A", "AnyNetX_B", "AnyNetX_C", "AnyNetX_D", "AnyNetX_E"])
@pytest.mark.parametrize("dist", ["log_uniform", "uniform"])
def test_anynet_restrictions_and_band_hold(name, dist):
    sp = get_space(name)
    batch = sp.sample_batch(200, seed=1, bands=BAND, dist=dist)
    assert len(batch.configs) == 200
    for i, c in enumerate(batch.configs):
        cx = complexity(c)
        assert (cx.flops, cx.params, cx.acts) == (batch.flops[i], batch.params[i], batch.acts[i])
        assert 360e6 <= cx.flops <= 400e6
        assert len(c.stages) == 4 and c.strides == [2, 2, 2, 2]
        assert all(1 <= d <= 16 for d in c.depths)
        assert dict(c.extra)["space"] == name
        if name != "AnyNetX_A":
            assert len(set(c.bottleneck_ratios)) == 1
        if name in ("AnyNetX_C", "AnyNetX_D", "AnyNetX_E"):
            assert len(set(batch.raw["group_width"][i])) == 1
        if name in ("AnyNetX_D", "AnyNetX_E"):
            assert list(batch.raw["width"][i]) == sorted(batch.raw["width"][i])
        if name == "AnyNetX_E":
            assert c.depths == sorted(c.depths)


@pytest.mark.parametrize("name", ["RegNet", "RegNetX", "RegNetY"])
def test_regnet_members(name):
    sp = get_space(name)
    configs = sp.sample(100, seed=2, bands=BAND)
    assert len(configs) == 100
    for c in configs:
        e = dict(c.extra)
        gen = generate_regnet(e["w0"], e["wa"], e["wm"], e["d"])
        assert gen.num_stages == gen.total_stages == 4 == len(c.stages)
        assert sum(c.depths) == e["d"] and c.depths == list(gen.depths)
        assert 360e6 <= complexity(c).flops <= 400e6
        assert e["w0"] % 8 == 0 and 1.5 <= e["wm"] <= 3 and 0 < e["wa"] < 256
        if name != "RegNet":
            assert c.bottleneck_ratios == [1] * 4 and e["d"] <= 40 and e["wm"] >= 2
        assert c.block_type == ("Y" if name == "RegNetY" else "X")


def _chi2_p(a, b):
    values = sorted(set(a) | set(b))
    table = np.array([[list(x).count(v) for v in values] for x in (a, b)])
    keep = table.sum(axis=0) >= 10
    table = np.column_stack([table[:, keep], table[:, ~keep].sum(axis=1)])
    table = table[:, table.sum(axis=0) > 0]
    return chi2_contingency(table)[1]


def _marginals(configs, flops_edges):
    out = {
        "d1": [c.depths[0] for c in configs],
        "d3": [c.depths[-1] for c in configs],
        "w1": [min(c.widths[0], 64) for c in configs],
        "w3": [min(c.widths[-1], 64) for c in configs],
        "b1": [c.bottleneck_ratios[0] for c in configs],
        "g2": [c.group_widths[1] for c in configs],
        "flops": list(np.digitize([complexity(c).flops for c in configs], flops_edges)),
    }
    return out


# cheap versions (few choices, few stages) so that naive rejection is fast
CHEAP_E = dict(
    num_stages=2, strides=(1, 2), width=(8, 64), bottleneck_ratio=[1, 2], group_width=[1, 8, 16]
)


@pytest.mark.parametrize(
    ("name", "band", "overrides", "n"),
    [
        ("AnyNetX_A", (3e5, 3e6), {}, 1200),
        ("AnyNetX_E", (1e5, 1e6), CHEAP_E, 1200),
        ("RegNetX", (2e5, 4e6), dict(depth=(3, 8)), 600),
    ],
)
def test_fast_sampler_marginals_equal_naive_rejection(name, band, overrides, n):
    sp = get_space(name, preset="digits", **overrides)
    fast = sp.sample(n, seed=11, bands={"flops": band})
    naive, draws = sp.sample_naive(n, seed=12, bands={"flops": band}, max_draws=200_000)
    assert len(naive) == n and draws > n
    edges = np.quantile([complexity(c).flops for c in naive], [0.2, 0.4, 0.6, 0.8])
    fm, nm = _marginals(fast, edges), _marginals(naive, edges)
    for key in fm:
        assert _chi2_p(fm[key], nm[key]) > 1e-3, key


def test_monotone_sampler_is_exact_on_a_tiny_grid():
    # non-decreasing sequences drawn by the DP sampler vs enumeration of prod p(x_i)
    from itertools import product

    from edftools.spaces.sampling import draw_sequence, grid_pmf

    vals = np.array([8.0, 16, 24, 32])
    p = grid_pmf(vals, log=True)
    seqs = [s for s in product(range(4), repeat=3) if list(s) == sorted(s)]
    weights = np.array([np.prod(p[list(s)]) for s in seqs])
    rng = np.random.default_rng(0)
    draws = draw_sequence(rng, p, 60_000, 3, "increasing")
    index = {s: i for i, s in enumerate(seqs)}
    counts = np.bincount([index[tuple(r)] for r in draws.tolist()], minlength=len(seqs))
    expected = weights / weights.sum() * len(draws)
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 60  # 19 degrees of freedom: p(chi2 > 60) ~ 1e-6


def test_unreachable_band_and_bad_requests():
    sp = get_space("AnyNetX_A", preset="digits")
    with pytest.raises(SpaceError, match="reach"):
        sp.sample_batch(5, seed=0, bands={"flops": (1e15, 2e15)}, max_draws=50_000)
    with pytest.raises(SpaceError):
        sp.sample(5, bands={"flops": (5e6, 1e6)})
    with pytest.raises(SpaceError):
        sp.sample(5, bands={"latency": (1, 2)})
    with pytest.raises(SpaceError):
        sp.sample(-1)
    with pytest.raises(SpaceError):
        sp.sample(5, dist="normal")


def test_zero_and_params_band():
    sp = get_space("AnyNetX_B")
    assert sp.sample(0) == []
    nets = sp.sample(20, seed=0, bands={"params": (2e6, 3e6), "flops": (2e8, 6e8)})
    assert all(2e6 <= complexity(c).params <= 3e6 for c in nets)
