"""Fit any network's per-block widths to the quantized linear model (DDS e_fit).

``e_fit(w0, wa, wm) = (1/d) * sum_j |ln(w_j(w0, wa, wm) / obs_j)|`` with ``w_j`` the RegNet
generator's quantized widths at the model's depth ``d`` (:mod:`edftools.spaces.regnet`).

:func:`fit_regnet_batch` fits many models with the same search as :func:`fit_regnet` (which is
the batch of one): models of equal depth share one vectorized evaluation per round, and the
coarse grid's log widths ``ln w_j`` (which do not depend on the observed widths) are generated
once for the union of all those models' coarse candidates; each model then only gathers its
rows and takes ``mean_j |ln w_j - ln obs_j|``. The elements and the row means are the very
floating-point operations of the direct evaluation, so results do not depend on batching.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import ConfigError
from edftools.spaces.regnet import QUANTUM, block_widths_batch

Grid = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Candidate generator parameters as three equal-length arrays (w0, wa, wm)."""

_CHUNK_ELEMENTS = 250_000


@dataclass(frozen=True)
class RegNetFit:
    """Best quantized-linear fit of per-block widths (``e_fit`` = mean |ln(pred/obs)|)."""

    w0: int
    wa: float
    wm: float
    depth: int
    e_fit: float
    predicted: tuple[int, ...]


def fit_errors(log_obs: np.ndarray, w0: Any, wa: Any, wm: Any) -> np.ndarray:
    """``e_fit`` for arrays of candidates, generating every block (the reference)."""
    log_obs = np.atleast_2d(log_obs)
    d = log_obs.shape[1]
    ws, _, _ = block_widths_batch(w0, wa, wm, np.full(np.size(w0), d), max_depth=d)
    return np.abs(np.log(ws) - log_obs).mean(axis=1)


def _local_grids(
    centers: np.ndarray, a_step: float, m_step: float, n: int, lo_m: float, hi_m: float
) -> Grid:
    """Candidate (w0, wa, wm) around each centre: w0 +-8, wa * exp(+-a_step), wm +- m_step."""
    t = np.linspace(-1.0, 1.0, n)
    dw, ta, tm = (x.ravel() for x in np.meshgrid([-8.0, 0.0, 8.0], t, t, indexing="ij"))
    w0 = np.maximum(8.0, centers[:, 0:1] + dw[None, :])
    wa = np.round(centers[:, 1:2] * np.exp(a_step * ta[None, :]), 2)
    wm = np.round(np.clip(centers[:, 2:3] + m_step * tm[None, :], lo_m, hi_m), 3)
    return w0.ravel(), wa.ravel(), wm.ravel()


def _top(err: np.ndarray, cands: Grid, k: int) -> np.ndarray:
    """The ``k`` best distinct candidates as rows (w0, wa, wm, err), best first (by err, then
    the smallest (w0, wa, wm)); independent of the candidates' order."""
    table = np.stack([*cands, err], axis=1)
    if len(table) > 8 * k:  # keep every candidate at least as good as the 8k-th best
        cut = np.partition(err, 8 * k)[8 * k]
        table = table[err <= cut]
    table = np.unique(table, axis=0)
    order = np.lexsort((table[:, 2], table[:, 1], table[:, 0], table[:, 3]))
    return table[order[:k]]


def _observed(block_widths: Any) -> np.ndarray:
    obs = np.asarray(block_widths, dtype=np.float64).ravel()
    if obs.size < 1 or not np.all(np.isfinite(obs)) or (obs <= 0).any():
        raise ConfigError("block widths must be a non-empty list of positive numbers")
    return obs


def _coarse(obs: np.ndarray, wm_range: tuple[float, float], wa_range: tuple[float, float]) -> Grid:
    """The coarse grid of :func:`fit_regnet` for one model, as (w0, wa, wm) arrays."""
    (lo_m, hi_m), (lo_a, hi_a) = wm_range, wa_range
    first = obs[0]
    near = QUANTUM * np.round(first / QUANTUM)
    w0s = np.unique(np.maximum(QUANTUM, near + QUANTUM * np.arange(-2, 3)))
    ratios = np.unique(obs[obs > first] / first)
    wm_data = np.concatenate([ratios ** (1.0 / k) for k in range(1, 5)])
    wm_data = wm_data[(wm_data >= lo_m) & (wm_data <= hi_m)]
    wms = np.unique(np.round(np.concatenate([np.linspace(lo_m, hi_m, 61), wm_data]), 3))
    was = np.concatenate([[0.0], np.round(np.geomspace(lo_a, hi_a, 64), 2)])
    a, b, c = np.meshgrid(w0s, was, wms, indexing="ij")
    return a.ravel(), b.ravel(), c.ravel()


