"""Vectorized pieces of the sampler: discrete distributions, ordered sequences, compatibility.

Every parameter lives on a finite sorted grid ``v_0 < v_1 < ... < v_{m-1}`` with a pmf:

* uniform: ``p(v_k) = 1/m``;
* log-uniform (pycls's ``log_uniform``: a log-uniform draw on ``(v_0 - q*, v_{m-1}]`` rounded
  up to the grid): ``p(v_k) ∝ ln v_k - ln v_{k-1}`` with ``v_{-1} = v_0 - min(q, v_0/2)``,
  ``q = v_1 - v_0`` the grid step.

A per-stage parameter ``x_1..x_S`` is i.i.d. from ``p`` under the base distribution; the
sampler draws it *conditioned* on its ordering restriction, exactly:

* shared: ``P(x_1 = ... = x_S = v) ∝ p(v)^S``;
* non-decreasing: ``P(x) ∝ prod_i p(x_i)`` over non-decreasing ``x``, drawn left to right with
  ``N_1(v) = p(v)``, ``N_k(v) = p(v) * sum_{u >= v} N_{k-1}(u)`` (the weight of the
  non-decreasing tails of length ``k`` starting at ``v``): ``x_1 ∝ N_S``,
  ``x_{i+1} | x_i ∝ N_{S-i}(u) 1[u >= x_i]``.
"""

from __future__ import annotations

import numpy as np

from edftools.errors import ConfigError, SpaceError


def grid_pmf(values: np.ndarray, log: bool) -> np.ndarray:
    """pmf over a sorted grid: uniform, or pycls's quantized log-uniform (module docstring)."""
    v = np.asarray(values, dtype=np.float64)
    if not log or v.size == 1:
        return np.full(v.size, 1.0 / v.size)
    if v[0] <= 0:
        raise SpaceError("a log-uniform parameter needs positive values")
    step = v[1] - v[0]
    edges = np.concatenate([[v[0] - min(step, v[0] / 2)], v])
    w = np.diff(np.log(edges))
    return w / w.sum()


GROUP_WIDTH_SAMPLERS: tuple[str, ...] = ("paper", "pycls")
"""How a RegNet space draws its group width: ``paper`` (DDS: uniform over the grid, the default)
or ``pycls`` (pycls's sweep sampler ``power2_or_log_uniform(lo, hi, 8)``)."""


