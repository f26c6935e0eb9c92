"""Network blocks (pycls AnyNet structure), each with its analytic ``complexity(cx)``.

* :class:`SqueezeExcitation`: avg pool -> 1x1 conv ``w -> w_se`` (bias) -> ReLU ->
  1x1 conv ``w_se -> w`` (bias) -> sigmoid -> multiply.
* :class:`BottleneckBlock` (``X``, ``Y``, ``R``): 1x1 ``w_in -> w_b`` BN ReLU; 3x3 group conv
  ``w_b -> w_b`` (stride, ``groups = w_b / g``) BN ReLU; [SE for ``Y``]; 1x1 ``w_b -> w_out`` BN;
  shortcut = identity, or 1x1 conv (stride) + BN when the shape changes; add; ReLU.
* :class:`VanillaBlock` (``V``): 3x3 conv (stride) BN ReLU; 3x3 conv BN ReLU; no shortcut.
* :class:`BasicResBlock` (``VR``): 3x3 conv (stride) BN ReLU; 3x3 conv BN; shortcut as above;
  add; ReLU.
"""

from __future__ import annotations

import torch
from torch import nn

from edftools.models.layers import Cx, bn2d, bn_cx, conv2d, conv_cx, gap_cx


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation on ``w`` channels with a ``w_se``-wide bottleneck."""

    def __init__(self, w: int, w_se: int) -> None:
        super().__init__()
        self.w, self.w_se = w, w_se
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = conv2d(w, w_se, 1, bias=True)
        self.relu = nn.ReLU(inplace=True)
        self.expand = conv2d(w_se, w, 1, bias=True)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.sigmoid(self.expand(self.relu(self.reduce(self.pool(x)))))
        return x * s

    def complexity(self, cx: Cx) -> Cx:
        """Two biased 1x1 convs at 1x1: ``flops = params += 2 w w_se + w_se + w``;
        ``acts += w_se + w``; the spatial size is unchanged."""
        h, w = cx.h, cx.w
        cx = gap_cx(cx)
        cx = conv_cx(cx, self.w, self.w_se, 1, bias=True)
        cx = conv_cx(cx, self.w_se, self.w, 1, bias=True)
        return Cx(h, w, cx.flops, cx.params, cx.acts, cx.bias_flops)


class Projection(nn.Module):
    """Shortcut for a shape change: 1x1 conv ``w_in -> w_out`` with stride, then BN."""

    def __init__(self, w_in: int, w_out: int, stride: int) -> None:
        super().__init__()
        self.w_in, self.w_out, self.stride = w_in, w_out, stride
        self.conv = conv2d(w_in, w_out, 1, stride=stride)
        self.bn = bn2d(w_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))

    def complexity(self, cx: Cx) -> Cx:
        """1x1 conv (stride) + BN, counted at the output resolution (returns that size)."""
        return bn_cx(conv_cx(cx, self.w_in, self.w_out, 1, stride=self.stride), self.w_out)


def _shortcut(w_in: int, w_out: int, stride: int) -> Projection | None:
    return Projection(w_in, w_out, stride) if (w_in != w_out or stride != 1) else None


def _parallel(cx: Cx, proj: Projection | None) -> Cx:
    """Count a projection shortcut as a branch beside the residual (spatial size unchanged)."""
    if proj is None:
        return cx
    out = proj.complexity(cx)
    return Cx(cx.h, cx.w, out.flops, out.params, out.acts, out.bias_flops)


class BottleneckBlock(nn.Module):
    """Residual bottleneck block: ``X`` (group conv), ``Y`` (``X`` + SE), ``R`` (dense 3x3)."""

    def __init__(
        self, w_in: int, w_out: int, stride: int, w_b: int, groups: int, w_se: int = 0
    ) -> None:
        super().__init__()
        self.w_in, self.w_out, self.stride = w_in, w_out, stride
        self.w_b, self.groups, self.w_se = w_b, groups, w_se
        self.proj = _shortcut(w_in, w_out, stride)
        self.a = conv2d(w_in, w_b, 1)
        self.a_bn = bn2d(w_b)
        self.b = conv2d(w_b, w_b, 3, stride=stride, groups=groups)
        self.b_bn = bn2d(w_b)
        self.se = SqueezeExcitation(w_b, w_se) if w_se > 0 else None
        self.c = conv2d(w_b, w_out, 1)
        self.c_bn = bn2d(w_out, final=True)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        f = self.relu(self.a_bn(self.a(x)))
        f = self.relu(self.b_bn(self.b(f)))
        if self.se is not None:
            f = self.se(f)
        f = self.c_bn(self.c(f))
        return self.relu(shortcut + f)

    def complexity(self, cx: Cx) -> Cx:
        """Shortcut (if any) + 1x1, 3x3 group (stride), [SE], 1x1 convs with their BNs."""
        cx = _parallel(cx, self.proj)
        cx = bn_cx(conv_cx(cx, self.w_in, self.w_b, 1), self.w_b)
        cx = bn_cx(conv_cx(cx, self.w_b, self.w_b, 3, self.stride, self.groups), self.w_b)
        if self.se is not None:
            cx = self.se.complexity(cx)
        return bn_cx(conv_cx(cx, self.w_b, self.w_out, 1), self.w_out)


class VanillaBlock(nn.Module):
    """Plain block ``V``: 3x3 conv (stride) BN ReLU, 3x3 conv BN ReLU; no shortcut."""

    def __init__(self, w_in: int, w_out: int, stride: int) -> None:
        super().__init__()
        self.w_in, self.w_out, self.stride = w_in, w_out, stride
        self.a = conv2d(w_in, w_out, 3, stride=stride)
        self.a_bn = bn2d(w_out)
        self.b = conv2d(w_out, w_out, 3)
        self.b_bn = bn2d(w_out)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.a_bn(self.a(x)))
        return self.relu(self.b_bn(self.b(x)))

    def complexity(self, cx: Cx) -> Cx:
        """Two 3x3 convs (the first with the stride), each with a BN."""
        cx = bn_cx(conv_cx(cx, self.w_in, self.w_out, 3, self.stride), self.w_out)
        return bn_cx(conv_cx(cx, self.w_out, self.w_out, 3), self.w_out)


class BasicResBlock(nn.Module):
    """Residual basic block ``VR``: 3x3 (stride) BN ReLU, 3x3 BN, + shortcut, ReLU."""

    def __init__(self, w_in: int, w_out: int, stride: int) -> None:
        super().__init__()
        self.w_in, self.w_out, self.stride = w_in, w_out, stride
        self.proj = _shortcut(w_in, w_out, stride)
        self.a = conv2d(w_in, w_out, 3, stride=stride)
        self.a_bn = bn2d(w_out)
        self.b = conv2d(w_out, w_out, 3)
        self.b_bn = bn2d(w_out, final=True)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        f = self.relu(self.a_bn(self.a(x)))
        f = self.b_bn(self.b(f))
        return self.relu(shortcut + f)

    def complexity(self, cx: Cx) -> Cx:
        """Shortcut (if any) + two 3x3 convs (the first with the stride), each with a BN."""
        cx = _parallel(cx, self.proj)
        cx = bn_cx(conv_cx(cx, self.w_in, self.w_out, 3, self.stride), self.w_out)
        return bn_cx(conv_cx(cx, self.w_out, self.w_out, 3), self.w_out)
