"""Rows of candidates and of generated widths for :mod:`edftools.spaces.regnet_fit`: the
zoomed grids' axes and their distinct rows as packed integer keys, and the grouping of equal
rows (an integer key per row, one argsort, every row checked against its group's
representative, an exact row sort as fallback)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Integer scale of the rows ``(model, w0, wa, wm)``: wa to 0.01, wm to 0.001, as the grids
#: are rounded.
SCALE = np.array([1.0, 1.0, 100.0, 1000.0])


def local_axes(
    centers: np.ndarray, a_step: float, m_step: float, n: int, lo_m: float, hi_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Axes of the zoomed grid around each centre ``(w0, wa, wm)``, one row per centre: w0 +-8
    (``(C, 3)``), ``round(wa * exp(a_step t), 2)`` and ``round(clip(wm + m_step t), 3)`` on
    ``n`` values ``t`` in [-1, 1] (``(C, n)`` each); the grid is their product per centre."""
    t = np.linspace(-1.0, 1.0, n)
    w0 = np.maximum(8.0, centers[:, 0:1] + np.array([-8.0, 0.0, 8.0])[None, :])
    wa = np.round(centers[:, 1:2] * np.exp(a_step * t[None, :]), 2)
    wm = np.round(np.clip(centers[:, 2:3] + m_step * t[None, :], lo_m, hi_m), 3)
    return w0, wa, wm


def zoom_candidates(
    centers: np.ndarray, a_step: float, m_step: float, lo_m: float, hi_m: float
) -> np.ndarray:
    """The distinct rows ``(model, w0, wa, wm)`` (sorted) of the zoomed grids (9 ``t``'s,
    :func:`local_axes`) around ``centers`` (rows ``(model, w0, wa, wm, ...)``) and of the
    centres themselves, as :func:`sorted_candidates` gives them. All grids are rounded, so
    every value is ``i / s`` for an integer ``i`` (``s`` of :data:`SCALE`): each row is packed
    into one integer from the integers of its axes (no per-candidate rounding), the keys are
    sorted, and the distinct keys are unpacked into the very same floats (checked on the axes:
    a value that is not ``i / s`` sends the whole grid through :func:`sorted_candidates`, as do
    keys that would not fit in 62 bits)."""
    w0, wa, wm = local_axes(centers[:, 1:4], a_step, m_step, 9, lo_m, hi_m)
    axes = (centers[:, 0:1], w0, wa, wm)
    ints = [np.round(ax * s).astype(np.int64) for ax, s in zip(axes, SCALE, strict=True)]
    own = np.round(centers[:, :4] * SCALE).astype(np.int64)
    bits = [
        max(1, int(i.max()).bit_length(), int(o.max()).bit_length())
        for i, o in zip(ints, own.T, strict=True)
    ]
    exact = all(np.array_equal(i / s, ax) for i, s, ax in zip(ints, SCALE, axes, strict=True))
    exact = exact and np.array_equal(own / SCALE, centers[:, :4])
    negative = own.min() < 0 or min(int(i.min()) for i in ints) < 0
    if not exact or negative or sum(bits) > 62:
        grid = np.stack(
            np.broadcast_arrays(
                axes[0][:, :, None, None],
                w0[:, :, None, None],
                wa[:, None, :, None],
                wm[:, None, None, :],
            ),
            axis=-1,
        ).reshape(-1, 4)
        return sorted_candidates(np.concatenate([grid, centers[:, :4]]))
    shaped = (
        ints[0][:, :, None, None],
        ints[1][:, :, None, None],
        ints[2][:, None, :, None],
        ints[3][:, None, None, :],
    )
    keys = np.sort(np.concatenate([pack_columns(shaped, bits).ravel(), pack_columns(own.T, bits)]))
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]]
    out = np.empty((keys.size, 4))
    for col in range(3, -1, -1):
        out[:, col] = (keys & ((1 << bits[col]) - 1) if col else keys) / SCALE[col]
        keys = keys >> bits[col]
    return out


