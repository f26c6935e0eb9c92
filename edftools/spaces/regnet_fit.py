"""Fit any network's per-block widths to the quantized linear model (DDS e_fit).

``e_fit(w0, wa, wm) = (1/d) * sum_j |ln(w_j(w0, wa, wm) / obs_j)|`` with ``w_j`` the RegNet
generator's quantized widths at the model's depth ``d`` (:mod:`edftools.spaces.regnet`).

:func:`fit_regnet_batch` fits many models with the same search as :func:`fit_regnet` (which is
the batch of one): models of equal depth go through every round together, as rows tagged
with the model's index (one evaluation, one selection of each model's best candidates, one
set of zoomed grids per round, no loop over models), and the coarse grid's log widths
``ln w_j`` (which do not depend on the observed widths) are generated once for the union of
all those models' coarse grids (distinct (w0, wm) pairs times the common ``wa`` values),
with ``ln((j wa + w0) / w0)`` taken once per w0 and ``ln w`` once per pair and stage index;
each model then takes ``mean_j |ln w_j - ln obs_j|`` once per distinct row of widths its grid
reaches and gathers it for its grid. The zoomed grids are deduplicated as integer keys packed
from their axes. The elements and the row means are the very floating-point operations of the
direct evaluation, so results do not depend on batching (``tests/spaces/test_regnet.py``
checks them against a plain search).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from edftools.errors import ConfigError
from edftools.spaces.regnet import (
    QUANTUM,
    block_widths_batch,
    log_growth,
    quantized_width,
    stage_of_growth,
)
from edftools.spaces.regnet_fit_rows import distinct_rows, unique_rows, zoom_candidates

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


def _cut(err: np.ndarray, k: int) -> float:
    """The ``8k``-th smallest error (``np.partition``'s), ``inf`` with at most ``8k`` of them:
    every candidate at least this good is kept for :func:`_best`."""
    return float(np.partition(err, 8 * k)[8 * k]) if err.size > 8 * k else np.inf


def _cuts(model: np.ndarray, err: np.ndarray, n_models: int, k: int) -> np.ndarray:
    """:func:`_cut` of each model's candidates at once, one per row (``model`` its index)."""
    counts = np.bincount(model, minlength=n_models)
    starts = np.cumsum(counts) - counts
    sorted_err = err[np.lexsort((err, model))]
    cuts = np.full(n_models, np.inf)
    big = counts > 8 * k
    cuts[big] = sorted_err[starts[big] + 8 * k]
    return cuts[model]


def _best(table: np.ndarray, k: int) -> np.ndarray:
    """Each model's ``k`` best distinct candidates from rows ``(model, w0, wa, wm, err)``
    (already cut by :func:`_cut`), best first (by err, then the smallest (w0, wa, wm)), the
    models in increasing order; independent of the rows' order."""
    order = np.lexsort((table[:, 3], table[:, 2], table[:, 1], table[:, 4], table[:, 0]))
    table = table[order]
    table = table[np.r_[True, (table[1:] != table[:-1]).any(axis=1)]]  # equal rows once
    rank = np.arange(len(table)) - np.searchsorted(table[:, 0], table[:, 0])
    return table[rank < k]


def _observed(block_widths: Any) -> np.ndarray:
    obs = np.asarray(block_widths, dtype=np.float64).ravel()
    if obs.size < 1 or not np.all(np.isfinite(obs)) or (obs <= 0).any():
        raise ConfigError("block widths must be a non-empty list of positive numbers")
    return obs


@lru_cache(maxsize=8)
def _shared_axes(
    wm_range: tuple[float, float], wa_range: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The parts of :func:`_coarse_axes` common to every model (read-only): the 61 evenly
    spaced ``wm`` and the ``was`` (0 and 64 log-spaced values, to 0.01)."""
    (lo_m, hi_m), (lo_a, hi_a) = wm_range, wa_range
    wms = np.linspace(lo_m, hi_m, 61)
    was = np.concatenate([[0.0], np.round(np.geomspace(lo_a, hi_a, 64), 2)])
    wms.setflags(write=False)
    was.setflags(write=False)
    return wms, was


def _coarse_axes(obs: np.ndarray, wm_range, wa_range) -> tuple[np.ndarray, ...]:
    """The axes ``(w0s, was, wms)`` of :func:`fit_regnet`'s coarse grid for one model (the
    grid is their product, in ``meshgrid(..., indexing="ij")`` order)."""
    lo_m, hi_m = wm_range
    even_wms, was = _shared_axes(tuple(map(float, wm_range)), tuple(map(float, wa_range)))
    first = obs[0]
    near = QUANTUM * np.round(first / QUANTUM)
    w0s = np.unique(np.maximum(QUANTUM, near + QUANTUM * np.arange(-2, 3)))
    ratios = np.unique(obs[obs > first] / first)
    wm_data = np.concatenate([ratios ** (1.0 / k) for k in range(1, 5)])
    wm_data = wm_data[(wm_data >= lo_m) & (wm_data <= hi_m)]
    wms = np.unique(np.round(np.concatenate([even_wms, wm_data]), 3))
    return w0s, was, wms


def _log_widths(w0: np.ndarray, wa: np.ndarray, wm: np.ndarray, d: int) -> np.ndarray:
    """``ln w_j`` of the generator for candidate arrays, ``(n, d)`` (callers bound n·d,
    :func:`_evaluate`): the elements of :func:`~edftools.spaces.regnet.block_widths_batch`,
    with ``ln((j wa + w0) / w0)`` taken once per run of equal (w0, wa) (sorted zoom candidates
    come in runs of several wm)."""
    if w0.size == 0:
        return np.zeros((0, d))
    j = np.arange(d, dtype=np.float64)
    w0_, wa_, wm_ = w0[:, None], wa[:, None], wm[:, None]
    head = np.r_[True, (w0[1:] != w0[:-1]) | (wa[1:] != wa[:-1])]
    growth = log_growth(j[None, :], w0_[head], wa_[head])[np.cumsum(head) - 1]
    widths = quantized_width(w0_, wm_, stage_of_growth(growth, wm_))
    return np.log(widths.astype(np.int64))


def _errors(log_w: np.ndarray, log_obs: np.ndarray) -> np.ndarray:
    return np.abs(log_w - log_obs).mean(axis=1)


def _union_log_widths(w0: np.ndarray, wm: np.ndarray, was: np.ndarray, d: int) -> np.ndarray:
    """``ln w_j`` of the generator for every ``(w0[p], was[a], wm[p])``, ``(P * A, d)`` rows in
    (pair, wa) order: the elements of :func:`_log_widths` (the same floating-point operations
    of :func:`~edftools.spaces.regnet.block_widths_batch`), with its two shared factors
    computed once. ``ln((j wa + w0) / w0)`` depends on (w0, wa, j) only: it is taken once per
    distinct w0; ``k_j = round(that / ln wm)``; and ``ln(round(w0 wm^k / 8) * 8)`` is taken
    once per pair and stage index ``k`` and gathered at each ``k_j``."""
    j = np.arange(d, dtype=np.float64)
    w0s, w0_of = np.unique(w0, return_inverse=True)
    growth = log_growth(j[None, None, :], w0s[:, None, None], was[None, :, None])  # (W, A, d)
    step = max(1, _CHUNK_ELEMENTS // (was.size * d))
    parts = []
    for i in range(0, w0.size, step):
        sl = slice(i, i + step)
        ks = stage_of_growth(growth[w0_of[sl]], wm[sl, None, None]).astype(np.intp)  # (p, A, d)
        # each pair's k = 0 .. K-1, capped at its own largest (never past what it generates)
        top = ks.max(axis=(1, 2), initial=0)
        k = np.minimum(np.arange(int(top.max(initial=0)) + 1)[None, :], top[:, None])
        widths = quantized_width(w0[sl, None], wm[sl, None], k.astype(np.float64))
        table = np.log(widths.astype(np.int64))  # (p, K)
        ks += (np.arange(ks.shape[0]) * k.shape[1])[:, None, None]
        parts.append(table.ravel()[ks].reshape(-1, d))
    return np.concatenate(parts) if parts else np.zeros((0, d))


def _evaluate_coarse(log_obs: np.ndarray, axes: list[tuple[np.ndarray, ...]]) -> list[np.ndarray]:
    """Errors of each model's coarse grid (models of one depth), in the grid's order. The log
    widths are generated once for the union of the grids: every grid is its (w0, wm) pairs
    times the same ``was``, so the union is the distinct pairs times ``was``
    (:func:`_union_log_widths`). Quantization makes many candidates generate the same widths:
    each model's errors are computed once per distinct row of widths that its grid reaches (a
    row's error is the same float mean wherever it is computed) and gathered for its grid."""
    d = log_obs.shape[1]
    was = axes[0][1]
    pairs = [np.meshgrid(w0s, wms, indexing="ij") for w0s, _, wms in axes]
    rows = np.concatenate([np.stack([a.ravel(), b.ravel()], axis=1) for a, b in pairs])
    uniq, inv = unique_rows(rows, (1.0, 1000.0))
    distinct, row_of = distinct_rows(_union_log_widths(uniq[:, 0], uniq[:, 1], was, d))
    row_of = row_of.reshape(len(uniq), was.size)
    bounds = np.cumsum([0, *(a.size for a, _ in pairs)])
    step = max(1, _CHUNK_ELEMENTS // d)
    slot = np.zeros(len(distinct), dtype=np.intp)
    out = []
    for m, ((a, _), obs) in enumerate(zip(pairs, log_obs, strict=True)):
        pair = inv[bounds[m] : bounds[m + 1]].reshape(a.shape)  # (w0, wm) -> its union row
        rows_of_grid = row_of[pair].transpose(0, 2, 1).ravel()  # (w0, wa, wm) order
        reached = np.zeros(len(distinct), dtype=bool)
        reached[rows_of_grid] = True
        used = np.flatnonzero(reached)
        slot[used] = np.arange(used.size)
        err = np.concatenate(
            [_errors(distinct[used[i : i + step]], obs) for i in range(0, used.size, step)]
        )
        out.append(err[slot[rows_of_grid]])
    return out


def _evaluate(log_obs: np.ndarray, cands: np.ndarray) -> np.ndarray:
    """Errors of candidate rows ``(model, w0, wa, wm)`` against ``log_obs[model]`` (models of
    one depth), in bounded chunks."""
    d = log_obs.shape[1]
    step = max(1, _CHUNK_ELEMENTS // d)
    parts = []
    for i in range(0, len(cands), step):
        c = cands[i : i + step]
        parts.append(
            _errors(_log_widths(c[:, 1], c[:, 2], c[:, 3], d), log_obs[c[:, 0].astype(int)])
        )
    return np.concatenate(parts) if parts else np.zeros(0)


def _fit_group(
    obs: list[np.ndarray], wm_range: tuple[float, float], wa_range: tuple[float, float], k: int
) -> np.ndarray:
    """The search of :func:`fit_regnet` for models of one depth, all at once: rows
    ``(w0, wa, wm, err)`` of each model's best fit."""
    (lo_m, hi_m), (lo_a, hi_a) = wm_range, wa_range
    log_obs = np.stack([np.log(o) for o in obs])
    axes = [_coarse_axes(o, wm_range, wa_range) for o in obs]
    kept = []
    for m, (ax, err) in enumerate(zip(axes, _evaluate_coarse(log_obs, axes), strict=True)):
        at = np.flatnonzero(err <= _cut(err, k))
        i, j, l_ = np.unravel_index(at, tuple(a.size for a in ax))
        kept.append(np.stack([np.full(at.size, m), ax[0][i], ax[1][j], ax[2][l_], err[at]], 1))
    best = _best(np.concatenate(kept), k)
    final = np.zeros((len(obs), 4))
    a_step = np.log(hi_a / lo_a) / 63
    m_step = (hi_m - lo_m) / 60
    for round_ in range(6):  # the coarse grid, then up to five zoomed refinements
        heads = np.flatnonzero(np.r_[True, best[1:, 0] != best[:-1, 0]])
        final[best[heads, 0].astype(int)] = best[heads, 1:]
        if round_ == 5:
            break
        # a model whose best fit is exact (err 0) stops; the others zoom around their k best
        active = np.isin(best[:, 0], best[heads[best[heads, 4] != 0], 0])
        centers = best[active]
        if not len(centers):
            break
        cands = zoom_candidates(centers, a_step, m_step, lo_m, hi_m)
        a_step, m_step = a_step / 3, m_step / 3
        err = _evaluate(log_obs, cands)
        keep = err <= _cuts(cands[:, 0].astype(int), err, len(obs), k)
        best = _best(np.concatenate([cands[keep], err[keep, None]], axis=1), k)
    return final


def fit_regnet_batch(
    block_widths: Sequence[Any],
    wm_range: tuple[float, float] = (1.5, 3.0),
    wa_range: tuple[float, float] = (0.1, 512.0),
    n_starts: int = 8,
) -> list[RegNetFit]:
    """:func:`fit_regnet` of many models at once (the same results, model by model).

    Models of equal depth share vectorized evaluations, candidate selection and zoomed grids
    in every round of the search.
    """
    lo_m, hi_m = wm_range
    lo_a, hi_a = wa_range
    if not 1 < lo_m <= hi_m or not 0 < lo_a < hi_a:
        raise ConfigError(f"need 1 < wm_lo <= wm_hi and 0 < wa_lo < wa_hi: {wm_range, wa_range}")
    obs = [_observed(b) for b in block_widths]
    groups: dict[int, list[int]] = defaultdict(list)
    for i, o in enumerate(obs):
        groups[o.size].append(i)
    out: list[RegNetFit | None] = [None] * len(obs)
    for d, members in groups.items():
        fits = _fit_group([obs[i] for i in members], wm_range, wa_range, n_starts)
        ws, _, _ = block_widths_batch(fits[:, 0], fits[:, 1], fits[:, 2], np.full(len(fits), d))
        for i, (w0, wa, wm, err), widths in zip(members, fits, ws, strict=True):
            out[i] = RegNetFit(
                int(w0), float(wa), float(wm), d, float(err), tuple(map(int, widths))
            )
    return [f for f in out if f is not None]


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
