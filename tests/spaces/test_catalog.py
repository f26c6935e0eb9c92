"""Catalog, overrides, presets and TOML recipe dicts."""

from __future__ import annotations

import tomllib

import pytest

from edftools.errors import SpaceError
from edftools.spaces import Space, get_space, list_spaces, space_from_dict
from edftools.spaces.restrictions import Band, Fixed, Shared


def test_catalog_names():
    names = list_spaces()
    assert names[:5] == [f"AnyNetX_{x}" for x in "ABCDE"]
    assert {"RegNet", "RegNetX", "RegNetY"} <= set(names)
    assert get_space("anynetx_a").name == "AnyNetX_A"
    with pytest.raises(SpaceError, match="unknown space"):
        get_space("ResNet")


def test_paper_settings():
    a = get_space("AnyNetX_A")
    assert a.param("width").values[0] == 8 and a.param("width").values[-1] == 1024
    assert len(a.param("width").values) == 128 and len(a.param("depth").values) == 16
    assert a.param("group_width").values == (1, 2, 4, 8, 16, 32)
    assert (a.resolution, a.stem_type, a.stem_width, a.strides) == (224, "imagenet", 32, (2,) * 4)
    x = get_space("RegNetX")
    assert Fixed("bottleneck_ratio", 1) in x.restrictions


def test_overrides_and_digits_preset():
    sp = get_space("AnyNetX_A", preset="digits")
    assert (sp.resolution, sp.in_channels, sp.num_classes, sp.stem_type) == (8, 1, 10, "small")
    assert sp.num_stages == 3 and sp.strides == (1, 2, 2)
    assert sp.param("depth").values == (1, 2, 3, 4)
    assert sp.param("width").values[-1] == 128
    nets = sp.sample(10, seed=0)
    assert all(c.resolution == 8 and len(c.stages) == 3 for c in nets)
    sp2 = get_space("AnyNetX_A", num_classes=100, group_width=[1, 8], depth=(2, 6))
    assert sp2.num_classes == 100 and sp2.param("group_width").values == (1, 8)
    assert sp2.param("depth").values == (2, 3, 4, 5, 6)
    for bad in ({"colour": 1}, {"resolution": "big"}, {"preset": "mnist"}, {"width": "x"}):
        with pytest.raises(SpaceError):
            get_space("AnyNetX_A", **bad)
    with pytest.raises(SpaceError):
        get_space("AnyNetX_A", width=(12, 100))  # not multiples of 8
    with pytest.raises(SpaceError):
        get_space("RegNet", wm=(0.5, 3))


RECIPE = """
[space]
name = "digits_D"
base = "AnyNetX_A"
preset = "digits"
dist = "uniform"

[space.params]
width = {lo = 8, hi = 64, step = 8}
group_width = [1, 2, 4, 8]

[[space.restrictions]]
kind = "shared"
param = "b"

[[space.restrictions]]
kind = "band"
metric = "flops"
lo = "0.2M"
hi = "2M"
"""


def test_space_from_toml_dict():
    sp = space_from_dict(tomllib.loads(RECIPE)["space"])
    assert isinstance(sp, Space) and sp.name == "digits_D" and sp.dist == "uniform"
    assert Shared("bottleneck_ratio") in sp.restrictions
    assert Band("flops", 2e5, 2e6) in sp.restrictions
    assert sp.param("width").values[-1] == 64
    nets = sp.sample(20, seed=0)
    assert all(len(set(c.bottleneck_ratios)) == 1 for c in nets)
    regnet = space_from_dict(
        {"base": "RegNetX", "preset": "digits", "params": {"w0": {"lo": 8, "hi": 32}}}
    )
    assert regnet.param("w0").values == (8, 16, 24, 32) and regnet.family == "regnet"
    custom = space_from_dict({"family": "anynet", "name": "mine", "num_stages": 2})
    assert custom.name == "mine" and custom.strides == (2, 2)


@pytest.mark.parametrize(
    "table",
    [
        {},
        {"base": "AnyNetX_A", "colour": "red"},
        {"base": "AnyNetX_A", "resolution": "224"},
        {"base": "AnyNetX_A", "params": {"w0": [8]}},
        {"base": "AnyNetX_A", "params": {"depth": {"lo": 1, "hi": 4, "size": 3}}},
        {"base": "AnyNetX_A", "restrictions": [{"kind": "shared"}]},
        {"base": "AnyNetX_A", "restrictions": [{"kind": "sorted", "param": "w"}]},
        {"base": "AnyNetX_A", "restrictions": [{"kind": "fixed", "param": "b", "value": "1"}]},
        {"base": "AnyNetX_A", "restrictions": [{"kind": "fixed", "param": "b", "value": 3}]},
        {"base": "RegNet", "restrictions": [{"kind": "shared", "param": "wa"}]},
        {"base": "AnyNetX_A", "restrictions": [{"kind": "band", "metric": "flops", "lo": 1}]},
        {"base": "AnyNetX_A", "family": "regnet"},
        {"family": "densenet"},
        "AnyNetX_A",
    ],
)
def test_bad_recipes_raise_space_error(table):
    with pytest.raises(SpaceError):
        space_from_dict(table)
