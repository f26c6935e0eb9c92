"""refine and compare at NDS scale: a 70,000-run store (7 spaces × 10,000), wall time and peak
memory, against the statistics of commit 49ca462 (before issue 9) run in the same session.

The store is built from ``data/reference`` by jittered replication: every reference run is
repeated with its error moved by N(0, 0.5²) points (clipped to [0, 100]) and its flops by a
factor exp(N(0, 0.05²)), seeded. Targets (issue 9): refine and compare ≤ 10 s wall and
≤ 1 GB peak RSS each on the 2-core machine; ``edftools spaces`` ≤ 1 s.

Usage: python benchmarks/bench_refine_scale.py [--per-space 10000] [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE_COMMIT = "49ca462"


def build_store(path: Path, per_space: int, seed: int = 0) -> int:
    """Write the jittered-replication store; returns the number of runs."""
    import numpy as np
    import pandas as pd

    from edftools.report.writers import read_reference_runs
    from edftools.store import import_file, open_store

    ref = read_reference_runs(REPO / "data/reference")
    ref = ref[ref["status"] == "ok"]
    rng = np.random.default_rng(seed)
    parts = []
    for _space, group in ref.groupby("space"):
        take = group.iloc[rng.integers(0, len(group), per_space)].copy()
        take["error"] = np.clip(take["error"] + rng.normal(0, 0.5, per_space), 0.0, 100.0)
        take["best_error"] = np.minimum(take["best_error"], take["error"])
        take["flops"] = (take["flops"] * np.exp(rng.normal(0, 0.05, per_space))).astype("int64")
        take["run_id"] = [f"{r}-{i}" for i, r in enumerate(take["run_id"])]
        parts.append(take)
    big = pd.concat(parts, ignore_index=True)
    if "epoch_log" in big.columns:
        big = big.drop(columns=["epoch_log"])
    parquet = path.with_suffix(".parquet")
    big.to_parquet(parquet, index=False)
    store = open_store(path)
    try:
        import_file(store, parquet, "parquet")
    finally:
        store.close()
    return len(big)


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code:
        print("   ", proc.stderr.read().decode(errors="replace").strip().splitlines()[-1:])
    return wall, usage.ru_maxrss / 1024, code


def baseline_tree(tmp: Path) -> Path | None:
    """The edftools package of the baseline commit, or None without git history."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", BASELINE_COMMIT, "edftools"],
            check=True,
            capture_output=True,
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    target = tmp / "baseline"
    target.mkdir()
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-space", type=int, default=10_000)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--build", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:  # in a child process, so the measuring parent stays small
        print(build_store(Path(args.build), args.per_space))
        return
    tmp = Path(tempfile.mkdtemp(prefix="edftools-scale-"))
    try:
        store = tmp / "big.duckdb"
        t0 = time.perf_counter()
        py = sys.executable
        env = dict(os.environ, PYTHONPATH=str(REPO))
        built = subprocess.run(
            [py, __file__, "--build", str(store), "--per-space", str(args.per_space)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        n = int(built.stdout.split()[-1])
        print(f"store: {n:,} runs built in {time.perf_counter() - t0:.1f} s")
        commands = {
            "refine": [
                py,
                "-m",
                "edftools",
                "refine",
                "--store",
                str(store),
                "--out",
                str(tmp / "r"),
            ],
            "compare": [
                py,
                "-m",
                "edftools",
                "compare",
                "AnyNetX_A",
                "RegNetX",
                "--store",
                str(store),
                "--out",
                str(tmp / "c.html"),
            ],
            "spaces": [py, "-m", "edftools", "spaces"],
        }
        base = None if args.no_baseline else baseline_tree(tmp)
        head = f"{'command':<10} {'ours (s)':>9} {'RSS MB':>8}"
        print(head + f" {'baseline (s)':>13} {'RSS MB':>8} {'ratio':>7}")
        for name, cmd in commands.items():
            wall, rss, code = run(cmd, env)
            line = f"{name:<10} {wall:>9.2f} {rss:>8.0f}"
            if base is not None:
                b_wall, b_rss, _ = run(cmd, dict(os.environ, PYTHONPATH=str(base)))
                line += f" {b_wall:>13.2f} {b_rss:>8.0f} {b_wall / wall:>6.1f}×"
            print(line + ("" if code == 0 else "  (failed)"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
