"""RegNet: quantized linear generation of per-block widths, and the fit of any network to it.

Generation (DDS §3.3, pycls's rounding), for blocks ``j = 0 .. d-1``::

    u_j = w0 + wa * j                       (linear widths)
    s_j = ln(u_j / w0) / ln(wm)             (continuous stage index)
    k_j = round(s_j)                        (numpy round: half to even)
    w_j = round(w0 * wm^k_j / 8) * 8        (quantized to a multiple of 8)

Stages are the runs of equal ``w_j`` (numpy ``unique``); ``total_stages = max(k_j) + 1`` and a
RegNet "skips no stage" when the number of distinct widths equals ``total_stages``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import ConfigError
from edftools.spaces.config import NetConfig

QUANTUM = 8


@dataclass(frozen=True)
class RegNetWidths:
    """Result of :func:`generate_regnet`: per-stage widths/depths and per-block widths."""

    widths: tuple[int, ...]
    depths: tuple[int, ...]
    block_widths: tuple[int, ...]
    total_stages: int

    @property
    def num_stages(self) -> int:
        return len(self.widths)


#: Sanity limits of a RegNet's parameters (far beyond any trainable network: pycls's deepest
#: RegNet has 40 blocks and its widest stage 7392 channels). They keep the generator's numbers
#: finite and its run time bounded.
MAX_DEPTH = 1000
MAX_WIDTH = 1_000_000


def _check_params(w0: float, wa: float, wm: float, depth: int) -> None:
    """Raise :class:`ConfigError` (one line) unless ``1 <= depth <= MAX_DEPTH`` is an integer,
    ``w0`` is a positive multiple of 8, ``wa >= 0`` and ``wm > 1`` are finite, and every block
    width ``w0 * wm^k_j`` stays within ``MAX_WIDTH`` channels."""
    number = (int, float, np.number)
    integral = isinstance(depth, number) and np.isfinite(depth) and int(depth) == depth
    if isinstance(depth, bool) or not integral or not 1 <= depth <= MAX_DEPTH:
        raise ConfigError(f"RegNet depth must be an integer in [1, {MAX_DEPTH}], got {depth!r}")
    for name, value in (("w0", w0), ("wa", wa), ("wm", wm)):
        if isinstance(value, bool) or not isinstance(value, number):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        if not np.isfinite(value):
            raise ConfigError(f"{name} must be finite, got {value!r}")
    if not 0 < w0 <= MAX_WIDTH or w0 % QUANTUM:
        raise ConfigError(
            f"w0 must be a positive multiple of {QUANTUM} up to {MAX_WIDTH}, got {w0!r}"
        )
    if not 0 <= wa <= MAX_WIDTH:
        raise ConfigError(f"wa must be in [0, {MAX_WIDTH}], got {wa!r}")
    if not wm > 1:
        raise ConfigError(f"wm must be > 1, got {wm!r}")
    # the last block has the largest stage index; compare its width in log space (no overflow)
    k_last = float(stage_index(depth - 1, float(w0), float(wa), float(wm)))
    if np.log(w0) + k_last * np.log(wm) > np.log(MAX_WIDTH):
        raise ConfigError(
            f"RegNet (w0={w0:g}, wa={wa:g}, wm={wm:g}, depth={depth}) has blocks wider than "
            f"{MAX_WIDTH} channels"
        )


def log_growth(j: Any, w0: Any, wa: Any) -> np.ndarray:
    """``ln(u_j / w0) = ln((j * wa + w0) / w0)`` (floats, broadcast): :func:`stage_index`'s
    numerator, which does not depend on ``wm`` (the fit shares it across many ``wm``)."""
    return np.log((j * wa + w0) / w0)


def stage_of_growth(growth: Any, wm: Any) -> np.ndarray:
    """``k = round(growth / ln(wm))`` for a :func:`log_growth` ``growth`` (broadcast)."""
    return np.round(growth / np.log(wm))


def stage_index(j: Any, w0: Any, wa: Any, wm: Any) -> np.ndarray:
    """Stage index ``k_j = round(ln((j * wa + w0) / w0) / ln(wm))`` (floats, broadcast).

    The one place the generator's arithmetic lives (with :func:`log_growth`,
    :func:`stage_of_growth` and :func:`quantized_width`, which it is made of): the sampler, the
    exact counts and the fit all call them, so their floating-point rounding at ties is the
    same.
    """
    return stage_of_growth(log_growth(j, w0, wa), wm)


def quantized_width(w0: Any, wm: Any, k: Any) -> np.ndarray:
    """``round(w0 * wm^k / 8) * 8`` (floats, broadcast): the width of stage ``k``."""
    return np.round(w0 * np.power(wm, k) / QUANTUM) * QUANTUM


def block_widths_batch(w0: Any, wa: Any, wm: Any, depth: Any, max_depth: int | None = None):
    """Per-block quantized widths and stage indices for arrays of RegNet parameters.

    Returns ``(widths, ks, valid)``, each ``(n, D)`` with ``D = max_depth or max(depth)``:
    ``widths[:, j] = round(w0 * wm^k_j / 8) * 8`` with ``k_j = round(ln(u_j / w0) / ln(wm))``,
    ``u_j = w0 + wa * j``; ``valid[:, j] = j < depth``.
    """
    w0 = np.asarray(w0, dtype=np.float64)[:, None]
    wa = np.asarray(wa, dtype=np.float64)[:, None]
    wm = np.asarray(wm, dtype=np.float64)[:, None]
    depth = np.asarray(depth, dtype=np.int64)
    d_max = int(max_depth if max_depth is not None else (depth.max() if depth.size else 1))
    j = np.arange(d_max, dtype=np.float64)[None, :]
    ks = stage_index(j, w0, wa, wm)
    ws = quantized_width(w0, wm, ks).astype(np.int64)
    valid = j < depth[:, None]
    return ws, ks.astype(np.int64), valid


def generate_regnet(w0: float, wa: float, wm: float, depth: int) -> RegNetWidths:
    """Quantized linear widths of a RegNet (module docstring); stages = runs of equal widths."""
    _check_params(w0, wa, wm, depth)
    ws, ks, _ = block_widths_batch([w0], [wa], [wm], [depth])
    blocks = ws[0, :depth]
    widths, counts = np.unique(blocks, return_counts=True)
    return RegNetWidths(
        widths=tuple(int(x) for x in widths),
        depths=tuple(int(x) for x in counts),
        block_widths=tuple(int(x) for x in blocks),
        total_stages=int(ks[0, :depth].max()) + 1,
    )


def regnet_config(
    w0: int,
    wa: float,
    wm: float,
    depth: int,
    group_width: int,
    bottleneck_ratio: float = 1,
    se: bool = False,
    resolution: int = 224,
    num_classes: int = 1000,
    stem_type: str = "imagenet",
    stem_width: int = 32,
    in_channels: int = 3,
    stride: int = 2,
    extra: tuple[tuple[str, Any], ...] = (),
) -> NetConfig:
    """The RegNet ``(w0, wa, wm, depth, g, b)`` as a :class:`NetConfig`, built as pycls does.

    Widths and per-stage depths from :func:`generate_regnet`; every stage gets ``g`` and ``b``
    and then passes through group compatibility (``w`` and ``g`` adjusted per stage). ``se``
    selects block type ``Y`` (SE ratio 0.25) instead of ``X``.
    """
    gen = generate_regnet(w0, wa, wm, depth)
    if isinstance(group_width, bool) or int(group_width) != group_width or group_width < 1:
        raise ConfigError(f"group width must be an integer >= 1, got {group_width!r}")
    params = (("w0", w0), ("wa", wa), ("wm", wm), ("depth", int(depth)))
    return NetConfig.from_stages(
        gen.depths,
        gen.widths,
        bottleneck_ratio,
        int(group_width),
        stride,
        block_type="Y" if se else "X",
        stem_type=stem_type,
        stem_width=stem_width,
        resolution=resolution,
        num_classes=num_classes,
        in_channels=in_channels,
        extra=tuple(extra) or params,
    )
