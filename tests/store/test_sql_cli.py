"""`edftools sql`: output formats, errors as one line with exit code 2, read-only behaviour."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from store_testlib import make_record, sha256

from edftools.commands.store import format_table
from edftools.store import open_store
from edftools.store.rows import insert_rows, run_record_row, validate_epoch_rows, validate_run_row

QUERY = "SELECT space, n, min_error FROM space_summary ORDER BY space"


def test_table_format(filled_store: Path, cli) -> None:
    code, out, err = cli("sql", QUERY, "--store", str(filled_store))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["space", "n", "min_error"]
    assert lines[2].split() == ["AnyNetX_A", "2", "10"]
    assert lines[3].split() == ["AnyNetX_B", "3", "12.5"]
    assert lines[-1] == "(2 rows)"


def test_csv_and_json_formats(filled_store: Path, cli) -> None:
    code, out, _ = cli("sql", QUERY, "--store", str(filled_store), "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [
        ["space", "n", "min_error"],
        ["AnyNetX_A", "2", "10.0"],
        ["AnyNetX_B", "3", "12.5"],
    ]
    sql = "SELECT run_id, error, created_at FROM runs WHERE space = 'AnyNetX_B' ORDER BY run_id"
    code, out, _ = cli("sql", sql, "--store", str(filled_store), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [(d["run_id"], d["error"]) for d in data] == [("b1", 12.5), ("b2", 100.0), ("b3", None)]
    assert all(isinstance(d["created_at"], str) for d in data)


def test_table_formatting_of_nulls_and_numbers() -> None:
    text = format_table(["name", "x"], [("a", 1.23456789), ("bb", None)])
    assert text.splitlines() == [
        "name        x",
        "----  -------",
        "a     1.23457",
        "bb       NULL",
        "(2 rows)",
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELEC 1", "SQL error: Parser Error: syntax error"),
        ("SELECT * FROM nope", "SQL error: Catalog Error: Table with name nope does not exist"),
        ("DELETE FROM runs", "read-only"),
    ],
)
def test_sql_errors_are_one_line(filled_store: Path, cli, query: str, message: str) -> None:
    before = sha256(filled_store)
    code, out, err = cli("sql", query, "--store", str(filled_store))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("edftools: ") and message in err, err
    assert sha256(filled_store) == before


def test_missing_and_corrupt_stores(tmp_path: Path, cli) -> None:
    missing = tmp_path / "missing.duckdb"
    code, _, err = cli("sql", "SELECT 1", "--store", str(missing))
    assert code == 2 and "no store at" in err and not missing.exists()
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"\x00garbage" * 100)
    code, _, err = cli("sql", "SELECT 1", "--store", str(junk))
    assert code == 2 and "not a valid DuckDB database file" in err and err.count("\n") == 1


def test_env_var_selects_the_store(filled_store: Path, cli, monkeypatch) -> None:
    monkeypatch.setenv("EDFTOOLS_STORE", str(filled_store))
    code, out, _ = cli("sql", "SELECT count(*) AS n FROM runs", "--format", "csv")
    assert code == 0 and out.split() == ["n", "5"]


def test_small_and_bulk_inserts_store_the_same_rows(tmp_path: Path) -> None:
    from dataclasses import asdict

    import edftools.store.rows as rows_module

    frames = []
    for name, threshold in (("small", 10**9), ("bulk", 0)):
        path = tmp_path / f"{name}.duckdb"
        store = open_store(path)
        store.ensure_sweep("sw", "x")
        records = [make_record(f"r{i}", error=10.0 + i, seed=i) for i in range(3)]
        runs = [validate_run_row(run_record_row(r), r.run_id) for r in records]
        for run in runs:
            run["created_at"] = datetime(2024, 5, 1, 12, 30, 15, 123456)
        epochs = [
            e
            for r in records
            for e in validate_epoch_rows(r.run_id, [asdict(x) for x in r.result.epochs], "")
        ]
        old = rows_module.SMALL_BATCH_VALUES
        rows_module.SMALL_BATCH_VALUES = threshold
        try:
            with store.transaction() as con:
                insert_rows(con, runs, epochs)
        finally:
            rows_module.SMALL_BATCH_VALUES = old
        frames.append(
            (
                store.query("SELECT * FROM runs ORDER BY run_id"),
                store.query("SELECT * FROM epochs ORDER BY run_id, epoch"),
            )
        )
    (runs_a, epochs_a), (runs_b, epochs_b) = frames
    assert len(runs_a) == 3 and len(epochs_a) == 9
    assert runs_a.equals(runs_b) and epochs_a.equals(epochs_b)


def test_import_edftools_store_is_torch_free() -> None:
    code = (
        "import sys, edftools.store, edftools.commands.store\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
        "assert 'numpy' not in sys.modules, 'numpy imported'\n"  # `info`, `sql` start fast
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("query", ["", " ", ";", " ; ;", "/* only a comment */"])
def test_empty_query_is_one_line_error(filled_store: Path, cli, query: str) -> None:
    code, out, err = cli("sql", query, "--store", str(filled_store))
    assert code == 2 and out == ""
    assert err == "edftools: no SQL statement given (the query is empty or only comments)\n"


def test_store_fetch_of_empty_sql_is_a_store_error(filled_store: Path) -> None:
    from edftools.errors import StoreError

    with pytest.raises(StoreError, match="no SQL statement"):
        open_store(filled_store, read_only=True).fetch(" ; ")


def test_several_statements_print_every_result_under_a_header(filled_store: Path, cli) -> None:
    query = "SELECT 1 AS one; SELECT ';' AS semi,\n  2 AS two; SELECT count(*) AS n FROM runs;"
    code, out, err = cli("sql", query, "--store", str(filled_store))
    assert code == 0 and err == ""
    blocks = out.rstrip("\n").split("\n\n")
    assert len(blocks) == 3
    headers = [b.splitlines()[0] for b in blocks]
    assert headers == [
        "-- statement 1 of 3: SELECT 1 AS one",
        "-- statement 2 of 3: SELECT ';' AS semi, 2 AS two",
        "-- statement 3 of 3: SELECT count(*) AS n FROM runs",
    ]
    assert blocks[0].splitlines()[1:] == ["one", "---", "  1", "(1 row)"]
    assert blocks[1].splitlines()[3].split() == [";", "2"]
    assert blocks[2].splitlines()[3].strip() == "5"


def test_a_trailing_semicolon_is_one_statement(filled_store: Path, cli) -> None:
    code, out, _ = cli("sql", "SELECT 7 AS x;", "--store", str(filled_store), "--format", "csv")
    assert code == 0 and out.split() == ["x", "7"]


def test_several_statements_in_csv_or_json_are_refused(filled_store: Path, cli) -> None:
    for fmt in ("csv", "json"):
        code, out, err = cli(
            "sql", "SELECT 1; SELECT 2", "--store", str(filled_store), "--format", fmt
        )
        assert code == 2 and out == "" and err.count("\n") == 1
        assert f"--format {fmt} prints one result" in err and "2 statements" in err


def test_an_error_names_the_failing_statement(filled_store: Path, cli) -> None:
    """Results stream: statement 1's result is printed before statement 2 runs and fails."""
    before = sha256(filled_store)
    code, out, err = cli("sql", "SELECT 1; DELETE FROM runs", "--store", str(filled_store))
    assert code == 2 and err.count("\n") == 1
    assert out.splitlines()[0] == "-- statement 1 of 2: SELECT 1" and "statement 2" not in out
    assert err.startswith("edftools: SQL error in statement 2 of 2: ") and "read-only" in err
    assert sha256(filled_store) == before