def _log_widths(w0: np.ndarray, wa: np.ndarray, wm: np.ndarray, d: int) -> np.ndarray:
    """``ln w_j`` of the generator for candidate arrays, ``(n, d)``, in bounded chunks."""
    step = max(1, _CHUNK_ELEMENTS // d)
    parts = []
    for i in range(0, w0.size, step):
        sl = slice(i, i + step)
        ws, _, _ = block_widths_batch(w0[sl], wa[sl], wm[sl], np.full(w0[sl].size, d), d)
        parts.append(np.log(ws))
    return np.concatenate(parts) if parts else np.zeros((0, d))


def _errors(log_w: np.ndarray, log_obs: np.ndarray) -> np.ndarray:
    return np.abs(log_w - log_obs).mean(axis=1)


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``(w0, wa, wm)`` rows and the inverse index; an integer key (w0, wa to 0.01,
    wm to 0.001, as the grids are rounded) sorts fast, and every row is checked against its
    representative (falling back to an exact row sort if the key conflated two)."""
    ints = np.round(rows * np.array([1.0, 100.0, 1000.0])).astype(np.int64)
    bits = [max(1, int(c.max()).bit_length()) for c in ints.T] if len(rows) else [1, 1, 1]
    if ints.min(initial=0) >= 0 and sum(bits) <= 62:
        key = (ints[:, 0] << (bits[1] + bits[2])) | (ints[:, 1] << bits[2]) | ints[:, 2]
        _, first, inv = np.unique(key, return_index=True, return_inverse=True)
        uniq = rows[first]
        if np.array_equal(uniq[inv.ravel()], rows):
            return uniq, inv.ravel()
    uniq, inv = np.unique(rows, axis=0, return_inverse=True)
    return uniq, inv.ravel()


def _evaluate_coarse(log_obs: list[np.ndarray], cands: list[Grid]) -> list[np.ndarray]:
    """Errors of each model's coarse candidates (models of one depth; shared log widths)."""
    d = log_obs[0].size
    rows = np.concatenate([np.stack(c, axis=1) for c in cands])
    uniq, inv = _unique_rows(rows)
    log_w = _log_widths(uniq[:, 0], uniq[:, 1], uniq[:, 2], d)
    bounds = np.cumsum([0, *(c[0].size for c in cands)])
    out = []
    for m, obs in enumerate(log_obs):
        idx = inv[bounds[m] : bounds[m + 1]]
        step = max(1, _CHUNK_ELEMENTS // d)
        out.append(
            np.concatenate(
                [_errors(log_w[idx[i : i + step]], obs) for i in range(0, idx.size, step)]
            )
        )
    return out


def _evaluate(log_obs: list[np.ndarray], cands: list[Grid]) -> list[np.ndarray]:
    """Errors of each model's candidates (models of one depth, one shared evaluation)."""
    d = log_obs[0].size
    sizes = [c[0].size for c in cands]
    w0, wa, wm = (np.concatenate([c[i] for c in cands]) for i in range(3))
    rows = np.repeat(np.arange(len(cands)), sizes)
    obs = np.stack(log_obs)
    step = max(1, _CHUNK_ELEMENTS // d)
    err = np.concatenate(
        [
            _errors(
                _log_widths(w0[i : i + step], wa[i : i + step], wm[i : i + step], d),
                obs[rows[i : i + step]],
            )
            for i in range(0, w0.size, step)
        ]
    )
    return np.split(err, np.cumsum(sizes)[:-1])


def fit_regnet_batch(
    block_widths: Sequence[Any],
    wm_range: tuple[float, float] = (1.5, 3.0),
    wa_range: tuple[float, float] = (0.1, 512.0),
    n_starts: int = 8,
) -> list[RegNetFit]:
    """:func:`fit_regnet` of many models at once (the same results, model by model).

    Models of equal depth share vectorized evaluations in every round of the search.
    """
    lo_m, hi_m = wm_range
    lo_a, hi_a = wa_range
    if not 1 < lo_m <= hi_m or not 0 < lo_a < hi_a:
        raise ConfigError(f"need 1 < wm_lo <= wm_hi and 0 < wa_lo < wa_hi: {wm_range, wa_range}")
    obs = [_observed(b) for b in block_widths]
    log_obs = [np.log(o) for o in obs]
    cands = {i: _coarse(o, wm_range, wa_range) for i, o in enumerate(obs)}
    tops: dict[int, np.ndarray] = {}
    a_step = np.log(hi_a / lo_a) / 63
    m_step = (hi_m - lo_m) / 60
    for round_ in range(6):  # the coarse grid, then up to five zoomed refinements
        groups: dict[int, list[int]] = defaultdict(list)
        for i in cands:
            groups[obs[i].size].append(i)
        evaluate = _evaluate_coarse if round_ == 0 else _evaluate
        for members in groups.values():
            errs = evaluate([log_obs[i] for i in members], [cands[i] for i in members])
            for i, err in zip(members, errs, strict=True):
                tops[i] = _top(err, cands[i], n_starts)
        nxt = {}
        for i in cands:
            if tops[i][0, 3] == 0:
                continue
            grid = _local_grids(tops[i][:, :3], a_step, m_step, 9, lo_m, hi_m)
            rows = np.stack([np.concatenate([grid[k], tops[i][:, k]]) for k in range(3)], axis=1)
            uniq, _ = _unique_rows(rows)  # overlapping local grids: evaluate each point once
            nxt[i] = (uniq[:, 0], uniq[:, 1], uniq[:, 2])
        cands = nxt
        a_step, m_step = a_step / 3, m_step / 3
    out = []
    for i, o in enumerate(obs):
        w0, wa, wm, err = tops[i][0]
        ws, _, _ = block_widths_batch([w0], [wa], [wm], [o.size])
        out.append(
            RegNetFit(int(w0), float(wa), float(wm), o.size, float(err), tuple(map(int, ws[0])))
        )
    return out


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
    return fit_regnet_batch([block_widths], wm_range, wa_range, n_starts)[0]
