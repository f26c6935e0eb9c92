"""Exact complexity: published RegNet numbers, zoo models, batch == per-config walk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edftools.errors import ConfigError
from edftools.spaces import NetConfig, complexity, complexity_batch, regnet_config
from edftools.spaces.complexity import complexity_of_configs
from edftools.spaces.sampling import adjust_compatibility_batch

# vendored reference data: every clone checks it (never a machine path, never skipped)
REF = Path(__file__).resolve().parents[1] / "data"


def _load(name: str) -> dict:
    return json.loads((REF / name).read_text())["models"]


def _net(p: dict) -> NetConfig:
    return regnet_config(p["w0"], p["wa"], p["wm"], p["depth"], p["group_width"], se=p["se"])


def test_reference_models_match_exactly():
    for name, m in _load("regnet_complexity.json").items():
        assert complexity(_net(m["params"])).as_dict() == m["complexity"], name


# pycls model zoo (MODEL_ZOO.md): params in millions, rounded to 0.1
ZOO_PARAMS_M = {
    "RegNetX-200MF": 2.7,
    "RegNetX-400MF": 5.2,
    "RegNetX-600MF": 6.2,
    "RegNetX-800MF": 7.3,
    "RegNetX-1.6GF": 9.2,
    "RegNetX-3.2GF": 15.3,
    "RegNetX-4.0GF": 22.1,
    "RegNetX-6.4GF": 26.2,
    "RegNetX-8.0GF": 39.6,
    "RegNetX-12GF": 46.1,
    "RegNetX-16GF": 54.3,
    "RegNetX-32GF": 107.8,
    "RegNetY-200MF": 3.2,
    "RegNetY-400MF": 4.3,
    "RegNetY-600MF": 6.1,
    "RegNetY-800MF": 6.3,
    "RegNetY-1.6GF": 11.2,
    "RegNetY-3.2GF": 19.4,
    "RegNetY-4.0GF": 20.6,
    "RegNetY-6.4GF": 30.6,
    "RegNetY-8.0GF": 39.2,
    "RegNetY-12GF": 51.8,
    "RegNetY-16GF": 83.6,
    "RegNetY-32GF": 145.0,
}


def _nominal_flops(name: str) -> float:
    tag = name.split("-")[1]
    return float(tag[:-2]) * (1e6 if tag.endswith("MF") else 1e9)


def test_zoo_models_are_self_consistent():
    zoo = _load("regnet_zoo_params.json")
    assert len(zoo) == 24
    nets = [_net(m["params"]) for m in zoo.values()]
    batch = complexity_of_configs(nets)
    for i, (name, net) in enumerate(zip(zoo, nets, strict=True)):
        cx = complexity(net)
        assert batch.at(i) == cx, name
        assert round(cx.params / 1e6, 1) == ZOO_PARAMS_M[name], name
        assert abs(cx.flops / _nominal_flops(name) - 1) < 0.03, name
        assert net.block_type == ("Y" if zoo[name]["params"]["se"] else "X")


def _random_batch(rng, n, stages=4):
    d = rng.integers(1, 5, (n, stages))
    w = 8 * rng.integers(1, 65, (n, stages))
    b = rng.choice([1, 2, 4], (n, stages))
    g = rng.choice([1, 2, 4, 8, 16, 32], (n, stages))
    w, g = adjust_compatibility_batch(w, b, g)
    return d, w, b, g


@pytest.mark.parametrize("block_type", ["X", "Y", "R", "V", "VR"])
@pytest.mark.parametrize("stem_type", ["imagenet", "small"])
def test_batch_equals_layer_walk(block_type, stem_type):
    rng = np.random.default_rng(hash((block_type, stem_type)) % 2**32)
    d, w, b, g = _random_batch(rng, 150)
    strides = [2, 1, 2, 2] if stem_type == "small" else 2
    kw = dict(block_type=block_type, stem_type=stem_type, resolution=37, num_classes=7)
    res = complexity_batch(d, w, b, g, strides, **kw, in_channels=1, stem_width=24)
    for i in range(len(res)):
        net = NetConfig.from_stages(
            d[i], w[i], b[i], g[i], strides, adjust=False, **kw, in_channels=1, stem_width=24
        )
        assert complexity(net) == res.at(i)


def test_batch_per_row_strides_and_chunking():
    rng = np.random.default_rng(5)
    d, w, b, g = _random_batch(rng, 20_000)
    s = rng.choice([1, 2], d.shape)
    res = complexity_batch(d, w, b, g, s)
    for i in rng.choice(len(res), 40, replace=False):
        net = NetConfig.from_stages(d[i], w[i], b[i], g[i], s[i], adjust=False)
        assert complexity(net) == res.at(i)


def test_vectorized_compatibility_equals_scalar():
    from edftools.spaces.config import adjust_group_compatibility

    rng = np.random.default_rng(1)
    w = 8 * rng.integers(1, 129, (500, 4))
    b = rng.choice([1, 2, 4], (500, 4))
    g = rng.choice([1, 2, 4, 8, 16, 32, 48, 120], (500, 4))
    wv, gv = adjust_compatibility_batch(w, b, g)
    for i in range(500):
        ws, gs = adjust_group_compatibility(w[i].tolist(), b[i].tolist(), g[i].tolist())
        assert ws == wv[i].tolist() and gs == gv[i].tolist()


def test_incompatible_group_width_is_a_config_error():
    net = NetConfig.from_stages([1], [48], 1, 32, adjust=False)
    with pytest.raises(ConfigError):
        complexity(net)
    with pytest.raises(ConfigError):
        complexity_batch([[1]], [[48]], 1, 32)
    # R blocks ignore the group width
    assert complexity(NetConfig.from_stages([1], [48], 1, 32, adjust=False, block_type="R"))


def test_hand_computed_tiny_network():
    # V block, small stem, 4x4 input: stem 3*8*9 params + BN 16; convs at 4x4 (stride 1)
    net = NetConfig.from_stages(
        [1],
        [8],
        strides=1,
        block_type="V",
        stem_type="small",
        stem_width=8,
        resolution=4,
        num_classes=2,
        in_channels=3,
    )
    cx = complexity(net)
    stem_p = 9 * 3 * 8
    conv_p = 9 * 8 * 8
    assert cx.params == stem_p + 16 + 2 * (conv_p + 16) + 8 * 2 + 2
    assert cx.flops == (stem_p + 2 * conv_p) * 16 + 8 * 2 + 2
    assert cx.acts == 3 * 8 * 16 + 2
