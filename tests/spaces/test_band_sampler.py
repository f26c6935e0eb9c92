"""The band sampler: complexity bounds, and failing fast on bands a space cannot reach."""

from __future__ import annotations

import numpy as np
import pytest

from edftools.errors import SpaceError
from edftools.spaces import band_sampler, get_space
from edftools.spaces.band_sampler import cannot_finish, complexity_bounds, draw_batch

DIGITS = ["AnyNetX_A", "AnyNetX_E", "RegNetX", "RegNetY"]


def test_old_import_paths_still_work():
    import edftools.spaces as spaces
    from edftools.spaces.band_sampler import SampleBatch as SampleBatchHere
    from edftools.spaces.params import ParamSpec as ParamSpecHere
    from edftools.spaces.restrictions import parse_band as parse_band_here
    from edftools.spaces.space import (
        DISTS,
        FAMILY_PARAMS,
        ParamSpec,
        SampleBatch,
        Space,
        parse_band,
    )

    assert ParamSpec is ParamSpecHere and SampleBatch is SampleBatchHere
    assert parse_band is parse_band_here and parse_band("1M:2M") == (1e6, 2e6)
    assert spaces.Space is Space and spaces.ParamSpec is ParamSpec
    assert spaces.SampleBatch is SampleBatch
    assert DISTS == ("log_uniform", "uniform") and set(FAMILY_PARAMS) == {"anynet", "regnet"}


@pytest.mark.parametrize("name", DIGITS)
def test_complexity_bounds_bracket_sampled_members(name):
    sp = get_space(name, preset="digits")
    lo, hi = sp.complexity_bounds()
    assert [b.flops.tolist() for b in complexity_bounds(sp)] == [
        lo.flops.tolist(),
        hi.flops.tolist(),
    ]
    out = draw_batch(sp, np.random.default_rng(0), 40_000, "uniform")
    for metric in ("flops", "params", "acts"):
        values = out["cx"][metric][out["keep"]]
        assert lo[metric][0] <= values.min() and values.max() <= hi[metric][0], metric
    # RegNet: the bound counts blocks in all stages together (not max depth in every stage)
    assert hi["flops"][0] < 30e6


@pytest.mark.parametrize(
    ("name", "band", "how"),
    [
        ("AnyNetX_A", (900e6, 1000e6), "can reach"),  # far above: the bounds reject it at once
        ("RegNetX", (100e6, 200e6), "can reach"),
        ("AnyNetX_A", (24e6, 30e6), "among"),  # just above the largest member: draws reject it
        ("RegNetY", (19e3, 25e3), "can reach"),  # below the smallest member
        ("RegNetX", (20e6, 100e6), "among"),
    ],
)
def test_unreachable_band_fails_fast_with_one_line(name, band, how, monkeypatch):
    """The sampler gives up after a few batches of draws (counted, not timed; before, it drew
    1M-10M configs), with a one-line error that says where the members are."""
    sp = get_space(name, preset="digits")
    drawn: list[int] = []
    real = band_sampler.draw_batch

    def counted(space, rng, n, dist):
        drawn.append(n)
        return real(space, rng, n, dist)

    monkeypatch.setattr(band_sampler, "draw_batch", counted)
    with pytest.raises(SpaceError) as info:
        sp.sample_batch(128, seed=0, bands={"flops": band})
    msg = str(info.value)
    if how == "can reach":  # outside the members' analytic range: refused before any draw
        assert drawn == []
    else:  # draws show the band is hopeless before the 1M-draw cap of a band with no member
        assert 0 < sum(drawn) < 1_000_000, sum(drawn)
    assert "\n" not in msg and how in msg and f"space {name}:" in msg
    assert "flops" in msg and "members span about" in msg


def test_cannot_finish_is_conservative():
    # nothing found: stop once even 9 hits per `drawn` could not give 128 within 10M draws
    assert not cannot_finish(0, 128, 600_000, 10_000_000)
    assert cannot_finish(0, 128, 700_000, 10_000_000)
    # a rare band that will succeed (5 per 100k: 128 in ~2.6M draws) goes on
    assert not cannot_finish(50, 128, 1_000_000, 10_000_000)
    assert not cannot_finish(128, 128, 1_000_000, 10_000_000) and not cannot_finish(0, 5, 0, 10)


def test_rare_but_reachable_band_still_samples():
    sp = get_space("AnyNetX_A", preset="digits")
    batch = sp.sample_batch(4, seed=0, bands={"flops": (15e6, 25e6)})
    assert len(batch.configs) == 4 and (batch.flops >= 15e6).all()
