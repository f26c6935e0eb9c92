"""The built networks match the analytic complexity (params exactly; flops and acts as counted
by ``torch.utils.flop_counter`` and forward hooks) for random configs of every block type and
stem, and for the published RegNets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from edftools.errors import ConfigError
from edftools.models import AnyNet, build_network
from edftools.spaces.complexity import complexity
from edftools.spaces.config import BLOCK_TYPES, STEM_TYPES, NetConfig, StageConfig
from edftools.spaces.regnet import regnet_config

# vendored reference data: every clone checks it (never a machine path, never skipped)
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "regnet_complexity.json"


def random_config(rng: np.random.Generator, block_type: str, stem_type: str) -> NetConfig:
    """A random small network (group-compatible widths, mixed strides, odd resolutions)."""
    n_stages = int(rng.integers(1, 5))
    small = stem_type == "small"
    return NetConfig.from_stages(
        depths=rng.integers(1, 4, n_stages).tolist(),
        widths=(8 * rng.integers(1, 9, n_stages)).tolist(),
        bottleneck_ratios=rng.choice([1, 2, 4], n_stages).tolist(),
        group_widths=rng.choice([1, 2, 4, 8, 16], n_stages).tolist(),
        strides=rng.choice([1, 2], n_stages).tolist(),
        block_type=block_type,
        stem_type=stem_type,
        stem_width=int(8 * rng.integers(1, 5)),
        resolution=int(rng.integers(5, 17) if small else rng.integers(9, 33)),
        num_classes=int(rng.integers(2, 21)),
        in_channels=int(rng.choice([1, 3])),
        se_ratio=float(rng.choice([0.25, 0.5])),
    )


def bias_flops(cfg: NetConfig) -> int:
    """Bias additions inside the analytic flops: SE convs (``w_se + w_b``) and the FC (``n``)."""
    total = cfg.num_classes
    if cfg.block_type == "Y":
        w_in = cfg.stem_width
        for st in cfg.stages:
            for _ in range(st.depth):
                total += round(cfg.se_ratio * w_in) + st.inner_width
                w_in = st.width
    return total


def measure(model: nn.Module, cfg: NetConfig, device: str = "cpu") -> tuple[int, int, int]:
    """(params, counted flops, conv/linear output elements) of one image through ``model``."""
    params = sum(p.numel() for p in model.parameters())
    acts = 0

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        nonlocal acts
        acts += output[0].numel()

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, nn.Conv2d | nn.Linear)
    ]
    counter = FlopCounterMode(display=False)
    x = torch.zeros(1, cfg.in_channels, cfg.resolution, cfg.resolution, device=device)
    model.eval()
    with torch.no_grad(), counter:
        out = model(x)
    for h in handles:
        h.remove()
    assert tuple(out.shape) == (1, cfg.num_classes)
    return params, counter.get_total_flops(), acts


CASES = [(bt, st, seed) for bt in BLOCK_TYPES for st in STEM_TYPES for seed in range(6)]


@pytest.mark.parametrize(("block_type", "stem_type", "seed"), CASES)
def test_module_matches_analytic_complexity(block_type: str, stem_type: str, seed: int) -> None:
    rng = np.random.default_rng(1000 * seed + 7 * BLOCK_TYPES.index(block_type) + len(stem_type))
    cfg = random_config(rng, block_type, stem_type)
    model = build_network(cfg, seed=seed)
    params, counted_flops, acts = measure(model, cfg)
    ref = complexity(cfg)
    own = model.complexity()
    # params: every learnable tensor (BN gamma/beta included, running stats are buffers).
    assert params == ref.params == own.params
    # FlopCounterMode counts 2 x multiply-adds of convs and the FC matmul, no bias additions.
    assert own.bias_flops == bias_flops(cfg)
    assert counted_flops == 2 * (ref.flops - bias_flops(cfg))
    assert own.flops == ref.flops
    # acts: elements of every conv and linear output, per image.
    assert acts == ref.acts == own.acts


@pytest.mark.parametrize("name", sorted(json.loads(REFERENCE.read_text())["models"]))
def test_published_regnets(name: str) -> None:
    entry = json.loads(REFERENCE.read_text())["models"][name]
    p = entry["params"]
    cfg = regnet_config(p["w0"], p["wa"], p["wm"], p["depth"], p["group_width"], se=p["se"])
    with torch.device("meta"):  # shapes only: fast at 224x224
        model = AnyNet(cfg)
    params, counted_flops, acts = measure(model, cfg, device="meta")
    want = entry["complexity"]
    assert params == want["params"]
    assert counted_flops == 2 * (want["flops"] - bias_flops(cfg))
    assert acts == want["acts"]
    assert model.complexity().flops == want["flops"]


def tiny(block_type: str = "X", **kwargs) -> NetConfig:
    return NetConfig.from_stages(
        [1, 2],
        [16, 32],
        1,
        8,
        [1, 2],
        block_type=block_type,
        stem_type="small",
        stem_width=16,
        resolution=8,
        num_classes=10,
        in_channels=1,
        **kwargs,
    )


def test_pycls_init() -> None:
    cfg = NetConfig(
        stages=(StageConfig(1, 256, 1, 256, 1),), stem_type="small", stem_width=256, resolution=8
    )
    model = build_network(cfg, seed=0)
    conv = model.stages[0][0].b  # 3x3 dense conv, 256 -> 256
    assert conv.groups == 1
    assert conv.weight.std().item() == pytest.approx((2 / (9 * 256)) ** 0.5, rel=0.02)
    assert model.head.fc.weight.std().item() == pytest.approx(0.01, rel=0.05)
    assert torch.all(model.head.fc.bias == 0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert torch.all(m.weight == 1) and torch.all(m.bias == 0)


@pytest.mark.parametrize("block_type", BLOCK_TYPES)
def test_zero_init_last_bn(block_type: str) -> None:
    model = build_network(tiny(block_type), zero_init_last_bn=True, seed=0)
    finals = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d) and m.final_bn]
    if block_type == "V":  # no residual branch: nothing to zero
        assert finals == []
    else:
        assert len(finals) == 3
        assert all(torch.all(m.weight == 0) for m in finals)
    others = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d) and not m.final_bn]
    assert others and all(torch.all(m.weight == 1) for m in others)


def test_seeded_build_is_reproducible_and_leaves_global_rng() -> None:
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = build_network(tiny("Y"), seed=5).state_dict()
    b = build_network(tiny("Y"), seed=5).state_dict()
    c = build_network(tiny("Y"), seed=6).state_dict()
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_block_structure() -> None:
    model = build_network(tiny("Y", se_ratio=0.25), seed=0)
    first, second = model.stages[1][0], model.stages[1][1]
    assert first.proj is not None and first.proj.conv.stride == (2, 2)
    assert second.proj is None
    assert first.b.groups == 32 // 8 and first.b.stride == (2, 2)
    assert first.se.reduce.out_channels == round(0.25 * 16)  # SE width from the block input
    assert second.se.reduce.out_channels == round(0.25 * 32)
    r = build_network(tiny("R"), seed=0)
    assert r.stages[1][0].b.groups == 1


def test_incompatible_group_width_raises() -> None:
    cfg = NetConfig(stages=(StageConfig(1, 24, 1, 16, 2),), stem_type="small", resolution=8)
    with pytest.raises(ConfigError, match="group width 16"):
        build_network(cfg)


def test_zero_se_width_drops_the_se() -> None:
    cfg = NetConfig(
        stages=(StageConfig(2, 8, 1, 8, 1),),
        block_type="Y",
        stem_width=1,
        se_ratio=0.25,
        stem_type="small",
        resolution=8,
    )
    model = build_network(cfg)  # pycls: no SE where round(se_ratio * w_in) == 0
    first, second = model.stages[0]
    assert first.se is None and second.se is not None  # w_in 1 -> 0; w_in 8 -> 2
    assert sum(p.numel() for p in model.parameters()) == complexity(cfg).params


def test_not_a_config_raises() -> None:
    with pytest.raises(ConfigError):
        build_network({"stages": []})  # type: ignore[arg-type]
