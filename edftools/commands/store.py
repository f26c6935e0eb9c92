"""``edftools sql``, ``edftools import`` and ``edftools export``: the result store's commands.

``sql`` opens the store read-only for the duration of one query and retries while a sweep
holds the file, so it works while a sweep is writing. It never creates a store.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click

from edftools.commands.sql_output import (
    DEFAULT_TABLE_LIMIT,
    SQL_FORMATS,
    format_table,
    statement_header,
    write_csv,
    write_json,
    write_table,
)
from edftools.store.store import DEFAULT_LOCK_TIMEOUT
from edftools.terminal import printable

__all__ = ["export_cmd", "format_table", "import_cmd", "sql_cmd"]

STORE_HELP = "Store file (default: $EDFTOOLS_STORE, else data/edftools.duckdb)."


@click.command("sql")
@click.argument("query")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(SQL_FORMATS),
    default="table",
    show_default=True,
    help="table: aligned text; csv and json take a single statement.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    help=f"Print at most this many rows of each result, 0 for all (default: {DEFAULT_TABLE_LIMIT} "
    "for the table format, all for csv and json). Any result streams: memory stays bounded.",
)
@click.option(
    "--allow-external",
    is_flag=True,
    default=False,
    help="Also let the query read other files (read_csv, read_parquet, glob, ...), write "
    "files (COPY ... TO) and ATTACH other stores. Without it the query reads only the store.",
)
@click.option(
    "--timeout",
    type=float,
    default=DEFAULT_LOCK_TIMEOUT,
    show_default=True,
    help="Seconds to wait while another process (a sweep) holds the store.",
)
def sql_cmd(
    query: str,
    store_path: str | None,
    fmt: str,
    limit: int | None,
    allow_external: bool,
    timeout: float,
) -> None:
    """Run SQL on the result store (read-only) and print the result.

    Tables: sweeps, runs, epochs, looks; views: ok_runs, space_summary, run_epochs,
    sweep_progress, bad_runs. Example: edftools sql "SELECT * FROM space_summary ORDER BY
    median_error"

    Guarded: the query reads the store and nothing else. No other file is read or written
    (COPY ... TO, read_csv, glob, ATTACH are refused), no extension is installed or loaded, and
    SET/PRAGMA cannot lift these guards. --allow-external lifts the file guard (to combine
    stores: ATTACH 'other.duckdb' AS o (READ_ONLY)); extensions stay off.

    Several statements separated by ';' run in order, and every result is printed under a
    header line "-- statement i of n: ..." (table format only: csv and json output one
    result, so they refuse several statements). An empty query is an error.
    """
    from edftools.errors import StoreError
    from edftools.store.connection import guard_config
    from edftools.store.store import open_store

    if limit is None:
        limit = DEFAULT_TABLE_LIMIT if fmt == "table" else 0
    store = open_store(
        store_path,
        read_only=True,
        lock_timeout=timeout,
        lazy=True,
        config=guard_config(allow_external),
    )
    out = sys.stdout
    try:
        _print_results(store, query, fmt, limit, out)
    except BrokenPipeError:
        _end_for_a_gone_reader(out)
    except OSError as exc:  # stdout on a full disk
        raise StoreError(f"cannot write the result: {exc.strerror or exc}") from None


def _end_for_a_gone_reader(out: TextIO) -> NoReturn:
    """Exit 0 after a :class:`BrokenPipeError` on ``out`` (``| head``: the reader has all it
    wants), with ``out`` pointed at /dev/null so that the exit has nothing left to flush."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, out.fileno())
    sys.exit(0)


