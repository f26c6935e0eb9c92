"""The coarse grid's errors, computed once per distinct row of quantized widths, against the
direct evaluation of every candidate (``fit_errors``): equal bit for bit."""

import numpy as np

from edftools.spaces import regnet_fit
from edftools.spaces.regnet_fit import _coarse_axes, _distinct_rows, _evaluate_coarse, fit_errors


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


def test_distinct_rows_invert_and_survive_a_key_collision(monkeypatch):
    rng = np.random.default_rng(8)
    rows = np.log(rng.choice([8.0, 16.0, 24.0, 32.0], (500, 5)))
    uniq, inv = _distinct_rows(rows)
    assert np.array_equal(uniq[inv], rows) and len(np.unique(uniq, axis=0)) == len(uniq)
    # multipliers of 0 give every row the same key: the exact fallback must take over
    monkeypatch.setattr(regnet_fit, "_ROW_MIX", np.zeros(64, dtype=np.int64))
    uniq, inv = _distinct_rows(rows)
    assert np.array_equal(uniq[inv], rows) and len(uniq) == len(np.unique(rows, axis=0))
