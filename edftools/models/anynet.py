"""The AnyNet network built from a :class:`~edftools.spaces.config.NetConfig`.

Stem (3x3 conv, stride 2 for ``imagenet`` or 1 for ``small``, BN, ReLU) -> stages of blocks
(the first block of a stage takes the stage's stride and the previous width) -> head (global
average pool, FC). Weight init as pycls: He-normal convs (fan-out), BN gamma 1 and beta 0,
FC normal(std 0.01) with bias 0; optionally the last BN gamma of every residual branch is 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from edftools.errors import ConfigError
from edftools.models.blocks import BasicResBlock, BottleneckBlock, VanillaBlock
from edftools.models.layers import Cx, bn2d, bn_cx, conv2d, conv_cx, gap_cx, linear_cx
from edftools.spaces.config import STEM_STRIDE, NetConfig, StageConfig


@dataclass(frozen=True)
class ModelComplexity:
    """Analytic per-image complexity of a built network (pycls conventions).

    ``flops`` are multiply-adds including bias additions; ``bias_flops`` is the bias part, so
    ``2 * (flops - bias_flops)`` is what ``torch.utils.flop_counter`` counts.
    """

    flops: int
    params: int
    acts: int
    bias_flops: int


class Stem(nn.Module):
    """3x3 conv ``in_channels -> w`` with the stem's stride, BN, ReLU."""

    def __init__(self, in_channels: int, w: int, stride: int) -> None:
        super().__init__()
        self.in_channels, self.w_out, self.stride = in_channels, w, stride
        self.conv = conv2d(in_channels, w, 3, stride=stride)
        self.bn = bn2d(w)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))

    def complexity(self, cx: Cx) -> Cx:
        """3x3 conv (stride) + BN."""
        return bn_cx(conv_cx(cx, self.in_channels, self.w_out, 3, self.stride), self.w_out)


class Head(nn.Module):
    """Global average pool, flatten, FC ``w_in -> num_classes`` (with bias)."""

    def __init__(self, w_in: int, num_classes: int) -> None:
        super().__init__()
        self.w_in, self.num_classes = w_in, num_classes
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(w_in, num_classes, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(x), 1))

    def complexity(self, cx: Cx) -> Cx:
        """Pool to 1x1, then FC: ``flops = params += w_in n + n``, ``acts += n``."""
        return linear_cx(gap_cx(cx), self.w_in, self.num_classes)


Block = VanillaBlock | BasicResBlock | BottleneckBlock
"""A block of a stage: each has ``forward`` and ``complexity(cx)``."""


def _make_block(cfg: NetConfig, stage: StageConfig, w_in: int, stride: int) -> Block:
    w_out = stage.width
    if cfg.block_type == "V":
        return VanillaBlock(w_in, w_out, stride)
    if cfg.block_type == "VR":
        return BasicResBlock(w_in, w_out, stride)
    w_b = stage.inner_width
    if w_b < 1:
        raise ConfigError(f"stage width {w_out} / bottleneck ratio gives inner width {w_b} < 1")
    if cfg.block_type == "R":
        groups = 1
    else:
        g = stage.group_width
        if g > w_b or w_b % g != 0:
            raise ConfigError(
                f"group width {g} does not divide inner width {w_b} (stage width {w_out}, "
                f"bottleneck ratio {stage.bottleneck_ratio}); adjust_group_compatibility fixes it"
            )
        groups = w_b // g
    # SE width round(se_ratio * w_in); a width that rounds to 0 drops the SE, as pycls does
    w_se = round(cfg.se_ratio * w_in) if cfg.block_type == "Y" else 0
    return BottleneckBlock(w_in, w_out, stride, w_b, groups, w_se)


class AnyNet(nn.Module):
    """Stem, stages and head of a :class:`NetConfig`; ``complexity()`` gives its analytic cost."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stem = Stem(cfg.in_channels, cfg.stem_width, STEM_STRIDE[cfg.stem_type])
        stages = []
        w_in = cfg.stem_width
        for stage in cfg.stages:
            blocks = [_make_block(cfg, stage, w_in, stage.stride)]
            blocks += [_make_block(cfg, stage, stage.width, 1) for _ in range(stage.depth - 1)]
            stages.append(nn.Sequential(*blocks))
            w_in = stage.width
        self.stages = nn.Sequential(*stages)
        self.head = Head(w_in, cfg.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))

    def blocks(self) -> Iterator[Block]:
        """The blocks in forward order, stage by stage."""
        for stage in self.stages.children():
            for block in stage.children():
                assert isinstance(block, Block)
                yield block

    def complexity(self, resolution: int | None = None) -> ModelComplexity:
        """Sum of the modules' analytic complexities at ``resolution`` (default the config's)."""
        r = self.cfg.resolution if resolution is None else resolution
        cx = self.stem.complexity(Cx(r, r))
        for block in self.blocks():
            cx = block.complexity(cx)
        cx = self.head.complexity(cx)
        return ModelComplexity(cx.flops, cx.params, cx.acts, cx.bias_flops)


def init_weights(model: nn.Module, zero_init_last_bn: bool = False) -> None:
    """Initialize in place as pycls does (uses torch's global RNG; seed it first).

    Conv weights ``~ N(0, 2 / fan_out)`` with ``fan_out = k_h k_w c_out``; BN ``gamma = 1``
    (``0`` for the last BN of a residual branch when ``zero_init_last_bn``) and ``beta = 0``;
    linear weights ``~ N(0, 0.01^2)`` and bias ``0``. Conv biases (SE) keep torch's default.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            nn.init.normal_(m.weight, mean=0.0, std=math.sqrt(2.0 / fan_out))
        elif isinstance(m, nn.BatchNorm2d):
            zero = zero_init_last_bn and getattr(m, "final_bn", False)
            nn.init.constant_(m.weight, 0.0 if zero else 1.0)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.01)
            nn.init.zeros_(m.bias)


def build_network(
    cfg: NetConfig, *, zero_init_last_bn: bool = False, seed: int | None = None
) -> AnyNet:
    """Build the :class:`AnyNet` of ``cfg`` and initialize it (pycls init).

    With ``seed`` the construction and init draw from a forked torch RNG seeded with it (same
    seed -> identical weights, global RNG untouched); without, from torch's global RNG.
    Raises :class:`ConfigError` when a stage's group width does not divide its inner width.
    A ``Y`` block whose SE width ``round(se_ratio * w_in)`` is 0 has no SE (pycls).
    """
    if not isinstance(cfg, NetConfig):
        raise ConfigError(f"build_network needs a NetConfig, got {type(cfg).__name__}")
    if seed is None:
        model = AnyNet(cfg)
        init_weights(model, zero_init_last_bn)
        return model
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AnyNet(cfg)
        init_weights(model, zero_init_last_bn)
    return model
