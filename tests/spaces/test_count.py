"""Space sizes: paper formulas, exact counts and distinct networks vs brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from edftools.spaces import get_space, space_table
from edftools.spaces.config import adjust_group_compatibility
from edftools.spaces.count import distinct_networks, exact_total, paper_formula
from edftools.spaces.regnet import block_widths_batch
from edftools.spaces.sampling import regnet_stages

PAPER = {
    "AnyNetX_A": ("(16·128·3·6)^4", "1.8e+18", 16),
    "AnyNetX_B": ("(16·128·6)^4·3", "6.8e+16", 13),
    "AnyNetX_C": ("(16·128)^4·3·6", "3.2e+14", 10),
    "AnyNetX_D": ("(16·128)^4·3·6/(4!)", "1.3e+13", 10),
    "AnyNetX_E": ("(16·128)^4·3·6/(4!)^2", "5.5e+11", 10),
    "RegNet": ("~64^4·6·3", "3.0e+08", 6),
}


@pytest.mark.parametrize("name", list(PAPER))
def test_paper_formulas_and_totals(name):
    text, value, dim = paper_formula(get_space(name))
    assert (text, f"{value:.1e}", dim) == PAPER[name]


def test_exact_anynet_totals():
    m = 16**4 * 128**4
    assert exact_total(get_space("AnyNetX_A")) == (16 * 128 * 3 * 6) ** 4
    assert exact_total(get_space("AnyNetX_C")) == m * 18
    assert exact_total(get_space("AnyNetX_D")) == 16**4 * math.comb(131, 4) * 18
    assert exact_total(get_space("AnyNetX_E")) == math.comb(19, 4) * math.comb(131, 4) * 18


def test_space_table_keys():
    rows = space_table(["AnyNetX_A", "AnyNetX_E"])
    keys = {
        "name",
        "restriction",
        "dim",
        "combinations",
        "paper_total",
        "exact_total",
        "distinct_networks",
    }
    assert all(keys <= set(r) for r in rows)
    assert rows[1]["exact_total"] > rows[1]["paper_total"]  # 4! undercounts ties
    assert rows[0]["distinct_networks"] < rows[0]["exact_total"]


def _tiny(name, stages, **kw):
    base = dict(
        num_stages=stages,
        depth=(1, 2),
        width=(8, 48),
        bottleneck_ratio=[1, 2],
        group_width=[1, 8, 16],
    )
    return get_space(name, **{**base, **kw})


def _brute(space):
    S = space.num_stages
    vals = {p.name: p.values for p in space.params}
    per_stage = list(
        itertools.product(
            vals["depth"], vals["width"], vals["bottleneck_ratio"], vals["group_width"]
        )
    )
    total, nets = 0, set()
    for combo in itertools.product(per_stage, repeat=S):
        d, w, b, g = (list(x) for x in zip(*combo, strict=True))
        if space.order("bottleneck_ratio") == "shared" and len(set(b)) > 1:
            continue
        if space.order("group_width") == "shared" and len(set(g)) > 1:
            continue
        if space.order("width") == "increasing" and w != sorted(w):
            continue
        if space.order("depth") == "increasing" and d != sorted(d):
            continue
        total += 1
        ws, gs = adjust_group_compatibility(w, b, g)
        wbs = [round(x / y) for x, y in zip(ws, b, strict=True)]
        nets.add(
            tuple(zip(d, ws, wbs, [x // y for x, y in zip(wbs, gs, strict=True)], strict=True))
        )
    return total, len(nets)


@pytest.mark.parametrize("name", ["AnyNetX_A", "AnyNetX_B", "AnyNetX_C", "AnyNetX_D", "AnyNetX_E"])
def test_exact_and_distinct_counts_match_brute_force(name):
    for stages in (2, 3):
        kw = {} if stages == 2 else dict(width=(8, 32), group_width=[1, 16])
        sp = _tiny(name, stages, **kw)
        total, distinct = _brute(sp)
        assert exact_total(sp) == total
        assert distinct_networks(sp) == distinct


def test_regnet_exact_count_matches_brute_force_with_ties():
    # wm = 2.25 = 1.5^2 and wa multiples of 0.5 put stage boundaries exactly on blocks
    sp = get_space(
        "RegNet",
        w0=(8, 24),
        wa={"lo": 0.5, "hi": 20, "step": 0.5},
        wm={"lo": 1.5, "hi": 3.0, "step": 0.05},
        depth=(1, 20),
        bottleneck_ratio=[1],
        group_width=[8],
    )
    grid = itertools.product(*(sp.param(p).values for p in ("w0", "wa", "wm", "depth")))
    w0, wa, wm, d = (np.array(x) for x in zip(*grid, strict=True))
    ws, ks, valid = block_widths_batch(w0, wa, wm, d)
    ok, _, _ = regnet_stages(ws, ks, valid, 4)
    assert exact_total(sp) == int(ok.sum()) > 0
    restricted = get_space(
        "RegNetX",
        w0=(8, 24),
        wa={"lo": 0.5, "hi": 20, "step": 0.5},
        wm={"lo": 1.5, "hi": 3.0, "step": 0.05},
        depth=(1, 20),
        group_width=[8],
    )
    keep = ok & (wm >= 2 - 1e-9)
    assert exact_total(restricted) == int(keep.sum())


def _regnet_brute(space):
    """(valid grid points, distinct networks) by generating every grid point."""
    vals = {p.name: np.asarray(p.values)[space.allowed(p.name)] for p in space.params}
    grid = itertools.product(*(vals[p] for p in ("w0", "wa", "wm", "depth")))
    w0, wa, wm, d = (np.array(x) for x in zip(*grid, strict=True))
    ws, ks, valid = block_widths_batch(w0, wa, wm, d)
    ok, depths, widths = regnet_stages(ws, ks, valid, space.num_stages)
    depths, widths = depths[ok], widths[ok]
    uniq, inv = np.unique(widths, axis=0, return_inverse=True)
    nets = set()
    for b in vals["bottleneck_ratio"]:
        for g in vals["group_width"]:
            keys = []  # scalar pycls adjustment, once per distinct width tuple
            for w in uniq.tolist():
                w_adj, g_adj = adjust_group_compatibility(w, [b] * len(w), [int(g)] * len(w))
                wb = [round(x / b) for x in w_adj]
                keys.append((*w_adj, *wb, *(x // y for x, y in zip(wb, g_adj, strict=True))))
            nets.update(
                zip(map(tuple, depths.tolist()), (keys[i] for i in inv.ravel()), strict=True)
            )
    n_bg = len(vals["bottleneck_ratio"]) * len(vals["group_width"])
    return int(ok.sum()) * n_bg, len(nets)


@pytest.mark.parametrize(
    "name, kw",
    [
        # wm = 2.25 = 1.5^2 and wa on a 0.5 grid: stage boundaries fall exactly on blocks (ties)
        (
            "RegNet",
            dict(wa={"lo": 0.5, "hi": 20, "step": 0.5}, wm={"lo": 1.5, "hi": 3, "step": 0.05}),
        ),
        (
            "RegNetX",
            dict(wa={"lo": 0.1, "hi": 40, "step": 0.7}, wm={"lo": 1.5, "hi": 3, "step": 0.02}),
        ),
        ("RegNet", dict(num_stages=3, wa={"lo": 0.2, "hi": 30, "step": 0.3}, wm=[2.0, 2.5, 2.9])),
    ],
)
def test_regnet_exact_and_distinct_counts_match_brute_force(name, kw):
    sp = get_space(
        name, w0=(8, 40), depth=(1, 20), bottleneck_ratio=[1, 2], group_width=[1, 8, 16, 32], **kw
    )
    total, distinct = _regnet_brute(sp)
    assert exact_total(sp) == total > 0
    got = distinct_networks(sp)
    assert got == distinct
    assert distinct < total  # compatibility and quantization merge many grid points


def test_regnet_distinct_counts_in_table():
    rows = {r["name"]: r for r in space_table(["RegNetX", "RegNetY"])}
    for r in rows.values():
        assert r["distinct_method"] == "exact" and r["distinct_stderr"] == 0.0
        assert 0 < r["distinct_networks"] < r["exact_total"]
    assert rows["RegNetX"]["distinct_networks"] == rows["RegNetY"]["distinct_networks"]


def test_shipped_catalog_sizes_equal_the_counting_code():
    from edftools.spaces.catalog import CATALOG
    from edftools.spaces.sizes import CATALOG_SIZES

    assert set(CATALOG_SIZES) == set(CATALOG)
    for name, space in CATALOG.items():
        assert CATALOG_SIZES[name] == (exact_total(space), distinct_networks(space)), name