def power2_or_log_uniform_pmf(lo: int, hi: int, q: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Support and pmf of pycls's ``power2_or_log_uniform(lo, hi, q)`` sampler, exactly.

    pycls draws ``e = floor(U[log2 lo, log2 hi + 1))`` and ``f = 2^e`` (floored to a multiple of
    ``lo``); if ``f >= q`` it draws instead from ``log_uniform(max(lo, q), hi, min(hi, q))``:
    ``x = exp(U[ln(l - min(q', l/2)), ln hi])`` rounded *up* to a multiple of ``q'``
    (``l = max(lo, q)``, ``q' = min(hi, q)``). So for ``(1, 32, 8)``: 1, 2, 4 with 1/6 each, and
    with 1/2 a log-uniform multiple of 8 on (4, 32]: 8 and 16 with 1/6 each, 24 with
    ``ln(3/2) / (2 ln 8)`` (about 9.7%), 32 with ``ln(4/3) / (2 ln 8)``.
    """
    if not (isinstance(lo, int | np.integer) and isinstance(hi, int | np.integer)) or not (
        1 <= lo <= hi
    ):
        raise SpaceError(f"power2_or_log_uniform needs integers 1 <= lo <= hi, got {lo}, {hi}")
    probs: dict[int, float] = {}
    a, b = np.log2(lo), np.log2(hi) + 1.0
    p_log = 0.0
    for e in range(int(np.floor(a)), int(np.ceil(b))):
        mass = (min(e + 1.0, b) - max(float(e), a)) / (b - a)
        if mass <= 0:
            continue
        f = int(2**e // lo * lo)
        if f >= q:
            p_log += mass
        else:
            probs[f] = probs.get(f, 0.0) + mass
    if p_log > 0:
        low, step = max(lo, q), min(hi, q)
        edge = np.log(low - min(step, low / 2))
        span = np.log(hi) - edge
        m = 1
        while (m - 1) * step < hi:
            left = max(np.log((m - 1) * step) if m > 1 else -np.inf, edge)
            right = min(np.log(m * step), np.log(hi))
            if right > left:
                probs[m * step] = probs.get(m * step, 0.0) + p_log * (right - left) / span
            m += 1
    values = np.array(sorted(probs), dtype=np.float64)
    pmf = np.array([probs[int(v)] for v in values])
    return values, pmf / pmf.sum()


def draw_index(rng: np.random.Generator, pmf: np.ndarray, size: int) -> np.ndarray:
    """``size`` i.i.d. indices into the grid with probabilities ``pmf`` (inverse CDF)."""
    if pmf.size == 1:
        return np.zeros(size, dtype=np.int64)
    if np.all(pmf == pmf[0]):
        return rng.integers(0, pmf.size, size)
    cdf = np.cumsum(pmf)
    idx = np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
    return np.minimum(idx, pmf.size - 1)


def draw_sequence(
    rng: np.random.Generator, pmf: np.ndarray, n: int, stages: int, order: str
) -> np.ndarray:
    """``(n, stages)`` grid indices: i.i.d. (``order='none'``) or conditioned on the order.

    ``order`` is ``none``, ``shared``, ``increasing`` (non-decreasing) or ``decreasing``.
    """
    if order == "none":
        return draw_index(rng, pmf, n * stages).reshape(n, stages)
    if order == "shared":
        q = pmf**stages
        return np.repeat(draw_index(rng, q / q.sum(), n)[:, None], stages, axis=1)
    if order not in ("increasing", "decreasing"):
        raise SpaceError(f"unknown order {order!r}")
    tails = [pmf]
    for _ in range(stages - 1):  # N_k(v) = p(v) * sum_{u >= v} N_{k-1}(u)
        tails.append(pmf * np.cumsum(tails[-1][::-1])[::-1])
    out = np.empty((n, stages), dtype=np.int64)
    low = np.zeros(n, dtype=np.int64)
    for i in range(stages):
        cdf = np.cumsum(tails[stages - 1 - i])
        base = np.where(low > 0, cdf[np.maximum(low - 1, 0)], 0.0)
        r = base + rng.random(n) * (cdf[-1] - base)
        idx = np.clip(np.searchsorted(cdf, r, side="right"), low, pmf.size - 1)
        out[:, i] = idx
        low = idx
    return out[:, ::-1] if order == "decreasing" else out


def adjust_compatibility_batch(
    widths: np.ndarray, bottleneck_ratios: np.ndarray, group_widths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorized :func:`~edftools.spaces.config.adjust_group_compatibility` (same integers).

    With ``bm = 1/b``: ``v = max(1, int(w bm))``, ``g = min(g, v)``, ``m = lcm(g, bm)`` when
    ``bm > 1`` (an integer, else ConfigError) and ``m = g`` otherwise,
    ``v = max(m, round(v / m) m)``, ``w = int(v / bm)``.
    """
    b = np.asarray(bottleneck_ratios, dtype=np.float64)
    bm = 1.0 / b
    v = np.maximum(1, np.floor(widths * bm)).astype(np.int64)
    g = np.minimum(group_widths, v).astype(np.int64)
    wide = bm > 1
    if wide.any():
        k = np.round(bm)
        if (np.abs(bm - k) > 1e-9)[wide].any():
            raise ConfigError("a bottleneck ratio b < 1 must be 1/k for an integer k (pycls)")
        bm = np.where(wide, k, bm)
        m = np.where(wide, np.lcm(g, np.where(wide, k, 1).astype(np.int64)), g)
    else:
        m = g
    v = np.maximum(m, (np.round(v / m) * m).astype(np.int64))
    return np.floor(v / bm).astype(np.int64), g


def regnet_stages(ws: np.ndarray, ks: np.ndarray, valid: np.ndarray, num_stages: int):
    """Stage structure of generated RegNets (rows of per-block widths, see ``regnet.py``).

    Returns ``(ok, depths, widths)``: ``ok`` marks rows with exactly ``num_stages`` distinct
    widths and ``max(k) + 1 == num_stages`` (no skipped stage); ``depths``/``widths`` are
    ``(n, num_stages)`` (meaningful where ``ok``).
    """
    change = np.zeros_like(valid)
    change[:, 1:] = (ws[:, 1:] != ws[:, :-1]) & valid[:, 1:]
    stage = np.cumsum(change, axis=1)
    n_distinct = stage[:, -1] + 1
    total = np.where(valid, ks, -1).max(axis=1) + 1
    ok = (n_distinct == num_stages) & (total == num_stages)
    depths = np.empty((ws.shape[0], num_stages), dtype=np.int64)
    widths = np.empty_like(depths)
    for s in range(num_stages):
        mask = valid & (stage == s)
        depths[:, s] = mask.sum(axis=1)
        widths[:, s] = np.where(mask, ws, 0).max(axis=1)
    return ok, depths, widths
