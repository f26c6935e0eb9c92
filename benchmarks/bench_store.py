"""Store write cost: ``Store.write_run`` (one run + its epochs, one transaction, the file opened
and closed around it so readers can get in between) vs a bare DuckDB open + close of the same
file, measured in the same run; plus reading every run back as a DataFrame.

The writer opens the file per operation (see ``edftools.store.connection``), so the open/close
is the floor of its cost. Target: write_run <= 3x the bare open + close (that is, the insert
itself costs no more than two opens). Exits with status 1 if the target is missed.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from edftools.records import EpochRecord, RunRecord, RunResult
from edftools.spaces.config import NetConfig
from edftools.store import open_store

TARGET = 3.0
N_RUNS = 60
N_EPOCHS = 10


def make_record(i: int) -> RunRecord:
    """A digits-sized run with ``N_EPOCHS`` epoch rows."""
    config = NetConfig.from_stages(
        [1, 2, 2], [16, 32, 64], 1, 8, 2, stem_type="small", stem_width=16, resolution=8,
        num_classes=10, in_channels=1,
    ).to_dict()  # fmt: skip
    epochs = tuple(
        EpochRecord(e, 2.0 / e, 50.0 / e, 5.0 + 10.0 / e, 0.1 / e, 0.4)
        for e in range(1, N_EPOCHS + 1)
    )
    result = RunResult(
        status="ok",
        error=epochs[-1].test_error,
        best_error=min(e.test_error for e in epochs),
        epochs=epochs,
        train_seconds=4.0,
        device="cpu",
    )
    return RunRecord(
        run_id=f"bench-{i}",
        sweep="bench",
        space="AnyNetX_A",
        config=config,
        flops=400_000,
        params=20_000,
        acts=9_000,
        dataset="digits",
        epochs=N_EPOCHS,
        seed=i,
        result=result,
        versions={},
    )


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="edftools-bench-store-"))
    try:
        path = folder / "bench.duckdb"
        store = open_store(path)
        store.ensure_sweep("bench", "benchmark")
        write, bare = [], []
        for i in range(N_RUNS):  # alternate the two so load changes hit both alike
            t0 = time.perf_counter()
            store.write_run(make_record(i))
            write.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            duckdb.connect(str(path)).close()
            bare.append(time.perf_counter() - t0)
        store.runs_frame()  # warm-up: the first call also imports pandas (~0.7 s here)
        t0 = time.perf_counter()
        n = len(store.runs_frame())
        read_ms = (time.perf_counter() - t0) * 1000
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    mw, mb = statistics.median(write), statistics.median(bare)
    ratio = mw / mb
    print(f"write_run (1 run + {N_EPOCHS} epochs): median {mw * 1000:.1f} ms")
    print(f"bare duckdb open+close of the store:  median {mb * 1000:.1f} ms")
    print(f"ratio write_run / open+close: {ratio:.2f} (target <= {TARGET:g})")
    print(f"runs_frame() of {n} runs: {read_ms:.0f} ms")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
