"""Analytic complexity (flops, params, acts) of a network, with pycls's conventions.

Conventions (one entry per layer; ``h`` is the square spatial size of the layer *output*)::

    conv k x k, c_in -> c_out, groups G, stride s, padding (k-1)//2:
        h_out = (h_in - 1) // s + 1
        flops += k*k*c_in*c_out*h_out^2 // G   (+ c_out*h_out^2 with bias)
        params += k*k*c_in*c_out // G          (+ c_out with bias)
        acts   += c_out*h_out^2
    BatchNorm(C): params += 2*C (gamma, beta; running stats are buffers); no flops, no acts
    ReLU, sigmoid, residual addition, SE scaling, global average pool: nothing
    FC c_in -> n (bias): flops = params = c_in*n + n; acts += n

Exact layer list (``w_in`` block input width, ``w`` block output width, ``s`` block stride,
``w_b = int(round(w / b))`` bottleneck width, ``G = w_b // g`` groups,
``w_se = int(round(se_ratio * w_in))``; pycls drops the SE of a block whose ``w_se`` is 0).
The PyTorch modules must mirror it::

    stem (imagenet): conv3x3(in_channels -> stem_width, stride 2), BN, ReLU
    stem (small):    conv3x3(in_channels -> stem_width, stride 1), BN, ReLU
    stage i: d_i blocks; block 0 has w_in = previous width and stride s_i, the others
             w_in = w_i and stride 1
    X block:  conv1x1(w_in -> w_b), BN, ReLU;
              conv3x3(w_b -> w_b, stride s, groups G), BN, ReLU;
              conv1x1(w_b -> w), BN;
              shortcut = conv1x1(w_in -> w, stride s) + BN if (w_in != w or s != 1) else identity;
              add, ReLU
    Y block:  X block with SE after the 3x3 conv's ReLU (none when w_se = 0):
              GAP, conv1x1(w_b -> w_se, bias), ReLU, conv1x1(w_se -> w_b, bias), sigmoid, multiply
    R block:  X block with G = 1 (dense 3x3 conv; group width ignored)
    V block:  conv3x3(w_in -> w, stride s), BN, ReLU; conv3x3(w -> w), BN, ReLU (no shortcut)
    VR block: conv3x3(w_in -> w, stride s), BN, ReLU; conv3x3(w -> w), BN;
              shortcut as in X; add, ReLU
    head:     global average pool, FC(last width -> num_classes, bias)

``X``/``Y`` blocks need ``w_b % g == 0`` (true after group compatibility adjustment).

:func:`complexity` walks that layer list for one :class:`NetConfig`;
:func:`complexity_batch` computes the same integers for a batch of configs as numpy arrays in
closed form (every block after the first of a stage is identical, so a stage costs
``first_block + (d - 1) * other_block``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import ConfigError
from edftools.measures import METRICS
from edftools.spaces.config import BLOCK_TYPES, STEM_STRIDE, STEM_TYPES, NetConfig


@dataclass(frozen=True)
class Complexity:
    """Complexity of one network: ``flops`` (multiply-adds), ``params``, ``acts`` (integers)."""

    flops: int
    params: int
    acts: int

    def as_dict(self) -> dict[str, int]:
        return {"flops": self.flops, "params": self.params, "acts": self.acts}


@dataclass(frozen=True)
class ComplexityBatch:
    """Complexity of a batch of networks: three int64 arrays of the same length."""

    flops: np.ndarray
    params: np.ndarray
    acts: np.ndarray

    def __len__(self) -> int:
        return len(self.flops)

    def __getitem__(self, metric: str) -> np.ndarray:
        if metric not in METRICS:
            raise KeyError(metric)
        return getattr(self, metric)

    def at(self, i: int) -> Complexity:
        """The complexity of network ``i`` as a :class:`Complexity`."""
        return Complexity(int(self.flops[i]), int(self.params[i]), int(self.acts[i]))


# --- one config: an explicit walk over the layer list ---------------------------------------


class _Counter:
    """Accumulates flops/params/acts while walking layers at the current spatial size."""

    def __init__(self, h: int) -> None:
        self.h, self.flops, self.params, self.acts = h, 0, 0, 0

    def conv(self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, bias=False):
        h = (self.h - 1) // stride + 1
        self.flops += k * k * c_in * c_out * h * h // groups + (c_out * h * h if bias else 0)
        self.params += k * k * c_in * c_out // groups + (c_out if bias else 0)
        self.acts += c_out * h * h
        self.h = h

    def bn(self, c: int) -> None:
        self.params += 2 * c

    def fc(self, c_in: int, n: int) -> None:
        self.flops += c_in * n + n
        self.params += c_in * n + n
        self.acts += n


def _block(cx: _Counter, net: NetConfig, w_in: int, w: int, s: int, b: float, g: int) -> None:
    kind = net.block_type
    h_in = cx.h
    if kind != "V" and (w_in != w or s != 1):  # projection shortcut, at the output resolution
        cx.conv(w_in, w, 1, stride=s)
        cx.bn(w)
        cx.h = h_in
    if kind in ("V", "VR"):
        cx.conv(w_in, w, 3, stride=s)
        cx.bn(w)
        cx.conv(w, w, 3)
        cx.bn(w)
        return
    w_b = round(w / b)
    if w_b < 1:
        raise ConfigError(f"bottleneck width round({w}/{b}) is < 1")
    if kind == "R":
        groups = 1
    else:
        if w_b % g:
            raise ConfigError(f"bottleneck width {w_b} is not a multiple of group width {g}")
        groups = w_b // g
    cx.conv(w_in, w_b, 1)
    cx.bn(w_b)
    cx.conv(w_b, w_b, 3, stride=s, groups=groups)
    cx.bn(w_b)
    w_se = round(w_in * net.se_ratio) if kind == "Y" else 0
    if w_se > 0:  # an SE width that rounds to 0 drops the SE (pycls)
        h = cx.h
        cx.h = 1
        cx.conv(w_b, w_se, 1, bias=True)
        cx.conv(w_se, w_b, 1, bias=True)
        cx.h = h
    cx.conv(w_b, w, 1)
    cx.bn(w)


def complexity(net: NetConfig) -> Complexity:
    """Exact flops/params/acts of one network by walking its layer list (module docstring).

    Sum over layers of the per-layer formulas: conv ``k²·c_in·c_out·h'²/G`` flops,
    ``k²·c_in·c_out/G`` params, ``c_out·h'²`` acts; BN ``2C`` params; FC ``c_in·n + n``.
    """
    cx = _Counter(net.resolution)
    cx.conv(net.in_channels, net.stem_width, 3, stride=STEM_STRIDE[net.stem_type])
    cx.bn(net.stem_width)
    w_in = net.stem_width
    for st in net.stages:
        for j in range(st.depth):
            stride = st.stride if j == 0 else 1
            _block(cx, net, w_in, st.width, stride, st.bottleneck_ratio, st.group_width)
            w_in = st.width
    cx.fc(w_in, net.num_classes)
    return Complexity(cx.flops, cx.params, cx.acts)


# --- a batch of configs: closed form over numpy arrays ---------------------------------------


def _as_2d(name: str, value: Any, shape: tuple[int, int], dtype) -> np.ndarray:
    arr = np.asarray(value, dtype=dtype)
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ConfigError(f"{name} of shape {arr.shape} does not fit {shape}") from None


def _block_batch(kind: str, w_in, w, h_in, h, w_b, g_eff, w_se, proj):
    """(flops, params, acts) of one block, in closed form (layer list in the module docstring).

    ``g_eff`` is the channels per group of the 3x3 conv (``w_b`` for R blocks), so its cost is
    ``9 * w_b * g_eff`` params; ``proj`` says whether the block has a projection shortcut
    (``True``, ``False`` or a boolean array).
    """
    hi2, h2 = h_in * h_in, h * h
    if kind in ("V", "VR"):
        t = 9 * w_in * w + 9 * w * w
        params, flops, acts = t + 4 * w, t * h2, 2 * w * h2
    else:
        t1, t23 = w_in * w_b, 9 * w_b * g_eff + w_b * w
        params = t1 + t23 + 4 * w_b + 2 * w
        flops = t1 * hi2 + t23 * h2
        acts = w_b * (hi2 + h2) + w * h2
        if kind == "Y":  # an SE width that rounds to 0 drops the SE (pycls)
            se = (2 * w_b * w_se + w_se + w_b) * (w_se > 0)
            params, flops, acts = params + se, flops + se, acts + (w_se + w_b) * (w_se > 0)
    if kind != "V" and proj is not False:
        pp = w_in * w
        if proj is True:
            params, flops, acts = params + pp + 2 * w, flops + pp * h2, acts + w * h2
        else:
            params = params + proj * (pp + 2 * w)
            flops, acts = flops + proj * (pp * h2), acts + proj * (w * h2)
    return flops, params, acts


def complexity_batch(
    depths: Any,
    widths: Any,
    bottleneck_ratios: Any = 1,
    group_widths: Any = 1,
    strides: Any = 2,
    *,
    block_type: str = "X",
    stem_type: str = "imagenet",
    stem_width: int = 32,
    resolution: int = 224,
    num_classes: int = 1000,
    in_channels: int = 3,
    se_ratio: float = 0.25,
) -> ComplexityBatch:
    """Flops/params/acts of ``n`` networks with ``S`` stages each, as int64 arrays of length n.

    ``depths`` and ``widths`` are ``(n, S)`` integer arrays; ``bottleneck_ratios`` and
    ``group_widths`` broadcast to ``(n, S)``; ``strides`` is one value per stage (or an
    ``(n, S)`` array). The widths must already be group-compatible. Per stage, with
    ``C(w_in -> w, stride)`` the block cost of the module docstring::

        cost_i = C(w_{i-1} -> w_i, stride s_i) + (d_i - 1) * C(w_i -> w_i, stride 1)

    plus the stem and the head. Equals :func:`complexity` on every config (tested).
    """
    if block_type not in BLOCK_TYPES:
        raise ConfigError(f"unknown block type {block_type!r}; known: {BLOCK_TYPES}")
    if stem_type not in STEM_TYPES:
        raise ConfigError(f"unknown stem type {stem_type!r}; known: {STEM_TYPES}")
    d = np.atleast_2d(np.asarray(depths, dtype=np.int64))
    shape = d.shape
    n, n_stages = shape
    w = _as_2d("widths", widths, shape, np.int64)
    b = _as_2d("bottleneck_ratios", bottleneck_ratios, shape, np.float64)
    g = _as_2d("group_widths", group_widths, shape, np.int64)
    per_stage = np.ndim(strides) <= 1
    s = (
        [int(x) for x in np.broadcast_to(np.asarray(strides, dtype=np.int64), (n_stages,))]
        if per_stage
        else _as_2d("strides", strides, shape, np.int64)
    )
    if (d < 1).any() or (w < 1).any() or (g < 1).any():
        raise ConfigError("depths, widths and group widths must be >= 1")
    if not np.isin(np.asarray(s), (1, 2)).all():
        raise ConfigError("strides must be 1 or 2")
    net = dict(
        block_type=block_type,
        stem_type=stem_type,
        stem_width=stem_width,
        resolution=resolution,
        num_classes=num_classes,
        in_channels=in_channels,
        se_ratio=se_ratio,
    )
    if n <= _CHUNK:
        return _complexity_chunk(d, w, b, g, s, per_stage, **net)
    out = ComplexityBatch(*(np.empty(n, dtype=np.int64) for _ in METRICS))
    for lo in range(0, n, _CHUNK):  # cache-sized chunks: far faster than 8 MB temporaries
        sl = slice(lo, lo + _CHUNK)
        part = _complexity_chunk(
            d[sl], w[sl], b[sl], g[sl], s if per_stage else s[sl], per_stage, **net
        )
        for m in METRICS:
            out[m][sl] = part[m]
    return out


_CHUNK = 16_384


def _complexity_chunk(
    d,
    w,
    b,
    g,
    s,
    per_stage,
    *,
    block_type,
    stem_type,
    stem_width,
    resolution,
    num_classes,
    in_channels,
    se_ratio,
) -> ComplexityBatch:
    n, n_stages = d.shape

    h: Any = (resolution - 1) // STEM_STRIDE[stem_type] + 1
    stem = 9 * in_channels * stem_width
    flops = np.full(n, stem * h * h, dtype=np.int64)
    params = np.full(n, stem + 2 * stem_width, dtype=np.int64)
    acts = np.full(n, stem_width * h * h, dtype=np.int64)
    # stage-major contiguous copies: each stage's row is one contiguous int64 array
    dT = np.ascontiguousarray(d.T)
    wT = np.ascontiguousarray(w.T)
    bottleneck = None  # bottleneck blocks: (w_b, channels per group), stage-major
    if block_type not in ("V", "VR"):
        wbT = np.round(wT / np.ascontiguousarray(b.T)).astype(np.int64)
        if (wbT < 1).any():
            raise ConfigError("a bottleneck width round(w / b) is < 1")
        if block_type == "R":
            gT = wbT
        else:
            gT = np.ascontiguousarray(g.T)
            if (wbT % gT).any():
                raise ConfigError("a bottleneck width is not a multiple of its group width")
        bottleneck = (wbT, gT)
    w_prev: Any = stem_width
    for i in range(n_stages):
        wi = wT[i]
        si = s[i] if per_stage else s[:, i]
        w_b = g_eff = w_se0 = w_se1 = None
        if bottleneck is not None:
            w_b, g_eff = bottleneck[0][i], bottleneck[1][i]
            if block_type == "Y":
                w_se0 = np.round(np.asarray(w_prev) * se_ratio).astype(np.int64)
                w_se1 = np.round(wi * se_ratio).astype(np.int64)
        h_out = (h - 1) // si + 1
        proj = True if (per_stage and si != 1) else (wi != w_prev) | (np.asarray(si) != 1)
        f0, p0, a0 = _block_batch(block_type, w_prev, wi, h, h_out, w_b, g_eff, w_se0, proj)
        f1, p1, a1 = _block_batch(block_type, wi, wi, h_out, h_out, w_b, g_eff, w_se1, False)
        rest = dT[i] - 1
        flops += f0 + rest * f1
        params += p0 + rest * p1
        acts += a0 + rest * a1
        w_prev, h = wi, h_out
    flops += w_prev * num_classes + num_classes
    params += w_prev * num_classes + num_classes
    acts += num_classes
    return ComplexityBatch(flops, params, acts)


def complexity_of_configs(nets: list[NetConfig]) -> ComplexityBatch:
    """:func:`complexity_batch` over a list of configs (grouped by their shared settings)."""
    n = len(nets)
    out = ComplexityBatch(*(np.zeros(n, dtype=np.int64) for _ in METRICS))
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(nets):
        key = (
            len(c.stages),
            c.block_type,
            c.stem_type,
            c.stem_width,
            c.resolution,
            c.num_classes,
            c.in_channels,
            c.se_ratio,
        )
        groups.setdefault(key, []).append(i)
    for key, idx in groups.items():
        sub = [nets[i] for i in idx]
        res = complexity_batch(
            [c.depths for c in sub],
            [c.widths for c in sub],
            [c.bottleneck_ratios for c in sub],
            [c.group_widths for c in sub],
            [c.strides for c in sub],
            block_type=key[1],
            stem_type=key[2],
            stem_width=key[3],
            resolution=key[4],
            num_classes=key[5],
            in_channels=key[6],
            se_ratio=key[7],
        )
        for m in METRICS:
            out[m][idx] = res[m]
    return out
