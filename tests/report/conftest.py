"""Shared fixtures: synthetic reference Parquet files and one demo run over them."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_synthetic import synthetic_runs

CHAIN_SHIFTS = {
    "AnyNetX_A": 0.0,
    "AnyNetX_B": 0.0,
    "AnyNetX_C": 0.0,
    "AnyNetX_D": -4.0,
    "AnyNetX_E": -4.0,
    "RegNetX": -8.0,
}


@pytest.fixture(scope="session")
def reference_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of per-space Parquet files shaped like data/reference/."""
    folder = tmp_path_factory.mktemp("reference")
    runs = synthetic_runs(CHAIN_SHIFTS, n=100, seed=1)
    for space, part in runs.groupby("space"):
        part.to_parquet(folder / f"{space}.parquet", index=False)
    return folder


@pytest.fixture(scope="session")
def demo_result(reference_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """One demo run (store load, refine, compare, reports) over the synthetic reference."""
    from edftools.report.writers import demo

    out = tmp_path_factory.mktemp("reports")
    return demo(out, None, reference_dir)
