"""pycls's two edge cases: an SE width that rounds to 0 drops the SE, and for b < 1 the
bottleneck width is a multiple of lcm(g, 1/b); and pycls's RegNet group-width sampler.

The repro numbers are pycls's own (its ``adjust_block_compatibility`` and
``BottleneckTransform``), quoted in issue 11.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from edftools.errors import ConfigError, SpaceError
from edftools.models import build_network
from edftools.spaces import NetConfig, complexity, get_space, regnet_config
from edftools.spaces.complexity import complexity_of_configs
from edftools.spaces.config import adjust_group_compatibility
from edftools.spaces.count import distinct_networks
from edftools.spaces.sampling import adjust_compatibility_batch, power2_or_log_uniform_pmf

SE_ZERO = NetConfig.from_stages([1], [16], 1, [16], block_type="Y", stem_width=2)
LCM = regnet_config(96, 97.13, 2.534, 7, 3, bottleneck_ratio=0.5)


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_se_width_zero_drops_the_se_as_pycls():
    # describe anynet --depths 1 --widths 16 --group-widths 16 --block-type Y --stem-width 2
    cx = complexity(SE_ZERO)
    assert (cx.flops, cx.params) == (9_224_296, 19_810)
    assert complexity_of_configs([SE_ZERO]).at(0) == cx
    model = build_network(SE_ZERO)
    assert _params(model) == 19_810
    assert model.complexity().flops == cx.flops and model.complexity().acts == cx.acts


def test_lcm_rounding_for_b_below_one_as_pycls():
    # describe regnet --w0 96 --wa 97.13 --wm 2.534 --depth 7 --group-width 3
    #   --bottleneck-ratio 0.5
    assert LCM.widths == [96, 240, 615]
    assert LCM.group_widths == [3, 3, 3]
    cx = complexity(LCM)
    assert cx.flops == 1_950_312_280
    assert complexity_of_configs([LCM]).at(0) == cx
    model = build_network(LCM)
    assert _params(model) == cx.params == model.complexity().params


def test_batch_adjustment_equals_scalar_with_lcm():
    rng = np.random.default_rng(0)
    n = 4000
    w = rng.integers(1, 400, n)
    b = rng.choice([0.25, 0.5, 1, 2, 4], n)
    g = rng.integers(1, 50, n)
    bw, bg = adjust_compatibility_batch(w, b, g)
    for i in range(n):
        sw, sg = adjust_group_compatibility([int(w[i])], [float(b[i])], [int(g[i])])
        assert (sw[0], sg[0]) == (bw[i], bg[i]), (w[i], b[i], g[i])
        inner = round(sw[0] / b[i])
        assert inner % sg[0] == 0 and inner == sw[0] / b[i]  # w_b is an exact multiple of g


def test_b_below_one_must_be_one_over_an_integer():
    with pytest.raises(ConfigError, match="1/k"):
        adjust_group_compatibility([64], [0.75], [8])
    with pytest.raises(ConfigError, match="1/k"):
        adjust_compatibility_batch(np.array([64]), np.array([0.75]), np.array([8]))


def test_se_ratio_that_rounds_to_zero_builds_every_sampled_config():
    configs = get_space("RegNetY", se_ratio=0.05).sample(2000, seed=0)
    dropped = [
        c for c in configs if any(round(0.05 * w) == 0 for w in [c.stem_width, *c.widths[:-1]])
    ]
    assert dropped  # the issue found 369 of 2,000 that build_network refused
    batch = complexity_of_configs(dropped[:200])
    for i, cfg in enumerate(dropped[:200]):
        assert complexity(cfg) == batch.at(i)
    for cfg in dropped[:3]:
        assert _params(build_network(cfg)) == complexity(cfg).params


def test_counts_follow_the_lcm_rule():
    space = get_space(
        "AnyNetX_C",
        num_stages=2,
        depth=(1, 2),
        width=(8, 48),
        bottleneck_ratio=[0.5, 1],
        group_width=[3, 8],
    )
    nets = set()
    vals = {p.name: p.values for p in space.params}
    per_stage = list(itertools.product(vals["depth"], vals["width"]))
    for b, g in itertools.product(vals["bottleneck_ratio"], vals["group_width"]):
        for (d1, w1), (d2, w2) in itertools.product(per_stage, repeat=2):
            ws, gs = adjust_group_compatibility([w1, w2], [b, b], [g, g])
            wbs = [round(x / b) for x in ws]
            nets.add(((d1, ws[0], wbs[0], wbs[0] // gs[0]), (d2, ws[1], wbs[1], wbs[1] // gs[1])))
    assert distinct_networks(space) == len(nets)


def test_pycls_group_width_sampler_pmf_and_default():
    values, pmf = power2_or_log_uniform_pmf(1, 32, 8)
    assert values.tolist() == [1, 2, 4, 8, 16, 24, 32]
    assert pmf[:5] == pytest.approx([1 / 6] * 5)
    assert pmf[5] == pytest.approx(np.log(1.5) / (2 * np.log(8)))  # g = 24: ~9.7%
    assert get_space("RegNetX").group_width_sampler == "paper"
    assert get_space("RegNetX").param("group_width").values == (1, 2, 4, 8, 16, 32)
    space = get_space("RegNetX", group_width_sampler="pycls")
    assert space.param("group_width").values == (1, 2, 4, 8, 16, 24, 32)
    g = space.sample_batch(3000, seed=0).raw["group_width"]
    share = np.mean(g == 24)
    assert 0.08 < share < 0.115  # 3000 draws: ~5 standard deviations either side
    with pytest.raises(SpaceError, match="group_width_sampler"):
        get_space("RegNetX", group_width_sampler="log")


EDGE = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "pycls_edge_cases.json").read_text()
)


def _anynet(rec: dict) -> NetConfig:
    return NetConfig.from_stages(
        rec["depths"],
        rec["widths"],
        rec["bottleneck_ratios"],
        rec["group_widths"],
        rec["strides"],
        block_type=rec["block_type"],
        stem_type=rec["stem_type"],
        stem_width=rec["stem_width"],
        se_ratio=rec["se_ratio"],
        resolution=rec["resolution"],
        num_classes=rec["num_classes"],
    )


def test_random_edge_configs_equal_pycls_own_numbers():
    """240 AnyNet configs (62 with SE widths rounding to 0, many with b < 1 and odd g) and 80
    RegNets, computed by pycls's own code (tests/data/pycls_edge_cases.json says which)."""
    nets = [_anynet(rec) for rec in EDGE["anynet"]]
    batch = complexity_of_configs(nets)
    for i, (rec, net) in enumerate(zip(EDGE["anynet"], nets, strict=True)):
        assert net.widths == rec["pycls_widths"], rec
        assert net.group_widths == rec["pycls_group_widths"], rec
        assert complexity(net).as_dict() == rec["complexity"] == batch.at(i).as_dict(), rec
        if "pycls_model_params" in rec:
            assert _params(build_network(net)) == rec["pycls_model_params"], rec
    for rec in EDGE["regnet"]:
        net = regnet_config(
            rec["w0"],
            rec["wa"],
            rec["wm"],
            rec["depth"],
            rec["group_width"],
            bottleneck_ratio=rec["bottleneck_ratio"],
            se=rec["se"],
        )
        assert (net.widths, net.depths) == (rec["pycls_widths"], rec["pycls_depths"]), rec
        assert complexity(net).as_dict() == rec["complexity"], rec
