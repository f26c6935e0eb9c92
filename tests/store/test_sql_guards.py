"""`edftools sql` is guarded: it reads the store and nothing else, and streams its results.

The probes of issue 17: writing another file, attaching another store for writing, reading
any file, installing or loading an extension, changing a setting. Each is one line on stderr,
exit 2, and every file outside the store (and the store) is unchanged.
"""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
from pathlib import Path

import pytest
from store_testlib import edftools_process, make_record, sha256

from edftools.commands.sql_output import write_csv, write_json, write_table
from edftools.store import open_store
from edftools.store.summary import format_summary, store_summary


@pytest.fixture
def two_stores(filled_store: Path, tmp_path: Path) -> tuple[Path, Path]:
    other = tmp_path / "other.duckdb"
    shutil.copyfile(filled_store, other)
    (tmp_path / "notes.txt").write_text("a,b\n1,2\n")
    return filled_store, other


def _files(folder: Path) -> dict[str, str]:
    return {p.name: sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}


PROBES = [
    "COPY (SELECT 'x') TO '{other}' (FORMAT csv)",
    "COPY runs TO '{dir}/leak.csv'",
    "ATTACH '{other}' AS o (READ_WRITE); DELETE FROM o.runs",
    "ATTACH '{other}' AS o (READ_ONLY)",
    "SELECT * FROM read_csv('{dir}/notes.txt')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM glob('{dir}/*')",
    "SELECT * FROM '{other}'",
    "EXPORT DATABASE '{dir}/dump'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "FORCE INSTALL json",
    "PRAGMA profiling_output='{dir}/profile.json'",
    "SET enable_external_access = true",
    "RESET enable_external_access",
    "SET allowed_directories = ['/']",
    "SET autoinstall_known_extensions = true",
]


@pytest.mark.parametrize("probe", PROBES)
def test_a_hostile_statement_is_one_line_and_touches_nothing(
    two_stores: tuple[Path, Path], cli, probe: str
) -> None:
    store, other = two_stores
    folder = store.parent
    before = _files(folder)
    query = probe.format(other=other, dir=folder)
    code, _out, err = cli("sql", query, "--store", str(store))
    assert code == 2 and err.count("\n") == 1 and err.startswith("edftools: SQL error"), err
    assert "Traceback" not in err
    assert _files(folder) == before and not (folder / "dump").exists()


def test_a_refused_file_access_says_how_to_allow_it(two_stores: tuple[Path, Path], cli) -> None:
    store, other = two_stores
    code, _, err = cli("sql", f"ATTACH '{other}' AS o", "--store", str(store))
    assert code == 2 and "--allow-external" in err and "reads only the store" in err


def test_allow_external_combines_stores_read_only(two_stores: tuple[Path, Path], cli) -> None:
    store, other = two_stores
    before = sha256(other)
    query = (
        f"ATTACH '{other}' AS o (READ_ONLY); "
        "SELECT count(*) AS n FROM (SELECT * FROM runs UNION ALL SELECT * FROM o.runs)"
    )
    code, out, err = cli("sql", query, "--store", str(store), "--allow-external")
    assert code == 0 and err == "", err
    assert out.rstrip().splitlines()[-2].strip() == "10"
    assert sha256(other) == before


def test_allow_external_still_refuses_extensions_and_settings(
    two_stores: tuple[Path, Path], cli
) -> None:
    store, _ = two_stores
    for query in ("INSTALL httpfs", "LOAD httpfs", "SET autoload_known_extensions = true"):
        code, _, err = cli("sql", query, "--store", str(store), "--allow-external")
        assert code == 2 and err.count("\n") == 1, (query, err)


def test_the_store_itself_reads_as_usual_under_the_guards(filled_store: Path, cli) -> None:
    code, out, _ = cli("sql", "SELECT count(*) AS n FROM ok_runs", "--store", str(filled_store))
    assert code == 0 and out.splitlines()[2].strip() == "3"


