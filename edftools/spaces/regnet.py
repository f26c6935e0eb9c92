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


def _check_params(w0: float, wa: float, wm: float, depth: int) -> None:
    if isinstance(depth, bool) or int(depth) != depth or depth < 1:
        raise ConfigError(f"RegNet depth must be an integer >= 1, got {depth!r}")
    if not w0 > 0 or w0 % QUANTUM:
        raise ConfigError(f"w0 must be a positive multiple of {QUANTUM}, got {w0!r}")
    if not wa >= 0:
        raise ConfigError(f"wa must be >= 0, got {wa!r}")
    if not wm > 1:
        raise ConfigError(f"wm must be > 1, got {wm!r}")


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
    u = j * wa + w0
    ks = np.round(np.log(u / w0) / np.log(wm))
    ws = (np.round(w0 * np.power(wm, ks) / QUANTUM) * QUANTUM).astype(np.int64)
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


# --- fitting any network to the quantized linear model ---------------------------------------


@dataclass(frozen=True)
class RegNetFit:
    """Best quantized-linear fit of per-block widths (``e_fit`` = mean |ln(pred/obs)|)."""

    w0: int
    wa: float
    wm: float
    depth: int
    e_fit: float
    predicted: tuple[int, ...]


def _fit_errors(log_obs: np.ndarray, w0, wa, wm) -> np.ndarray:
    """Mean |ln(pred_j / obs_j)| for arrays of candidate (w0, wa, wm), all at depth len(obs)."""
    d = log_obs.size
    ws, _, _ = block_widths_batch(w0, wa, wm, np.full(np.size(w0), d), max_depth=d)
    return np.abs(np.log(ws) - log_obs[None, :]).mean(axis=1)


def _local_grids(centers: np.ndarray, a_step: float, m_step: float, n: int, lo_m, hi_m):
    """Candidate (w0, wa, wm) around each centre: w0 +-8, wa * exp(+-a_step), wm +- m_step."""
    t = np.linspace(-1.0, 1.0, n)
    dw, ta, tm = np.meshgrid([-8.0, 0.0, 8.0], t, t, indexing="ij")
    dw, ta, tm = dw.ravel(), ta.ravel(), tm.ravel()
    w0 = np.maximum(8.0, centers[:, 0:1] + dw[None, :])
    wa = np.round(centers[:, 1:2] * np.exp(a_step * ta[None, :]), 2)
    wm = np.round(np.clip(centers[:, 2:3] + m_step * tm[None, :], lo_m, hi_m), 3)
    return w0.ravel(), wa.ravel(), wm.ravel()


def _evaluate(log_obs: np.ndarray, w0, wa, wm, chunk: int = 2_000_000) -> np.ndarray:
    step = max(1, chunk // max(1, log_obs.size))
    parts = [
        _fit_errors(log_obs, w0[i : i + step], wa[i : i + step], wm[i : i + step])
        for i in range(0, w0.size, step)
    ]
    return np.concatenate(parts)


def _top(err: np.ndarray, cands: tuple, k: int) -> np.ndarray:
    """The ``k`` best distinct candidates as rows (w0, wa, wm, err), best first."""
    table = np.stack([*cands, err], axis=1)
    if len(table) > 8 * k:
        table = table[np.argpartition(err, 8 * k)[: 8 * k]]
    table = np.unique(table, axis=0)
    order = np.lexsort((table[:, 2], table[:, 1], table[:, 0], table[:, 3]))
    return table[order[:k]]


def fit_regnet(
    block_widths: Any,
    wm_range: tuple[float, float] = (1.5, 3.0),
    wa_range: tuple[float, float] = (0.1, 512.0),
    n_starts: int = 8,
) -> RegNetFit:
    """Grid-search fit of ``(w0, wa, wm)`` at the model's depth ``d = len(block_widths)``.

    Minimizes ``e_fit = (1/d) * sum_j |ln(w_j(w0, wa, wm) / obs_j)|`` with ``w_j`` the quantized
    linear widths (module docstring). A coarse grid (``w0``: multiples of 8 near the first
    width; ``wa``: 64 log-spaced values in ``wa_range`` and 0; ``wm``: 61 values in ``wm_range``
    plus the ratios ``(obs_j / obs_0)^(1/k)``, k = 1..4, that reproduce an observed width) is
    followed by five zoomed refinements around the ``n_starts`` best points. ``wa`` is reported
    to 0.01 and ``wm`` to 0.001. Ties go to the smallest ``(w0, wa, wm)``.
    """
    obs = np.asarray(block_widths, dtype=np.float64).ravel()
    if obs.size < 1 or not np.all(np.isfinite(obs)) or (obs <= 0).any():
        raise ConfigError("block widths must be a non-empty list of positive numbers")
    lo_m, hi_m = wm_range
    lo_a, hi_a = wa_range
    if not 1 < lo_m <= hi_m or not 0 < lo_a < hi_a:
        raise ConfigError(f"need 1 < wm_lo <= wm_hi and 0 < wa_lo < wa_hi: {wm_range, wa_range}")
    log_obs = np.log(obs)
    first = obs[0]
    near = QUANTUM * np.round(first / QUANTUM)
    w0s = np.unique(np.maximum(QUANTUM, near + QUANTUM * np.arange(-2, 3)))
    ratios = np.unique(obs[obs > first] / first)
    wm_data = np.concatenate([ratios ** (1.0 / k) for k in range(1, 5)])
    wm_data = wm_data[(wm_data >= lo_m) & (wm_data <= hi_m)]
    wms = np.unique(np.round(np.concatenate([np.linspace(lo_m, hi_m, 61), wm_data]), 3))
    was = np.concatenate([[0.0], np.round(np.geomspace(lo_a, hi_a, 64), 2)])
    a, b, c = np.meshgrid(w0s, was, wms, indexing="ij")
    cands = (a.ravel(), b.ravel(), c.ravel())
    top = _top(_evaluate(log_obs, *cands), cands, n_starts)
    a_step = np.log(hi_a / lo_a) / 63
    m_step = (hi_m - lo_m) / 60
    for _ in range(5):
        if top[0, 3] == 0:
            break
        cands = _local_grids(top[:, :3], a_step, m_step, 9, lo_m, hi_m)
        cands = (
            np.concatenate([cands[0], top[:, 0]]),
            np.concatenate([cands[1], top[:, 1]]),
            np.concatenate([cands[2], top[:, 2]]),
        )
        top = _top(_evaluate(log_obs, *cands), cands, n_starts)
        a_step, m_step = a_step / 3, m_step / 3
    w0, wa, wm, err = top[0]
    d = obs.size
    ws, _, _ = block_widths_batch([w0], [wa], [wm], [d])
    return RegNetFit(
        w0=int(w0),
        wa=float(wa),
        wm=float(wm),
        depth=d,
        e_fit=float(err),
        predicted=tuple(int(x) for x in ws[0]),
    )
