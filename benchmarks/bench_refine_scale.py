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


def build_parquet(path: Path, per_space: int, seed: int = 0) -> int:
    """Write the jittered-replication runs to ``path`` (Parquet); returns their number."""
    import numpy as np
    import pandas as pd

    from edftools.report.writers import read_reference_runs

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
    # the columns every store schema has (the baseline's v2 predates ema/optim/failure_kind)
    big = big.drop(
        columns=[
            c
            for c in ("epoch_log", "ema_error", "ema_best_error", "optim", "failure_kind")
            if c in big.columns
        ]
    )
    big.to_parquet(path, index=False)
    return len(big)


def import_store(parquet: Path, store_path: Path) -> None:
    """Import ``parquet`` into a new store with whichever edftools is on sys.path (ours, or
    the baseline's in a child process, whose schema the store then has)."""
    from edftools.store import import_file, open_store

    store = open_store(store_path)
    try:
        import_file(store, parquet, "parquet")
    finally:
        store.close()


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of one command, run in ``cwd`` (not the
    repository: ``python -m`` puts the working directory first on sys.path, which would
    shadow the baseline's package given by PYTHONPATH)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
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
    parser.add_argument("--import-into", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:  # in a child process, so the measuring parent stays small
        print(build_parquet(Path(args.build), args.per_space))
        return
    if args.import_into:
        import_store(Path(args.import_into[0]), Path(args.import_into[1]))
        return
    tmp = Path(tempfile.mkdtemp(prefix="edftools-scale-"))
    try:
        parquet, store, base_store = tmp / "big.parquet", tmp / "big.duckdb", tmp / "base.duckdb"
        t0 = time.perf_counter()
        py = sys.executable
        env = dict(os.environ, PYTHONPATH=str(REPO))
        built = subprocess.run(
            [py, __file__, "--build", str(parquet), "--per-space", str(args.per_space)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        n = int(built.stdout.split()[-1])
        subprocess.run(
            [py, __file__, "--import-into", str(parquet), str(store)], env=env, check=True
        )
        print(f"store: {n:,} runs built in {time.perf_counter() - t0:.1f} s")
        base = None if args.no_baseline else baseline_tree(tmp)
        if base is not None:
            base_env = dict(os.environ, PYTHONPATH=str(base))
            subprocess.run(
                [py, __file__, "--import-into", str(parquet), str(base_store)],
                env=base_env,
                cwd=tmp,
                check=True,
            )
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
        head = f"{'command':<10} {'ours (s)':>9} {'RSS MB':>8}"
        print(head + f" {'baseline (s)':>13} {'RSS MB':>8} {'ratio':>7}")
        for name, cmd in commands.items():
            wall, rss, code = run(cmd, env, tmp)
            line = f"{name:<10} {wall:>9.2f} {rss:>8.0f}"
            if base is not None:
                b_cmd = [str(base_store) if c == str(store) else c for c in cmd]
                b_wall, b_rss, b_code = run(b_cmd, base_env, tmp)
                if b_code:
                    line += "  (baseline failed)"
                line += f" {b_wall:>13.2f} {b_rss:>8.0f} {b_wall / wall:>6.1f}×"
            print(line + ("" if code == 0 else "  (failed)"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