def test_table_format_has_a_default_limit_and_limit_zero_shows_all(filled_store: Path, cli) -> None:
    code, out, _ = cli("sql", "SELECT * FROM range(1500)", "--store", str(filled_store))
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2 + 1000 + 1
    assert lines[-1] == "(first 1000 rows shown; --limit 0 shows all)"
    code, out, _ = cli(
        "sql", "SELECT * FROM range(1500)", "--store", str(filled_store), "--limit", "0"
    )
    assert out.splitlines()[-1] == "(1500 rows)"


def test_csv_prints_every_row_unless_limited(filled_store: Path, cli) -> None:
    query = "SELECT * FROM range(3000)"
    code, out, err = cli("sql", query, "--store", str(filled_store), "--format", "csv")
    assert code == 0 and err == "" and len(out.splitlines()) == 3001
    code, out, err = cli(
        "sql", query, "--store", str(filled_store), "--format", "json", "--limit", "2"
    )
    assert code == 0 and out == '[{"range": 0},\n {"range": 1}]\n'
    assert "only the first 2 rows" in err


def test_a_huge_result_streams_under_a_limit(filled_store: Path, cli) -> None:
    """10^11 rows cannot be materialized: the command ends because it fetches in batches."""
    query = "SELECT range AS i, 'row ' || range AS s FROM range(100000000000)"
    code, out, _ = cli(
        "sql", query, "--store", str(filled_store), "--format", "json", "--limit", "3"
    )
    assert code == 0 and out.count("\n") == 3


@pytest.mark.parametrize("writer", [write_table, write_csv, write_json])
def test_writers_consume_rows_lazily(writer) -> None:
    """An endless stream of batches: each writer stops at its limit (nothing is collected)."""
    endless = ([(i, f"x{i}")] for i in itertools.count())
    buf = io.StringIO()
    writer(["i", "s"], endless, buf, 5)
    assert "x4" in buf.getvalue() and "x5" not in buf.getvalue()


def test_control_characters_are_escaped_in_table_and_info(tmp_path: Path, cli) -> None:
    path = tmp_path / "s.duckdb"
    store = open_store(path)
    nasty = "sw\x1b[2J\x00\nfake"
    store.ensure_sweep(nasty, "x")
    store.write_run(make_record("r\x1b]0;title\x07", sweep=nasty, space="A\nB"))
    code, out, _ = cli("sql", "SELECT run_id, sweep, space FROM runs", "--store", str(path))
    assert code == 0 and "\x1b" not in out and "\x00" not in out and "\x07" not in out
    assert "sw\\x1b[2J\\x00\\nfake" in out and "A\\nB" in out
    text = format_summary(store_summary(open_store(path, read_only=True)))
    assert "\x1b" not in text and "\x00" not in text and "A\\nB" in text
    code, out, _ = cli("info", "--store", str(path))
    assert code == 0 and "\x1b" not in out


def test_import_prints_names_from_the_file_escaped(tmp_path: Path, cli) -> None:
    table = tmp_path / "esc.csv"
    table.write_text('run_id,space,error,flops,sweep\nx1,A,5,10,"a\x1b[31mb\nc"\n')
    code, out, _ = cli("import", str(table), "--store", str(tmp_path / "s.duckdb"))
    assert code == 0 and "\x1b" not in out and "(sweep a\\x1b[31mb\\nc)" in out


def _sql_process(store: Path, stdout) -> subprocess.Popen:
    query = "SELECT * FROM range(10000000)"
    return edftools_process(
        "sql", query, "--store", str(store), "--format", "csv", stdout=stdout, text=True
    )


def test_a_reader_that_stops_early_ends_sql_quietly(filled_store: Path) -> None:
    """`edftools sql ... | head -1`: exit 0, nothing on stderr."""
    proc = _sql_process(filled_store, subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == "range\n"
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and err == "", err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_stdout_is_one_line(filled_store: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = _sql_process(filled_store, full)
        _, err = proc.communicate(timeout=120)
    assert (
        proc.returncode == 2
        and err == "edftools: cannot write the result: No space left on device\n"
    )
