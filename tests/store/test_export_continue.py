"""export carries the sweeps table (the recipe and its hash), import restores it: an exported
sweep continues on another store with the same recipe."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from edftools.errors import StoreError
from edftools.recipe import load_recipe
from edftools.records import RunResult
from edftools.store import open_store
from edftools.store.importers import export_runs, import_file, load_import_file
from edftools.train.executors import InlineExecutor
from edftools.train.plan import plan_sweep
from edftools.train.sweep import execute_plan

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "recipes" / "digits_tiny.toml"


def simulated(task):
    return RunResult(status="ok", error=30.0, best_error=29.0)


def _sweep(path: Path, n: int | None = None) -> int:
    plan = plan_sweep(load_recipe(TINY), n=n)
    return execute_plan(plan, open_store(path), InlineExecutor(simulated), progress=False).done


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_exported_sweep_continues_with_the_same_recipe(tmp_path: Path, fmt: str) -> None:
    source, target = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert _sweep(source, n=2) == 2
    export_runs(open_store(source, read_only=True), tmp_path / f"runs.{fmt}")
    import_file(target, tmp_path / f"runs.{fmt}")
    recipe = load_recipe(TINY)
    stored = open_store(target).fetch("SELECT recipe, recipe_hash FROM sweeps")[1]
    assert stored == [
        (recipe.identity_text(), hashlib.sha256(recipe.identity_text().encode()).hexdigest())
    ]
    assert _sweep(target, n=4) == 2  # the two exported runs are kept, two more trained


def test_the_sweep_cli_continues_an_imported_sweep(tmp_path: Path, cli) -> None:
    source, target = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    _sweep(source)
    assert cli("export", "--store", str(source), "--out", str(tmp_path / "r.parquet"))[0] == 0
    assert cli("import", str(tmp_path / "r.parquet"), "--store", str(target))[0] == 0
    code, out, err = cli("sweep", str(TINY), "--store", str(target), "--no-progress")
    assert code == 0, err
    assert ", 0 to train," in err and "0 runs trained" in out


def test_a_sweep_with_another_recipe_is_refused_and_a_placeholder_replaced(
    tmp_path: Path,
) -> None:
    source = tmp_path / "a.duckdb"
    _sweep(source, n=1)
    export_runs(open_store(source, read_only=True), tmp_path / "runs.csv")
    other = open_store(tmp_path / "other.duckdb")
    other.ensure_sweep("digits_tiny", "another recipe")
    with pytest.raises(StoreError, match="already in the store with a different recipe"):
        import_file(other, tmp_path / "runs.csv")
    # an import without the column registers a placeholder; the carried recipe replaces it
    plain = tmp_path / "plain.csv"
    lines = (tmp_path / "runs.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[-1] == "sweep_recipe"
    batch = load_import_file(tmp_path / "runs.csv")
    assert batch.sweeps == {"digits_tiny": load_recipe(TINY).identity_text()}
    keep = ["space", "error", "flops", "sweep", "run_id"]
    import pandas as pd

    pd.read_csv(tmp_path / "runs.csv")[keep].to_csv(plain, index=False)
    fresh = open_store(tmp_path / "fresh.duckdb")
    import_file(fresh, plain)
    assert fresh.fetch("SELECT recipe FROM sweeps")[1][0][0].startswith("imported from plain.csv")
    import_file(fresh, tmp_path / "runs.csv", replace=True)
    assert fresh.fetch("SELECT recipe FROM sweeps")[1][0][0] == load_recipe(TINY).identity_text()


def test_looks_export_needs_a_parquet_name(filled_store: Path, tmp_path: Path, cli) -> None:
    code, _, err = cli(
        "export", "--looks", "--store", str(filled_store), "--out", str(tmp_path / "x.csv")
    )
    assert code == 2 and "Parquet only" in err and not (tmp_path / "x.csv").exists()


def test_two_files_of_one_sweep_import_one_after_the_other(tmp_path: Path) -> None:
    """The second file finds its sweep registered (a placeholder): it keeps it and imports."""
    store = open_store(tmp_path / "s.duckdb")
    for space in ("A", "B"):  # 200 rows each: inserted as an Arrow table
        table = tmp_path / f"{space}.csv"
        rows = "".join(f"{space}{i},{space},5,10,ref\n" for i in range(200))
        table.write_text("run_id,space,error,flops,sweep\n" + rows)
        import_file(store, table)
    found = store.fetch("SELECT name, recipe FROM sweeps")[1]
    assert found == [("ref", "imported from A.csv (format csv)")]
    assert store.fetch("SELECT count(*) FROM runs")[1] == [(400,)]
