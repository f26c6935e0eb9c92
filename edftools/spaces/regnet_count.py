"""Exact RegNet space sizes: valid grid points and distinct networks, by wa-intervals.

Fix ``(w0, wm)``. Block ``j`` lies in stage ``>= k`` iff ``k_j = round(ln((j*wa + w0)/w0) /
ln wm) >= k`` (:func:`~edftools.spaces.regnet.stage_index`); this predicate is monotone in
``wa`` and in ``j``, so on the sorted ``wa`` grid it holds from a threshold index ``t_{k,j}``
on. The continuous model puts that threshold at ``wa* = (wm^(k - 1/2) - 1) * w0 / j``; its grid
index is found with ``searchsorted`` and then corrected by evaluating the generator's own
floating-point arithmetic at the two neighbouring grid points (ties at ``s_j = k - 1/2`` round
half to even, exactly as the generator does).

With ``B_k`` = number of blocks before stage ``k`` (``B_k <= j`` iff ``wa >= wa[t_{k,j}]``),
``B_k(i) = 1 + #{j in 1..D : t_{k,j} > i}`` at grid index ``i`` (``D`` = largest allowed
depth). The ``S * D`` thresholds cut the ``wa`` grid into at most ``S * D + 1`` segments on
which every ``B_k`` is constant. A segment of ``L`` grid points is valid iff
``B_1 < ... < B_{S-1} < min(B_S, D)`` and the ``S`` quantized widths
``round(w0 * wm^k / 8) * 8`` are distinct; it contributes ``L * #{allowed d : B_{S-1} < d <=
min(B_S, D)}`` valid ``(wa, d)`` points. Cost: ``O(|w0| * |wm| * S * D)`` instead of
``O(|w0| * |wm| * |wa| * S)``.

Distinct networks: a RegNet's network is its per-stage depths ``(B_1, B_2 - B_1, ..., d -
B_{S-1})`` and per-stage compatibility-adjusted stage types ``(w, w_b, groups)`` for its shared
``(b, g)``. For a width tuple ``W`` and boundaries ``B = (B_1..B_{S-1})`` the reachable depths
form the interval ``(B_{S-1}, m]`` with ``m`` the largest ``min(B_S, D)`` over all valid
segments with that ``(W, B)`` (segments with equal ``B`` and lower ``wa`` have larger
``B_S``). Networks are therefore the union over ``(b, g)`` and ``(W, B)`` of ``{(K_{b,g}(W),
B)} x (B_{S-1}, m]``, with ``K_{b,g}`` the adjusted stage types; equal ``(K, B)`` keys merge by
taking the largest ``m``, and the count is ``sum over keys of #{allowed d in (B_{S-1}, m]}``.
Exact, no sampling: this is cheap enough (a few seconds for the full RegNet grid).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from edftools.spaces.regnet import QUANTUM, stage_index
from edftools.spaces.sampling import adjust_compatibility_batch

_CHUNK_ROWS = 512


@dataclass(frozen=True)
class RegNetSegments:
    """Valid ``wa`` segments of a RegNet grid (module docstring), one row per segment.

    ``row`` indexes ``(w0, wm)`` pairs (``w0`` major); ``bounds`` is ``(n, S-1)`` with
    ``B_1..B_{S-1}``; ``top = min(B_S, D)``; ``length`` = grid points of ``wa`` in the segment;
    ``widths`` is ``(n_pairs, S)`` quantized stage widths of every ``(w0, wm)`` pair;
    ``depth_cum[x]`` = allowed depths ``<= x``.
    """

    row: np.ndarray
    bounds: np.ndarray
    top: np.ndarray
    length: np.ndarray
    widths: np.ndarray
    depth_cum: np.ndarray

    def depth_counts(self) -> np.ndarray:
        """Per segment: allowed depths ``d`` with ``B_{S-1} < d <= top``."""
        return self.depth_cum[self.top] - self.depth_cum[self.bounds[:, -1]]


def _thresholds(w0: float, was: np.ndarray, wm: np.ndarray, stages: int, dmax: int):
    """``t[r, k-1, j-1]``: first ``wa`` grid index where block ``j`` is in stage ``>= k``."""
    n = was.size
    k = np.arange(1, stages + 1, dtype=np.float64)[None, :, None]
    j = np.arange(1, dmax + 1, dtype=np.float64)[None, None, :]
    wm3 = wm[:, None, None]
    guess = (np.power(wm3, k - 0.5) - 1.0) * w0 / j
    idx = np.searchsorted(was, guess.ravel()).reshape(guess.shape)
    lo = np.clip(idx - 1, 0, n - 1)
    hi = np.clip(idx, 0, n - 1)
    # far from a grid point the continuous threshold decides; near one, the generator does
    tol = 1e-7 * (guess + 1.0)
    near = np.flatnonzero(((was[hi] - guess) < tol) | ((guess - was[lo]) < tol))
    if near.size:
        r, kk, jj = np.unravel_index(near, guess.shape)
        lo_n, hi_n = lo.ravel()[near], hi.ravel()[near]
        p_lo = stage_index(jj + 1.0, w0, was[lo_n], wm[r]) >= kk + 1
        p_hi = stage_index(jj + 1.0, w0, was[hi_n], wm[r]) >= kk + 1
        idx.ravel()[near] = np.where(p_lo, lo_n, np.where(p_hi, hi_n, hi_n + 1))
    return idx


def _segments_chunk(w0, was, wm, stages, dmax, cum):
    """Valid segments for one ``w0`` and a block of ``wm`` values: (row, bounds, top, length)."""
    n_rows = wm.size
    t = _thresholds(w0, was, wm, stages, dmax).reshape(n_rows, stages * dmax)
    shift = max(1, (stages - 1).bit_length())  # sort (threshold, label) packed in one int64
    packed = (t << shift) | np.repeat(np.arange(stages, dtype=np.int64), dmax)
    packed.sort(axis=1)
    t_sorted, lab = packed >> shift, packed & ((1 << shift) - 1)
    length = np.diff(t_sorted, axis=1, append=was.size)
    b = [(1 + dmax - np.cumsum(lab == s, axis=1, dtype=np.int16)) for s in range(stages)]
    top = np.minimum(b[-1], dmax)
    ok = (length > 0) & (b[stages - 2] < top)
    for s in range(stages - 2):
        ok &= b[s] < b[s + 1]
    r, p = np.nonzero(ok)
    bounds = np.stack([x[r, p] for x in b[:-1]], axis=1)
    return r, bounds, top[r, p], length[r, p].astype(np.int32)


@functools.lru_cache(maxsize=8)
def regnet_segments(
    w0s: tuple[float, ...],
    was: tuple[float, ...],
    wms: tuple[float, ...],
    depths: tuple[int, ...],
    stages: int = 4,
) -> RegNetSegments:
    """All valid ``wa`` segments of the grid ``w0s x was x wms`` with depths ``depths``."""
    wa = np.sort(np.asarray(was, dtype=np.float64))
    wm = np.asarray(wms, dtype=np.float64)
    dmax = int(max(depths))
    allowed = np.zeros(dmax + 2, dtype=np.int64)
    allowed[np.asarray(depths, dtype=np.int64)] = 1
    cum = np.cumsum(allowed)
    ks = np.arange(stages, dtype=np.float64)
    w0_col = np.repeat(np.asarray(w0s, dtype=np.float64), wm.size)[:, None]
    widths = np.round(w0_col * np.power(np.tile(wm, len(w0s))[:, None], ks) / QUANTUM) * QUANTUM
    widths = widths.astype(np.int64)
    distinct = (np.diff(widths, axis=1) != 0).all(axis=1)
    parts = []
    if stages >= 2:
        for i, w0 in enumerate(w0s):
            rows = np.flatnonzero(distinct[i * wm.size : (i + 1) * wm.size])
            for lo in range(0, rows.size, _CHUNK_ROWS):
                sub = rows[lo : lo + _CHUNK_ROWS]
                r, b, top, length = _segments_chunk(float(w0), wa, wm[sub], stages, dmax, cum)
                parts.append((i * wm.size + sub[r], b, top, length))
    if not parts:
        e = np.zeros(0, dtype=np.int64)
        return RegNetSegments(e, np.zeros((0, max(stages - 1, 1)), np.int64), e, e, widths, cum)
    row, b, top, length = (np.concatenate(x) for x in zip(*parts, strict=True))
    return RegNetSegments(row, b, top, length, widths, cum)


def regnet_valid_total(seg: RegNetSegments) -> int:
    """Valid grid points ``(w0, wa, wm, d)``: ``sum over segments of L * #depths``."""
    return int((seg.length * seg.depth_counts()).sum())


