"""edftools against pycls's own code (the ``pycls`` 0.1.1 package, where it imports).

``make setup`` installs it with ``--no-deps`` plus ``yacs`` (all its model modules need);
without it these tests skip with the reason. Random configs of every block type pycls has
(X, Y, V, VR) and both stems are built by pycls and by edftools: the analytic flops, params
and acts and the built models' parameter counts must be equal, and the RegNet generator and
the group compatibility adjustment must give pycls's integers.

pycls 0.1.1 (PyPI, 2020) predates two rules of pycls's later code that edftools follows (see
``test_pycls_edge_cases.py``): it keeps an SE whose width rounds to 0 (counting its 1x1
bias), and it has no lcm(g, 1/b) rounding for b < 1. Random configs here avoid both; one test
pins how 0.1.1 differs on the SE repro, so the difference stays documented and exact.
"""

from __future__ import annotations

import numpy as np
import pytest

anynet = pytest.importorskip(
    "pycls.models.anynet", reason="pycls 0.1.1 not installed (make setup installs it)"
)
pycls_regnet = pytest.importorskip("pycls.models.regnet")

from edftools.models import build_network  # noqa: E402
from edftools.spaces import NetConfig, complexity, generate_regnet  # noqa: E402
from edftools.spaces.config import adjust_group_compatibility  # noqa: E402

BLOCKS = {"X": "res_bottleneck_block", "Y": "res_bottleneck_block"}
BLOCKS.update({"V": "vanilla_block", "VR": "res_basic_block"})
STEMS = {"imagenet": "simple_stem_in", "small": "res_stem_cifar"}


def _pycls_args(cfg: NetConfig) -> dict:
    bottleneck = cfg.block_type in ("X", "Y")
    return {
        "stem_type": STEMS[cfg.stem_type],
        "stem_w": cfg.stem_width,
        "block_type": BLOCKS[cfg.block_type],
        "ds": cfg.depths,
        "ws": cfg.widths,
        "ss": cfg.strides,
        "bms": [1 / b for b in cfg.bottleneck_ratios] if bottleneck else None,
        "gws": cfg.group_widths if bottleneck else None,
        "se_r": cfg.se_ratio if cfg.block_type == "Y" else None,
        "nc": cfg.num_classes,
    }


def _pycls_complexity(cfg: NetConfig) -> tuple[int, int, int]:
    r = cfg.resolution
    cx = {"h": r, "w": r, "flops": 0, "params": 0, "acts": 0}
    cx = anynet.AnyNet.complexity(cx, **_pycls_args(cfg))
    return cx["flops"], cx["params"], cx["acts"]


def _random_config(rng: np.random.Generator, block_type: str) -> NetConfig:
    n = int(rng.integers(1, 5))
    stem = str(rng.choice(["imagenet", "small"]))
    return NetConfig.from_stages(
        depths=rng.integers(1, 4, n).tolist(),
        widths=(8 * rng.integers(1, 40, n)).tolist(),
        bottleneck_ratios=rng.choice([1, 2, 4], n).tolist(),
        group_widths=rng.choice([1, 2, 4, 8, 16, 24, 32], n).tolist(),
        strides=rng.choice([1, 2], n).tolist(),
        block_type=block_type,
        stem_type=stem,
        stem_width=int(8 * rng.integers(1, 9)),  # SE width >= 2: no 0.1.1 difference
        resolution=int(rng.integers(8, 64)),
        num_classes=int(rng.integers(2, 1001)),
    )


@pytest.mark.parametrize("block_type", list(BLOCKS))
def test_complexity_equals_pycls_on_random_configs(block_type: str) -> None:
    rng = np.random.default_rng(list(BLOCKS).index(block_type))
    for _ in range(150):
        cfg = _random_config(rng, block_type)
        ours = complexity(cfg)
        assert (ours.flops, ours.params, ours.acts) == _pycls_complexity(cfg), cfg


@pytest.mark.parametrize("block_type", list(BLOCKS))
def test_built_parameter_counts_equal_pycls(block_type: str) -> None:
    rng = np.random.default_rng(10 + list(BLOCKS).index(block_type))
    for _ in range(4):
        cfg = _random_config(rng, block_type)
        theirs = anynet.AnyNet(**_pycls_args(cfg))
        ours = build_network(cfg)
        count = sum(p.numel() for p in ours.parameters())
        assert count == sum(p.numel() for p in theirs.parameters()) == complexity(cfg).params


def test_regnet_generator_and_adjustment_equal_pycls() -> None:
    rng = np.random.default_rng(7)
    for _ in range(2000):
        w0 = int(8 * rng.integers(1, 32))
        wa = round(float(rng.uniform(0.1, 256)), 1)
        wm = round(float(rng.uniform(1.5, 3)), 3)
        d = int(rng.integers(1, 64))
        ours = generate_regnet(w0, wa, wm, d)
        ws, num_stages, max_stage, _ = pycls_regnet.generate_regnet(wa, w0, wm, d)
        assert list(ours.block_widths) == ws
        assert (ours.num_stages, ours.total_stages) == (num_stages, max_stage)
        s_ws, _ = pycls_regnet.get_stages_from_blocks(ws, ws)
        b = float(rng.choice([1, 2, 4]))
        g = int(rng.choice([1, 2, 4, 8, 16, 24, 32, 48, 64]))
        theirs = pycls_regnet.adjust_ws_gs_comp(s_ws, [1 / b] * len(s_ws), [g] * len(s_ws))
        assert adjust_group_compatibility(s_ws, [b] * len(s_ws), [g] * len(s_ws)) == (
            list(theirs[0]),
            list(theirs[1]),
        )


def test_pycls_0_1_1_keeps_a_zero_width_se() -> None:
    cfg = NetConfig.from_stages([1], [16], 1, [16], block_type="Y", stem_width=2)
    # pycls 0.1.1 counts the SE's second 1x1 bias (16) although its width is 0; pycls's later
    # code (and edftools) drop the SE: 9,224,296 flops and 19,810 params
    assert _pycls_complexity(cfg)[:2] == (9_224_312, 19_826)
    assert (complexity(cfg).flops, complexity(cfg).params) == (9_224_296, 19_810)
