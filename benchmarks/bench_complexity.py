"""Benchmark: vectorized complexity of AnyNetX configs vs a per-config Python loop.

Prints configs/s of ``complexity_batch`` on 1,000,000 random AnyNetX_A configs and of the
per-config layer walk ``complexity(NetConfig)`` on a subset, and their ratio (same run).
"""

from __future__ import annotations

import time

import numpy as np

from edftools.spaces import NetConfig, complexity, complexity_batch
from edftools.spaces.sampling import adjust_compatibility_batch


def main(n: int = 1_000_000, n_loop: int = 5_000, repeats: int = 3) -> None:
    rng = np.random.default_rng(0)
    d = rng.integers(1, 17, (n, 4))
    w = 8 * rng.integers(1, 129, (n, 4))
    b = rng.choice([1, 2, 4], (n, 4))
    g = rng.choice([1, 2, 4, 8, 16, 32], (n, 4))
    w, g = adjust_compatibility_batch(w, b, g)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = complexity_batch(d, w, b, g, 2)
        times.append(time.perf_counter() - t0)
    batch_rate = n / min(times)

    nets = [NetConfig.from_stages(d[i], w[i], b[i], g[i], 2, adjust=False) for i in range(n_loop)]
    t0 = time.perf_counter()
    loop = [complexity(c) for c in nets]
    loop_rate = n_loop / (time.perf_counter() - t0)
    assert all(loop[i] == res.at(i) for i in range(n_loop))

    print(
        f"complexity_batch : {batch_rate:12,.0f} configs/s  ({n:,} AnyNetX_A configs, best of "
        f"{repeats})"
    )
    print(f"per-config loop  : {loop_rate:12,.0f} configs/s  ({n_loop:,} configs)")
    print(f"ratio batch/loop : {batch_rate / loop_rate:12.0f}x")
    print(f"target >= 1,000,000 configs/s: {'met' if batch_rate >= 1e6 else 'NOT met'}")


if __name__ == "__main__":
    main()
