"""Writing reports to disk (atomically: a report file is complete or absent), and the demo.

``make demo`` = :func:`demo`: load ``data/reference/*.parquet`` into a fresh store, run the
refinement chain and one comparison, write ``reports/``. Everything is seeded and no timestamp
is written, so the committed ``reports/`` are exactly what the demo regenerates.

The reference data is found relative to the package (:data:`REFERENCE_DIR`: the checkout's
``data/reference``, whatever the working directory). ``edftools demo`` leaves the reference in
the default store (:func:`reference_store_target`) so that the README's tour runs on it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edftools.analysis.comparison import CompareOptions, ComparisonResult, compare_spaces
from edftools.analysis.refinement import RefineOptions, RefineResult, refine
from edftools.analysis.settings import Settings, default
from edftools.errors import StoreError
from edftools.files import write_text
from edftools.report.refine_table import to_markdown as refine_markdown

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "data" / "reference"
"""The shipped reference runs: ``data/reference`` of the checkout this package is in."""
DEMO_COMPARE: tuple[str, str] = ("AnyNetX_A", "RegNetX")
REGIMES_SUBDIR = "regimes"
"""The shipped regimes study (``edftools generalize``): ``data/reference/regimes``, loaded by
the demo into a store of its own (``regimes.duckdb`` beside the default store) so that the
refinement's spaces are never pooled with the regimes' runs."""
REFINEMENT_MD = "refinement.md"
REFINEMENT_HTML = "refinement.html"
GENERALIZATION_MD = "generalization.md"
GENERALIZATION_HTML = "generalization.html"


def refinement_markdown_file(result: RefineResult) -> str:
    """The content of ``refinement.md``: a title line and the table with its footnotes (and,
    when the runs have epoch logs, the verdicts through training)."""
    from edftools.report.epoch_table import to_markdown as epoch_markdown

    text = "# Design-space refinement (edftools refine)\n\n" + refine_markdown(result)
    through = epoch_markdown(result)
    return text + ("\n" + through if through else "")


def write_refinement(result: RefineResult, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``refinement.md`` and ``refinement.html`` into ``out_dir``."""
    from edftools.report.refine_html import render

    out = Path(out_dir)
    html = render(result)  # first: it computes the numbers both use on two cores
    return [
        write_text(out / REFINEMENT_MD, refinement_markdown_file(result)),
        write_text(out / REFINEMENT_HTML, html),
    ]