def _max_per_key(cols: list[np.ndarray], top: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the key columns ``cols`` (non-negative ints), each with its largest
    ``top``, sorted by key (first column major).

    Keys and ``top`` are packed into one int64 (bit fields) and sorted once; the last entry of
    each key group carries the largest ``top``.
    """
    cols = [*cols, top]
    bits = [max(1, int(c.max()).bit_length()) if c.size else 1 for c in cols]
    if sum(bits) > 62:  # too wide to pack: multi-key sort
        order = np.lexsort(cols[::-1])
        cols = [c[order] for c in cols]
        last = np.ones(top.size, dtype=bool)
        if top.size:
            last[:-1] = np.any([c[1:] != c[:-1] for c in cols[:-1]], axis=0)
        return [c[last] for c in cols[:-1]], cols[-1][last]
    packed = np.zeros(top.size, dtype=np.int64)
    for c, nb in zip(cols, bits, strict=True):
        packed = (packed << nb) | c.astype(np.int64)
    packed.sort()
    key_part = packed >> bits[-1]
    last = np.ones(packed.size, dtype=bool)
    last[:-1] = key_part[1:] != key_part[:-1]
    packed = packed[last]
    out = []
    for nb in bits[::-1]:
        out.append(packed & ((1 << nb) - 1))
        packed = packed >> nb
    out = out[::-1]
    return out[:-1], out[-1]


def stage_type_keys(widths: np.ndarray, b: float, g: int, block_type: str) -> np.ndarray:
    """Adjusted stage types for rows of stage widths at shared ``(b, g)``: ``(n, 3S)`` ints
    ``(w, w_b, groups)`` per stage (``R``: groups 1; ``V``/``VR``: ``(w, 0, 0)``)."""
    w_adj, g_adj = adjust_compatibility_batch(
        widths, np.full(widths.shape, float(b)), np.full(widths.shape, int(g))
    )
    if block_type in ("V", "VR"):
        zero = np.zeros_like(w_adj)
        return np.concatenate([w_adj, zero, zero], axis=1)
    w_b = np.round(w_adj / b).astype(np.int64)
    groups = np.ones_like(w_b) if block_type == "R" else w_b // g_adj
    return np.concatenate([w_adj, w_b, groups], axis=1)


def _row_ids(keys: np.ndarray, stages: int) -> np.ndarray:
    """Dense ids of the rows of ``keys`` (``(n, 3S)``: S stage types): equal rows, equal ids."""
    per_stage = keys.reshape(len(keys), 3, stages).transpose(0, 2, 1).reshape(-1, 3)
    bits = [max(1, int(c.max()).bit_length()) for c in per_stage.T]
    packed = (per_stage[:, 0] << (bits[1] + bits[2])) | (per_stage[:, 1] << bits[2])
    _, stage_id = np.unique(packed | per_stage[:, 2], return_inverse=True)
    stage_id = stage_id.reshape(len(keys), stages)
    nb = max(1, int(stage_id.max()).bit_length())
    if nb * stages > 62:
        return np.unique(stage_id, axis=0, return_inverse=True)[1].ravel()
    row = np.zeros(len(keys), dtype=np.int64)
    for s in range(stages):
        row = (row << nb) | stage_id[:, s]
    return np.unique(row, return_inverse=True)[1].ravel()


def regnet_distinct_networks(
    seg: RegNetSegments, bs: list[float], gs: list[int], block_type: str = "X"
) -> int:
    """Distinct networks of a RegNet space (module docstring): exact union over ``(b, g)``.

    ``sum over (K, B) of #{allowed d : B_{S-1} < d <= max m}``, ``K`` the adjusted stage types.
    """
    if seg.row.size == 0:
        return 0
    stages = seg.widths.shape[1]
    uniq_w, wid_of_row = np.unique(seg.widths, axis=0, return_inverse=True)
    cols, top = _max_per_key([wid_of_row.ravel()[seg.row], *seg.bounds.T], seg.top)
    wid, last_bound = cols[0], cols[-1]  # sorted by wid
    cnt = seg.depth_cum[top] - seg.depth_cum[last_bound]
    per_wid = np.bincount(wid, weights=cnt, minlength=len(uniq_w)).round().astype(np.int64)
    used = np.flatnonzero(per_wid > 0)
    # (b, g, W) -> adjusted network id; an id reached once contributes its W's count directly
    keys = np.concatenate([stage_type_keys(uniq_w[used], b, g, block_type) for b in bs for g in gs])
    kid = _row_ids(keys, stages)
    mult = np.bincount(kid)
    wid_all = np.tile(used, len(bs) * len(gs))
    single = mult[kid] == 1
    total = int(per_wid[wid_all[single]].sum())
    if single.all():
        return total
    # ids reached by several (b, g, W): merge their (K, B) keys, keeping the largest top
    starts = np.searchsorted(wid, np.arange(len(uniq_w)))
    ends = np.searchsorted(wid, np.arange(len(uniq_w)), side="right")
    k_shared, w_shared = kid[~single], wid_all[~single]
    sizes = ends[w_shared] - starts[w_shared]
    pick = np.repeat(starts[w_shared], sizes) + _ragged_arange(sizes)
    merged, m_top = _max_per_key(
        [np.repeat(k_shared, sizes), *(c[pick] for c in cols[1:])], top[pick]
    )
    return total + int((seg.depth_cum[m_top] - seg.depth_cum[merged[-1]]).sum())


def _ragged_arange(sizes: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s) for s in sizes])`` without a Python loop."""
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.arange(total) - offsets