def pack_columns(cols: Sequence[np.ndarray], bits: Sequence[int]) -> np.ndarray:
    """Non-negative integer columns side by side in one integer, ``bits[c]`` bits for column
    ``c`` (broadcast): ``((c0 << b1 | c1) << b2 | c2) ...``."""
    key = cols[0]
    for col, b in zip(cols[1:], bits[1:], strict=True):
        key = (key << b) | col
    return key


def int_key(rows: np.ndarray, scale: Sequence[float] | np.ndarray) -> np.ndarray | None:
    """One integer per row, the columns times ``scale`` rounded and packed side by side (equal
    rows, equal keys); ``None`` where a column is negative or they need more than 62 bits."""
    factors = np.asarray(scale, dtype=np.float64)
    ints = np.round(rows * factors).astype(np.int64)
    bits = [max(1, int(c.max()).bit_length()) for c in ints.T] if len(rows) else [1] * len(scale)
    if ints.min(initial=0) < 0 or sum(bits) > 62:
        return None
    key = np.zeros(len(rows), dtype=np.int64)
    for col, b in zip(ints.T, bits, strict=True):
        key = (key << b) | col
    return key


def unique_rows(
    rows: np.ndarray, scale: Sequence[float] = (1.0, 1.0, 100.0, 1000.0)
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows (sorted) and the inverse index; ``scale`` makes each column an integer
    (default ``(model, w0, wa, wm)``: a model's index, w0, wa to 0.01, wm to 0.001, as the
    grids are rounded). An integer key sorts fast, and every row is checked against its
    representative (falling back to an exact row sort if the key conflated two)."""
    return rows_by_key(rows, int_key(rows, scale))


def sorted_candidates(rows: np.ndarray) -> np.ndarray:
    """The distinct rows ``(model, w0, wa, wm)`` of :func:`unique_rows`, sorted, without the
    inverse index: sorted by their integer key, a row equal to the one before it is dropped,
    and every row of a run of equal keys must equal its neighbour (else the exact row sort)."""
    key = int_key(rows, SCALE)
    if key is None:
        return np.unique(rows, axis=0)
    perm = np.argsort(key)
    sorted_key, sorted_rows = key[perm], rows[perm]
    same_key = sorted_key[1:] == sorted_key[:-1]
    same_row = (sorted_rows[1:] == sorted_rows[:-1]).all(axis=1)
    if not np.array_equal(same_key, same_row):
        return np.unique(rows, axis=0)
    return sorted_rows[np.r_[True, ~same_key]]


#: Odd 64-bit multipliers, one per block, that hash a row of log widths to one integer.
ROW_MIX = np.random.default_rng(20200330).integers(1, 2**62, 64, dtype=np.int64) * 2 + 1


def distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a float array and the inverse index (``distinct[inverse] == rows``).
    Rows are keyed by a wrapping sum of their bit patterns times :data:`ROW_MIX` (an integer
    matrix product); every row is checked against its representative (falling back to an
    exact row sort if two distinct rows shared a key)."""
    if rows.shape[1] > ROW_MIX.size:
        return rows_by_key(rows, None)
    bits = np.ascontiguousarray(rows).view(np.int64)
    return rows_by_key(rows, bits @ ROW_MIX[: rows.shape[1]])  # integer matmul: wraps


def rows_by_key(rows: np.ndarray, key: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows (in the order of ``key``, one integer per row) and the inverse index
    (``distinct[inverse] == rows``), every row checked against its key's representative; an
    exact row sort where there is no key or the key conflated two distinct rows. One
    (unstable) argsort of the key: any row of a group of equal keys may represent it, as the
    check makes every row of the group equal to it."""
    if key is not None:
        perm = np.argsort(key)
        sorted_key = key[perm]
        starts = np.empty(len(key), dtype=bool)
        starts[:1] = True
        np.not_equal(sorted_key[1:], sorted_key[:-1], out=starts[1:])
        inv = np.empty(len(key), dtype=np.intp)
        inv[perm] = np.cumsum(starts) - 1
        uniq = rows[perm[starts]]
        if np.array_equal(uniq[inv], rows):
            return uniq, inv
    uniq, inv = np.unique(rows, axis=0, return_inverse=True)
    return uniq, inv.ravel()
