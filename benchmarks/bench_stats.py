"""Benchmarks of the statistics core against scipy and plain loops (ratios from the same run).

1. EDF band: n = 100,000 models, 1,000 resamples, 512 grid points, 95% pointwise percentile
   band — edftools.edf_band (exact multinomial counts per grid cell) vs scipy.stats.bootstrap
   (vectorized, percentile) vs a plain resampling loop.
2. Good range: 10,000 repetitions on 100,000 models (25% draws) — edftools.good_range
   (seeded bootstrap, and the exact closed form) vs a pycls-style loop.
3. Within-bin permutation test of the one-sided KS statistics: 10,000 models per space,
   8 complexity bins, 999 permutations — edftools.pair_test (multivariate-hypergeometric
   counts per error cell) vs a plain loop that shuffles the labels within bins and recomputes
   the weighted statistics (same p-values up to Monte-Carlo error).

Run: .venv/bin/python benchmarks/bench_stats.py [--quick]
"""

from __future__ import annotations

import sys
import time

import numpy as np
from scipy import stats

from edftools.stats import edf_band, good_range, pair_test, stratify_together

QUICK = "--quick" in sys.argv


def timed(fn, repeat=1):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def edf_on_grid(sample, grid):
    return np.searchsorted(np.sort(sample), grid, side="left") / sample.size


def bench_band(n=100_000, n_boot=1000, points=512):
    rng = np.random.default_rng(0)
    e = rng.normal(30, 3, n)
    grid = np.linspace(e.min(), e.max(), points)

    def ours():
        return edf_band(e, grid=grid, n_boot=n_boot, seed=1)

    def scipy_bootstrap():
        def statistic(x, axis=-1):
            x = np.moveaxis(x, axis, -1)
            flat = x.reshape(-1, x.shape[-1])
            out = np.stack([edf_on_grid(row, grid) for row in flat])
            return np.moveaxis(out.reshape(*x.shape[:-1], points), -1, 0)

        return stats.bootstrap(
            (e,),
            statistic,
            n_resamples=n_boot,
            method="percentile",
            batch=50,
            random_state=np.random.default_rng(1),
        ).confidence_interval

    def plain_loop():
        r = np.random.default_rng(1)
        reps = np.empty((n_boot, points))
        for b in range(n_boot):
            reps[b] = edf_on_grid(e[r.integers(0, n, n)], grid)
        return np.quantile(reps, [0.025, 0.975], axis=0)

    t_ours, band = timed(ours, repeat=3)
    t_scipy, ci = timed(scipy_bootstrap)
    t_loop, loop = timed(plain_loop)
    agree = max(np.abs(band.lower - ci.low).max(), np.abs(band.upper - loop[1]).max())
    print(f"EDF band  n={n:,} B={n_boot} grid={points}")
    print(f"  edftools.edf_band       {t_ours:8.3f} s")
    print(f"  scipy.stats.bootstrap   {t_scipy:8.3f} s   ratio {t_scipy / t_ours:6.1f}x")
    print(f"  plain resampling loop   {t_loop:8.3f} s   ratio {t_loop / t_ours:6.1f}x")
    print(f"  max |band difference| vs scipy/loop: {agree:.4f} (Monte-Carlo noise)")


def bench_good_range(n=100_000, n_boot=10_000, sample=0.25):
    rng = np.random.default_rng(2)
    values = rng.uniform(10, 30, n)
    errors = (values - 20) ** 2 / 20 + rng.normal(0, 1, n)

    def pycls_loop():
        r = np.random.default_rng(3)
        m = round(sample * n)
        best = np.empty(n_boot)
        for i in range(n_boot):
            idx = r.integers(0, n, m)
            best[i] = values[idx[np.argmin(errors[idx])]]
        return np.quantile(best, [0.025, 0.5, 0.975], method="inverted_cdf")

    t_fast, fast = timed(lambda: good_range(values, errors, sample, n_boot, seed=3), repeat=3)
    t_exact, exact = timed(lambda: good_range(values, errors, sample, method="exact"), repeat=3)
    t_loop, loop = timed(pycls_loop)
    print(f"Good range  n={n:,} reps={n_boot:,} draws={round(sample * n):,}")
    print(
        f"  edftools bootstrap      {t_fast:8.3f} s   [{fast.low:.3f}, {fast.median:.3f}, "
        f"{fast.high:.3f}]"
    )
    print(
        f"  edftools exact          {t_exact:8.3f} s   [{exact.low:.3f}, {exact.median:.3f}, "
        f"{exact.high:.3f}]"
    )
    print(
        f"  pycls-style loop        {t_loop:8.3f} s   [{loop[0]:.3f}, {loop[1]:.3f}, {loop[2]:.3f}]"
    )
    print(f"  ratio loop/bootstrap {t_loop / t_fast:6.1f}x, loop/exact {t_loop / t_exact:6.1f}x")


def naive_within_bin_permutation(parent, restricted, n_perm, rng):
    """(p_better, p_worse) by shuffling the labels within each bin, one permutation at a time."""
    e = np.r_[parent.errors, restricted.errors]
    s = np.r_[parent.strata, restricted.strata]
    is_p = np.r_[np.ones(parent.n, bool), np.zeros(restricted.n, bool)]
    order = np.argsort(e, kind="stable")
    e, s, is_p = e[order], s[order], is_p[order]
    pi = parent.pi
    n_p = np.bincount(s[is_p], minlength=pi.size)
    n_r = np.bincount(s[~is_p], minlength=pi.size)
    last = np.r_[np.flatnonzero(e[1:] != e[:-1]), e.size - 1]
    bins = [np.flatnonzero(s == k) for k in range(pi.size)]

    def stats_of(labels):
        w = np.where(labels, pi[s] / n_p[s], -pi[s] / n_r[s])
        diff = -np.cumsum(w)[last]  # F_R − F_P at every distinct error
        return diff.max(), (-diff).max()

    up, down = stats_of(is_p)
    hits = np.zeros(2)
    for _ in range(n_perm):
        labels = is_p.copy()
        for idx in bins:
            labels[idx] = rng.permutation(labels[idx])
        u, d = stats_of(labels)
        hits += [u >= up - 1e-12, d >= down - 1e-12]
    return (1 + hits) / (1 + n_perm)


def bench_pair_test(n=10_000, n_perm=999):
    rng = np.random.default_rng(2)
    p, r = rng.normal(30, 3, n), rng.normal(29.95, 3, n)
    parent, restricted = stratify_together([p, r], [rng.random(n), rng.random(n) ** 1.5], 8)
    t_ours, ours = timed(lambda: pair_test(parent, restricted, n_perm=n_perm, seed=0))
    t_loop, loop = timed(lambda: naive_within_bin_permutation(parent, restricted, n_perm, rng))
    print(f"within-bin permutation KS: {n:,} models per space, 8 bins, {n_perm} permutations")
    print(
        f"  edftools.pair_test       {t_ours:8.3f} s   p = {ours.p_better:.3f}, {ours.p_worse:.3f}"
    )
    print(f"  plain shuffle loop       {t_loop:8.3f} s   p = {loop[0]:.3f}, {loop[1]:.3f}")
    print(f"  ratio loop/ours {t_loop / t_ours:6.1f}x")


if __name__ == "__main__":
    if QUICK:
        bench_band(n=20_000, n_boot=200)
        bench_good_range(n=20_000, n_boot=1000)
        bench_pair_test(n=2000, n_perm=199)
    else:
        bench_band()
        bench_good_range()
        bench_pair_test()
