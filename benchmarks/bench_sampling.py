"""Benchmark: 500 in-band AnyNetX_A models (360-400MF) via the CLI vs naive rejection.

The fast sampler runs as ``python -m edftools sample ... --json`` in a subprocess (start-up
included). Naive rejection (one config at a time: draw, build the NetConfig with pycls's
compatibility adjustment, ``complexity``, test the band) runs for a fixed number of draws;
its time for 500 models is extrapolated as (seconds per draw) x (draws the fast sampler needed
for 500, which follow the same distribution). Targets: <= 2 s uniform, <= 0.3 s log-uniform.

The CLI runs with bytecode caching allowed (``PYTHONPYCACHEPREFIX`` in a temporary folder,
``PYTHONDONTWRITEBYTECODE`` removed) after one warm-up call, as an installed package runs;
with ``PYTHONDONTWRITEBYTECODE=1`` every call recompiles edftools (~0.1-0.2 s more here).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from edftools.spaces import get_space

BAND = (360e6, 400e6)
TARGET = {"uniform": 2.0, "log_uniform": 0.3}
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "edftools_bench_pycache")


def cli_time(dist: str, seed: int) -> float:
    cmd = [
        sys.executable,
        "-m",
        "edftools",
        "sample",
        "AnyNetX_A",
        "--n",
        "500",
        "--flops",
        "360M:400M",
        "--seed",
        str(seed),
        "--dist",
        dist,
        "--json",
    ]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=ENV)
    elapsed = time.perf_counter() - t0
    assert len(out.stdout.splitlines()) == 500
    return elapsed


def main(naive_draws: int = 5_000) -> None:
    space = get_space("AnyNetX_A")
    cli_time("log_uniform", 0)  # warm-up: writes the bytecode cache
    for dist in ("uniform", "log_uniform"):
        times = [cli_time(dist, seed) for seed in range(3)]
        draws = space.sample_batch(500, seed=0, bands={"flops": BAND}, dist=dist).draws
        t0 = time.perf_counter()
        found, done = space.sample_naive(
            10**9, seed=1, bands={"flops": BAND}, dist=dist, max_draws=naive_draws
        )
        per_draw = (time.perf_counter() - t0) / done
        naive = per_draw * draws
        best = min(times)
        print(
            f"{dist:11s}: CLI 500 in-band {best:6.2f} s (best of 3, start included; "
            f"{draws:,} draws, acceptance {500 / draws:.2%}); target <= {TARGET[dist]} s: "
            f"{'met' if best <= TARGET[dist] else 'NOT met'}"
        )
        print(
            f"{'':11s}  naive rejection ~{naive:7.1f} s (extrapolated from {done:,} draws at "
            f"{per_draw * 1e6:.0f} us/draw; {len(found)} in band)  ratio {naive / best:6.0f}x"
        )
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "edftools", "sample", "AnyNetX_A", "--n", "0"],
        check=True,
        capture_output=True,
        env=ENV,
    )
    print(f"CLI start-up alone (sample --n 0): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