def _print_results(store: Any, query: str, fmt: str, limit: int, out: TextIO) -> None:
    """Run ``query`` on ``store`` and stream every result to ``out`` (see :func:`sql_cmd`)."""
    from edftools.errors import StoreError
    from edftools.store.connection import run_statements, split_statements

    most = limit or None
    with store.connect() as con:
        statements = split_statements(con, query)
        if len(statements) > 1 and fmt != "table":
            raise StoreError(
                f"--format {fmt} prints one result, but the query has {len(statements)} "
                "statements; run them one at a time or use --format table"
            )
        for i, res in enumerate(run_statements(con, statements), start=1):
            if len(statements) > 1:
                out.write(
                    ("\n" if i > 1 else "")
                    + statement_header(i, len(statements), res.statement)
                    + "\n"
                )
                if not res.columns:
                    out.write("(no result)\n")
            if not res.columns:
                continue
            if fmt == "table":
                write_table(res.columns, res.batches, out, most)
            elif (write_csv if fmt == "csv" else write_json)(res.columns, res.batches, out, most):
                click.echo(f"note: only the first {limit} rows printed (--limit)", err=True)
            out.flush()


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("pycls", "nds", "csv", "parquet")),
    default=None,
    help="File format (default: from the suffix: .json → pycls or nds (the NDS data "
    "release, detected), .csv, .parquet).",
)
@click.option(
    "--space", default=None, help="Space name for every row (pycls/nds default: file stem)."
)
@click.option("--sweep", default=None, help="Sweep name for every row (default: file stem).")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option("--replace", is_flag=True, help="Overwrite runs whose run_id is already stored.")
def import_cmd(
    file: str,
    fmt: str | None,
    space: str | None,
    sweep: str | None,
    store_path: str | None,
    replace: bool,
) -> None:
    """Import a pycls sweep file, an NDS release file, or a CSV/Parquet table, in one transaction.

    Tables need columns space, error and one of flops/params/acts; any other runs column
    (and epoch_log, as written by `edftools export`) is optional. A malformed file imports
    nothing and names the record and field. A Parquet file of looks (`export --looks`)
    replaces the looks of its sweeps.
    """
    from edftools.store.importers import load_import_file
    from edftools.store.looks import import_looks, is_looks_file
    from edftools.store.store import open_store

    if fmt in (None, "parquet") and is_looks_file(file):
        n = import_looks(open_store(store_path), file)
        click.echo(f"imported {n} look row(s) into {open_store(store_path).path}")
        return
    batch = load_import_file(file, fmt, space=space, sweep=sweep)
    store = open_store(store_path)
    n = store.write_batch(batch, replace=replace)
    sweeps = printable(", ".join(sorted(batch.sweeps)))  # names from the file: no raw ESC
    click.echo(
        f"imported {n} run(s) and {len(batch.epochs)} epoch row(s) into {store.path} "
        f"(sweep {sweeps})"
    )
    for note in batch.notes:
        click.echo(f"note: {printable(note)}", err=True)


@click.command("export")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Output file; - writes CSV to stdout (the count goes to stderr).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("parquet", "csv")),
    default=None,
    help="Output format (default: from the suffix of --out).",
)
@click.option("--sweep", default=None, help="Only this sweep's runs.")
@click.option(
    "--looks",
    is_flag=True,
    default=False,
    help="Export the looks of sequential sweeps (Parquet) instead of the runs.",
)
@click.option("--store", "store_path", default=None, help=STORE_HELP)
def export_cmd(
    out: str, fmt: str | None, sweep: str | None, looks: bool, store_path: str | None
) -> None:
    """Export runs (with an epoch_log column) to Parquet or CSV, or with --looks the looks of
    sequential sweeps; `edftools import` reads either."""
    from edftools.store.store import open_store

    store = open_store(store_path, read_only=True)
    if looks:
        from edftools.store.looks import export_looks

        suffix = Path(out).suffix.lower()
        named = fmt == "parquet" or (fmt is None and suffix in (".parquet", ".pq"))
        if out == "-" or not named:
            raise click.UsageError(
                f"--looks exports Parquet only: name the file .parquet (not {Path(out).name!r})"
            )
        n = export_looks(store, out, sweep)
        click.echo(f"exported {n} look row(s) to {out}", file=sys.stdout)
        return
    from edftools.store.importers import export_runs

    if out == "-":
        n = _export_runs_to_stdout(store, fmt, sweep)
        click.echo(f"exported {n} run(s) to stdout", err=True)
        return
    n = export_runs(store, out, fmt, sweep=sweep)
    click.echo(f"exported {n} run(s) to {out}", file=sys.stdout)


def _export_runs_to_stdout(store: Any, fmt: str | None, sweep: str | None) -> int:
    """``export --out -``: the runs as CSV on stdout (Parquet is binary: a file only). The
    export is written to a temporary file first (DuckDB's COPY), then streamed, so a failed
    export prints nothing; a reader that stops early (``| head``) ends it quietly."""
    import shutil
    import tempfile

    from edftools.store.importers import export_runs

    if fmt not in (None, "csv"):
        raise click.UsageError(f"--out - writes CSV only: name a file for --format {fmt}")
    with tempfile.TemporaryDirectory(prefix="edftools-export-") as tmp:
        path = Path(tmp) / "runs.csv"
        n = export_runs(store, path, "csv", sweep=sweep)
        sys.stdout.flush()
        try:
            with path.open("rb") as src:
                shutil.copyfileobj(src, sys.stdout.buffer, 1 << 20)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            _end_for_a_gone_reader(sys.stdout)
    return n