def write_generalization(result: Any, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``generalization.md`` and ``generalization.html`` (a
    :class:`~edftools.analysis.regimes.GeneralizeResult`) into ``out_dir``."""
    from edftools.report.generalize_report import render, to_markdown

    out = Path(out_dir)
    return [
        write_text(out / GENERALIZATION_MD, to_markdown(result)),
        write_text(out / GENERALIZATION_HTML, render(result)),
    ]


def write_comparison(result: ComparisonResult, path: str | os.PathLike[str]) -> Path:
    """Write the HTML comparison report to ``path``."""
    from edftools.report.compare_html import render

    return write_text(path, render(result))


def compare_filename(spaces: tuple[str, ...] | list[str]) -> str:
    """``compare_<a>_vs_<b>.html`` from the space names (lowercase, safe characters)."""
    safe = ["".join(ch if ch.isalnum() else "_" for ch in s.lower()) for s in spaces]
    return "compare_" + "_vs_".join(safe) + ".html"


@dataclass(frozen=True, eq=False)
class DemoResult:
    """What :func:`demo` produced."""

    refinement: RefineResult
    comparison: ComparisonResult
    files: tuple[Path, ...]
    n_runs: int
    generalization: Any = None
    n_regime_runs: int = 0


def reference_files(
    reference_dir: str | os.PathLike[str] = REFERENCE_DIR,
) -> tuple[list[Path], list[Path]]:
    """The reference Parquet files, sorted: (runs files, looks files of a sequential sweep);
    a StoreError when there are none."""
    from edftools.store.looks import is_looks_file

    files = sorted(Path(reference_dir).glob("*.parquet"))
    if not files:
        raise StoreError(
            f"no reference data: {reference_dir}/*.parquet does not exist "
            "(pass the folder of the reference Parquet files with --reference)"
        )
    looks = [f for f in files if is_looks_file(f)]
    return [f for f in files if f not in looks], looks


def read_reference_runs(reference_dir: str | os.PathLike[str] = REFERENCE_DIR) -> Any:
    """The reference runs as one DataFrame, read straight from the Parquet files (no store);
    a sequential sweep's looks file beside them is left out."""
    import pandas as pd

    runs, _looks = reference_files(reference_dir)
    return pd.concat((pd.read_parquet(f) for f in runs), ignore_index=True)


def load_reference(store_path: str | os.PathLike[str], reference_dir=REFERENCE_DIR):
    """Create a fresh store at ``store_path`` (an existing file there is replaced) and import
    every reference Parquet file into it (runs, and the looks of a sequential sweep); returns
    the store's ok runs frame."""
    return load_reference_with_looks(store_path, reference_dir)[0]


def load_reference_with_looks(
    store_path: str | os.PathLike[str], reference_dir=REFERENCE_DIR
) -> tuple[Any, Any]:
    """:func:`load_reference`, and the store's ``looks`` rows (empty without any)."""
    runs, looks, _epochs = load_reference_store(store_path, reference_dir)
    return runs, looks


def load_reference_store(
    store_path: str | os.PathLike[str], reference_dir=REFERENCE_DIR
) -> tuple[Any, Any, Any]:
    """:func:`load_reference_with_looks`, and the store's ``epochs`` rows (run id, epoch,
    test error)."""
    from edftools.analysis.epoch_verdicts import store_epochs
    from edftools.store import import_file, open_store
    from edftools.store.looks import import_looks, looks_frame

    runs, looks = reference_files(reference_dir)
    path = Path(store_path)
    for stale in (path, path.with_name(path.name + ".wal")):
        if stale.exists():
            stale.unlink()
    store = open_store(path)
    try:
        for f in runs:
            import_file(store, f, "parquet")
        for f in looks:
            import_looks(store, f)
        return store.runs_frame(), looks_frame(store), store_epochs(store)
    finally:
        store.close()


def reference_run_ids(reference_dir: str | os.PathLike[str] = REFERENCE_DIR) -> set[str]:
    """The run ids of the reference runs (read from the Parquet files' ``run_id`` column)."""
    import pyarrow.parquet as pq

    runs, _looks = reference_files(reference_dir)
    ids: set[str] = set()
    for f in runs:
        ids.update(pq.read_table(f, columns=["run_id"]).column("run_id").to_pylist())
    return ids


def reference_store_target(
    store_path: str | os.PathLike[str], reference_dir: str | os.PathLike[str] = REFERENCE_DIR
) -> Path | None:
    """``store_path`` when the demo may (re)build the reference there, else None.

    It may when no file is there, or when every run the store holds is a reference run (an
    earlier demo): rebuilding then loses nothing. A store with any other run (a user's sweep)
    is never touched. A file that is not a readable store: None.
    """
    from edftools.store import open_store

    path = Path(store_path)
    if not path.exists():
        return path
    try:
        store = open_store(path, read_only=True)
        try:
            held = set(store.query("SELECT run_id FROM runs")["run_id"])
        finally:
            store.close()
    except StoreError:
        return None
    return path if held <= reference_run_ids(reference_dir) else None


def regimes_reference(reference_dir: str | os.PathLike[str] = REFERENCE_DIR) -> Path | None:
    """The folder of the shipped regimes study's Parquet files, or None without one."""
    folder = Path(reference_dir) / REGIMES_SUBDIR
    return folder if any(folder.glob("*.parquet")) else None


def regimes_store_path(store_path: str | os.PathLike[str]) -> Path:
    """Where the demo keeps the regimes study: ``regimes.duckdb`` beside ``store_path``."""
    return Path(store_path).with_name("regimes.duckdb")


def demo(
    out_dir: str | os.PathLike[str] = "reports",
    store_path: str | os.PathLike[str] | None = None,
    reference_dir: str | os.PathLike[str] = REFERENCE_DIR,
    seed: int = default("seed"),
    regimes_store: str | os.PathLike[str] | None = None,
) -> DemoResult:
    """Load the reference data into a fresh store, refine the chain A→…→RegNetX, compare
    AnyNetX_A with RegNetX, and write the reports into ``out_dir``; with a shipped regimes
    study (:func:`regimes_reference`), load it into ``regimes_store`` (default: a temporary
    one) and write the generalization report too."""
    with tempfile.TemporaryDirectory(prefix="edftools-demo-") as tmp:
        runs, looks, epochs = load_reference_store(
            store_path or Path(tmp) / "demo.duckdb", reference_dir
        )
        folder = regimes_reference(reference_dir)
        generalization, n_regime_runs = None, 0
        if folder is not None:
            from edftools.analysis.generalization import generalize

            target = Path(regimes_store or Path(tmp) / "regimes.duckdb")
            regime_runs, _ = load_reference_with_looks(target, folder)
            generalization = generalize(str(target), settings=Settings(seed=seed))
            n_regime_runs = len(regime_runs)
    settings = Settings(seed=seed)
    refinement = refine(runs, RefineOptions(settings=settings), looks, epochs=epochs)
    comparison = compare_spaces(runs, CompareOptions(spaces=DEMO_COMPARE, settings=settings))
    files = write_refinement(refinement, out_dir)
    files.append(write_comparison(comparison, Path(out_dir) / compare_filename(DEMO_COMPARE)))
    if generalization is not None:
        files += write_generalization(generalization, out_dir)
    return DemoResult(
        refinement, comparison, tuple(files), len(runs), generalization, n_regime_runs
    )
