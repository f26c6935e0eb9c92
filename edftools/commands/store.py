"""``edftools sql``, ``edftools import`` and ``edftools export``: the result store's commands.

``sql`` opens the store read-only for the duration of one query and retries while a sweep
holds the file, so it works while a sweep is writing. It never creates a store.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from edftools.store.store import DEFAULT_LOCK_TIMEOUT

STORE_HELP = "Store file (default: $EDFTOOLS_STORE, else data/edftools.duckdb)."
SQL_FORMATS = ("table", "csv", "json")


def _plain(value: Any) -> Any:
    """A JSON-safe Python value (NaN/inf → None, timestamps → ISO text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return format(value, ".6g")
    if isinstance(value, datetime | date):
        return _plain(value)
    return str(value)


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as an aligned text table (numbers right-aligned, floats to 6 significant digits)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [
        bool(rows) and all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in rows)
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(columns), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def format_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as CSV with a header (NULL → empty cell, floats at full precision)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else _plain(v) for v in row])
    return buf.getvalue().rstrip("\n")


def format_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as a JSON array of objects, one object per line."""
    items = [
        json.dumps(dict(zip(columns, map(_plain, row), strict=True)), default=str) for row in rows
    ]
    return "[" + ",\n ".join(items) + "]"


FORMATTERS = {"table": format_table, "csv": format_csv, "json": format_json}


STATEMENT_HEADER_WIDTH = 100


def statement_header(index: int, total: int, statement: str) -> str:
    """``-- statement 2 of 3: SELECT ...`` (the statement on one line, cut to a readable width)."""
    if len(statement) > STATEMENT_HEADER_WIDTH:
        statement = statement[: STATEMENT_HEADER_WIDTH - 1] + "…"
    return f"-- statement {index} of {total}: {statement}"


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
    "--timeout",
    type=float,
    default=DEFAULT_LOCK_TIMEOUT,
    show_default=True,
    help="Seconds to wait while another process (a sweep) holds the store.",
)
def sql_cmd(query: str, store_path: str | None, fmt: str, timeout: float) -> None:
    """Run SQL on the result store (read-only) and print the result.

    Tables: sweeps, runs, epochs; views: ok_runs, space_summary, run_epochs, sweep_progress,
    bad_runs. Example: edftools sql "SELECT * FROM space_summary ORDER BY median_error"

    Several statements separated by ';' run in order, and every result is printed under a
    header line "-- statement i of n: ..." (table format only: csv and json output one
    result, so they refuse several statements). An empty query is an error.
    """
    from edftools.errors import StoreError
    from edftools.store.connection import run_statements, split_statements
    from edftools.store.store import open_store

    store = open_store(store_path, read_only=True, lock_timeout=timeout, lazy=True)
    with store.connect() as con:
        statements = split_statements(con, query)
        if len(statements) > 1 and fmt != "table":
            raise StoreError(
                f"--format {fmt} prints one result, but the query has {len(statements)} "
                "statements; run them one at a time or use --format table"
            )
        results = run_statements(con, statements)
    if len(results) == 1:
        if results[0].columns:
            click.echo(FORMATTERS[fmt](results[0].columns, results[0].rows))
        return
    blocks = []
    for i, res in enumerate(results, start=1):
        body = format_table(res.columns, res.rows) if res.columns else "(no result)"
        blocks.append(statement_header(i, len(results), res.statement) + "\n" + body)
    click.echo("\n\n".join(blocks))


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
    sweeps = ", ".join(sorted(batch.sweeps))
    click.echo(
        f"imported {n} run(s) and {len(batch.epochs)} epoch row(s) into {store.path} "
        f"(sweep {sweeps})"
    )
    for note in batch.notes:
        click.echo(f"note: {note}", err=True)


@click.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Output file.")
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

        if fmt not in (None, "parquet"):
            raise click.UsageError("--looks exports Parquet only")
        n = export_looks(store, out, sweep)
        click.echo(f"exported {n} look row(s) to {out}", file=sys.stdout)
        return
    from edftools.store.importers import export_runs

    n = export_runs(store, out, fmt, sweep=sweep)
    click.echo(f"exported {n} run(s) to {out}", file=sys.stdout)
