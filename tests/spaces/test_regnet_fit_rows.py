"""The coarse grid's errors, computed once per distinct row of quantized widths, against the
direct evaluation of every candidate (``fit_errors``): equal bit for bit; the shared-factor
log widths, the integer-keyed candidates and their exact fallbacks."""

import numpy as np
import pytest

from edftools.spaces import regnet_fit_rows
from edftools.spaces.regnet import block_widths_batch
from edftools.spaces.regnet_fit import (
    _coarse_axes,
    _evaluate_coarse,
    _log_widths,
    _union_log_widths,
    fit_errors,
)
from edftools.spaces.regnet_fit_rows import (
    distinct_rows,
    local_axes,
    sorted_candidates,
    zoom_candidates,
)


def test_coarse_errors_equal_the_direct_evaluation_bit_for_bit():
    rng = np.random.default_rng(7)
    depth = 6
    obs = [np.sort(rng.choice(np.arange(8, 400, 8), depth)).astype(float) for _ in range(4)]
    obs.append(np.full(depth, 48.0))  # a constant-width model: many equal candidates
    axes = [_coarse_axes(o, (1.5, 3.0), (0.1, 512.0)) for o in obs]
    log_obs = np.log(np.stack(obs))
    for ax, o, got in zip(axes, log_obs, _evaluate_coarse(log_obs, axes), strict=True):
        w0, wa, wm = (g.ravel() for g in np.meshgrid(*ax, indexing="ij"))
        assert np.array_equal(got, fit_errors(o, w0, wa, wm))


@pytest.mark.parametrize("depth", [1, 2, 7, 23, 40])
def test_log_widths_equal_the_generator_bit_for_bit(depth):
    rng = np.random.default_rng(depth)
    w0 = 8.0 * rng.integers(1, 400, 60)  # narrow to wide, repeated w0 values
    wm = np.round(rng.uniform(1.01, 4.0, 60), 3)
    wm[:5] = 2.0  # exactly representable powers
    was = np.concatenate([[0.0], np.round(np.geomspace(0.1, 512.0, 64), 2)])
    w0s, wms, wa = np.repeat(w0, was.size), np.repeat(wm, was.size), np.tile(was, w0.size)
    ws, _, _ = block_widths_batch(w0s, wa, wms, np.full(w0s.size, depth))
    expected = np.log(ws)
    assert np.array_equal(_union_log_widths(w0, wm, was, depth), expected)
    # sorted by (w0, wa, wm): runs of equal (w0, wa) share ln((j wa + w0) / w0); and shuffled
    order = np.lexsort((wms, wa, w0s))
    assert np.array_equal(_log_widths(w0s[order], wa[order], wms[order], depth), expected[order])
    order = rng.permutation(w0s.size)
    assert np.array_equal(_log_widths(w0s[order], wa[order], wms[order], depth), expected[order])


def _plain_zoom(centers, a_step, m_step, lo_m, hi_m):
    w0, wa, wm = local_axes(centers[:, 1:4], a_step, m_step, 9, lo_m, hi_m)
    rows = {tuple(c[:4]) for c in centers.tolist()}
    for c, w0s, was, wms in zip(centers.tolist(), w0, wa, wm, strict=True):
        rows |= {(c[0], a, b, d) for a in w0s.tolist() for b in was.tolist() for d in wms.tolist()}
    return np.array(sorted(rows))


@pytest.mark.parametrize(
    "change",
    ["none", "unrounded wm", "huge w0"],  # the last two take sorted_candidates' exact path
)
def test_zoom_candidates_are_the_distinct_grid_rows(change):
    rng = np.random.default_rng(3)
    n = 40
    centers = np.stack(
        [
            rng.integers(0, 5, n).astype(float),
            8.0 * rng.integers(1, 4, n),
            np.round(rng.choice([0.0, 0.1, 3.5, 3.51, 40.0, 511.9], n), 2),
            np.round(rng.choice([1.5, 1.501, 2.2, 3.0], n), 3),
            rng.uniform(0, 1, n),  # the error column, ignored
        ],
        axis=1,
    )
    if change == "unrounded wm":
        centers[0, 3] = 2.0004
    elif change == "huge w0":
        centers[0, 1] = 8.0 * 2**40
    got = zoom_candidates(centers, 0.05, 0.01, 1.5, 3.0)
    assert np.array_equal(got, _plain_zoom(centers, 0.05, 0.01, 1.5, 3.0))
    assert np.array_equal(got, sorted_candidates(got[::-1].copy()))


def test_candidates_survive_a_key_collision(monkeypatch):
    rng = np.random.default_rng(5)
    rows = np.stack(
        [
            rng.integers(0, 3, 300),
            8.0 * rng.integers(1, 4, 300),
            rng.choice([0.0, 1.25], 300),
            rng.choice([1.5, 2.0], 300),
        ],
        axis=1,
    )
    expected = np.unique(rows, axis=0)
    assert np.array_equal(sorted_candidates(rows), expected)
    monkeypatch.setattr(regnet_fit_rows, "int_key", lambda r, s: np.zeros(len(r), dtype=np.int64))
    assert np.array_equal(sorted_candidates(rows), expected)


def test_distinct_rows_invert_and_survive_a_key_collision(monkeypatch):
    rng = np.random.default_rng(8)
    rows = np.log(rng.choice([8.0, 16.0, 24.0, 32.0], (500, 5)))
    uniq, inv = distinct_rows(rows)
    assert np.array_equal(uniq[inv], rows) and len(np.unique(uniq, axis=0)) == len(uniq)
    # multipliers of 0 give every row the same key: the exact fallback must take over
    monkeypatch.setattr(regnet_fit_rows, "ROW_MIX", np.zeros(64, dtype=np.int64))
    uniq, inv = distinct_rows(rows)
    assert np.array_equal(uniq[inv], rows) and len(uniq) == len(np.unique(rows, axis=0))
