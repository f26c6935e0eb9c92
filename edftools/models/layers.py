"""Layer helpers and the analytic complexity accumulator shared by every module.

Each module of :mod:`edftools.models` carries a ``complexity(cx)`` method beside its
``forward`` (the pycls convention), so a network and its analytic cost cannot drift apart.
The counting rules are pycls's (see ``METHODS.md``, "Complexity conventions"):

* conv ``k x k``, ``c_in -> c_out``, ``groups``, stride ``s``, padding ``k // 2``:
  ``h' = (h + 2 (k // 2) - k) // s + 1``;
  ``flops += k^2 c_in c_out h' w' / groups (+ c_out h' w' with bias)``;
  ``params += k^2 c_in c_out / groups (+ c_out)``; ``acts += c_out h' w'``.
* BatchNorm: ``params += 2 C``. ReLU, sigmoid, additions, SE scaling: nothing.
* global average pool: spatial size becomes ``1 x 1``, nothing counted.
* linear ``c_in -> n``: ``flops = params = c_in n + n``, ``acts += n``.

``flops`` are multiply-adds. :class:`Cx` also keeps ``bias_flops`` (the bias additions
included in ``flops``) so a count from ``torch.utils.flop_counter`` (``2 x`` multiply-adds of
convs and matmuls, biases not counted) can be compared exactly:
``counter_total == 2 * (flops - bias_flops)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch import nn


@dataclass(frozen=True)
class Cx:
    """Running analytic complexity: current spatial size and the totals so far (per image)."""

    h: int
    w: int
    flops: int = 0
    params: int = 0
    acts: int = 0
    bias_flops: int = 0


def conv_cx(
    cx: Cx, w_in: int, w_out: int, k: int, stride: int = 1, groups: int = 1, bias: bool = False
) -> Cx:
    """Add a ``k x k`` conv with padding ``k // 2``.

    ``h' = (h + 2 (k // 2) - k) // stride + 1``; ``flops += k^2 w_in w_out h' w' / groups
    (+ w_out h' w' bias adds)``; ``params += k^2 w_in w_out / groups (+ w_out)``;
    ``acts += w_out h' w'``.
    """
    h = (cx.h + 2 * (k // 2) - k) // stride + 1
    w = (cx.w + 2 * (k // 2) - k) // stride + 1
    bias_flops = w_out * h * w if bias else 0
    return Cx(
        h=h,
        w=w,
        flops=cx.flops + k * k * w_in * w_out * h * w // groups + bias_flops,
        params=cx.params + k * k * w_in * w_out // groups + (w_out if bias else 0),
        acts=cx.acts + w_out * h * w,
        bias_flops=cx.bias_flops + bias_flops,
    )


def bn_cx(cx: Cx, channels: int) -> Cx:
    """Add a BatchNorm over ``channels``: ``params += 2 channels`` (gamma and beta)."""
    return replace(cx, params=cx.params + 2 * channels)


def gap_cx(cx: Cx) -> Cx:
    """Global average pool: the spatial size becomes ``1 x 1``; nothing is counted."""
    return replace(cx, h=1, w=1)


def linear_cx(cx: Cx, w_in: int, w_out: int) -> Cx:
    """Add a linear layer with bias: ``flops = params += w_in w_out + w_out``, ``acts += w_out``."""
    n = w_in * w_out + w_out
    return replace(
        cx,
        flops=cx.flops + n,
        params=cx.params + n,
        acts=cx.acts + w_out,
        bias_flops=cx.bias_flops + w_out,
    )


def conv2d(
    w_in: int, w_out: int, k: int, stride: int = 1, groups: int = 1, bias: bool = False
) -> nn.Conv2d:
    """A ``k x k`` conv with padding ``k // 2`` (output size ``(h - 1) // stride + 1``)."""
    return nn.Conv2d(w_in, w_out, k, stride=stride, padding=k // 2, groups=groups, bias=bias)


class BatchNorm2d(nn.BatchNorm2d):
    """``torch.nn.BatchNorm2d`` with pycls's ``final_bn`` mark: True on the last BN of a
    residual branch, whose gamma :func:`edftools.models.init_weights` may zero. Parameters,
    buffers and state-dict keys are those of ``nn.BatchNorm2d``."""

    final_bn: bool

    def __init__(self, channels: int, *, final: bool, eps: float, momentum: float) -> None:
        super().__init__(channels, eps=eps, momentum=momentum)
        self.final_bn = final


def bn2d(channels: int, final: bool = False) -> BatchNorm2d:
    """BatchNorm (eps 1e-5, momentum 0.1). ``final`` marks the last BN of a residual branch,
    whose gamma :func:`edftools.models.init_weights` may zero."""
    return BatchNorm2d(channels, final=final, eps=1e-5, momentum=0.1)
