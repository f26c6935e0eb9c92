"""The demo: reports written, deterministic, and the committed table regenerates exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from edftools.report.writers import (
    REFINEMENT_MD,
    demo,
    load_reference,
    refinement_markdown_file,
)

REPO = Path(__file__).resolve().parents[2]


def test_demo_writes_three_reports(demo_result) -> None:
    names = sorted(p.name for p in demo_result.files)
    assert names == ["compare_anynetx_a_vs_regnetx.html", "refinement.html", "refinement.md"]
    md = demo_result.files[0].read_text()
    assert md.startswith("# Design-space refinement")
    assert "| AnyNetX_A |" in md and "| RegNetX |" in md
    assert demo_result.n_runs == 600


def test_demo_is_deterministic(demo_result, reference_dir: Path, tmp_path: Path) -> None:
    from edftools.report.refine import RefineOptions, refine

    runs = load_reference(tmp_path / "again.duckdb", reference_dir)
    again = refinement_markdown_file(refine(runs, RefineOptions()))
    assert again == demo_result.files[0].read_text()


def test_demo_without_reference_data_is_a_clear_error(tmp_path: Path) -> None:
    from edftools.errors import StoreError

    with pytest.raises(StoreError, match="no reference data"):
        demo(tmp_path / "out", None, tmp_path / "empty")


def test_committed_refinement_table_regenerates_from_reference(tmp_path: Path) -> None:
    reference = REPO / "data" / "reference"
    committed = REPO / "reports" / REFINEMENT_MD
    assert list(reference.glob("*.parquet")), "data/reference/*.parquet must be committed"
    assert committed.exists(), "reports/refinement.md must be committed: run `make demo`"
    from edftools.report.refine import RefineOptions, refine

    runs = load_reference(tmp_path / "ref.duckdb", reference)
    assert refinement_markdown_file(refine(runs, RefineOptions())) == committed.read_text()
