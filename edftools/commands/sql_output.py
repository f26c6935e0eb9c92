"""How ``edftools sql`` prints a result: aligned table, CSV or JSON, streamed batch by batch.

Every writer takes the column names and an iterator of row batches (as
:func:`edftools.store.connection.run_statements` yields them) and writes as it goes, so memory
stays bounded for any result size. ``limit`` keeps the first ``limit`` rows (None: all) and
says so when rows were left out. The table format makes control characters visible
(:func:`edftools.terminal.printable`); CSV and JSON keep the data as stored (JSON escapes
control characters itself, CSV quotes cells with line breaks).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from typing import Any, TextIO

from edftools.terminal import printable

SQL_FORMATS = ("table", "csv", "json")
#: Rows the table format shows unless ``--limit`` says otherwise (csv and json: all rows).
DEFAULT_TABLE_LIMIT = 1000
#: Rows from which the table's column widths are measured (later rows keep those widths).
WIDTH_SAMPLE_ROWS = 1000
STATEMENT_HEADER_WIDTH = 100

Rows = Iterable[Sequence[Any]]


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
    return printable(str(value))


def _rows(batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[Sequence[Any]]:
    return chain.from_iterable(batches)


class _Limited:
    """The first ``limit`` rows of ``rows`` (all when None); ``cut`` tells whether more existed."""

    def __init__(self, rows: Iterator[Sequence[Any]], limit: int | None) -> None:
        self._rows, self._limit, self.cut, self.count = rows, limit, False, 0

    def __iter__(self) -> Iterator[Sequence[Any]]:
        for row in self._rows:
            if self._limit is not None and self.count >= self._limit:
                self.cut = True
                return
            self.count += 1
            yield row


def _footer(count: int, cut: bool) -> str:
    if cut:
        return f"(first {count} row{'s' if count != 1 else ''} shown; --limit 0 shows all)"
    return f"({count} row{'s' if count != 1 else ''})"


def write_table(
    columns: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    out: TextIO,
    limit: int | None = DEFAULT_TABLE_LIMIT,
) -> None:
    """Rows as an aligned text table (numbers right-aligned, floats to 6 significant digits).

    Widths come from the first :data:`WIDTH_SAMPLE_ROWS` rows; a longer cell later widens
    only its own line.
    """
    rows = _Limited(_rows(batches), limit)
    it = iter(rows)
    sample = list(islice(it, WIDTH_SAMPLE_ROWS))
    heads = [printable(c) for c in columns]
    cells = [[_cell(v) for v in row] for row in sample]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(heads)]
    numeric = [
        bool(sample)
        and all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in sample)
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out.write(line(heads) + "\n" + "  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write(line(r) + "\n")
    for row in it:
        out.write(line([_cell(v) for v in row]) + "\n")
    out.write(_footer(rows.count, rows.cut) + "\n")


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """:func:`write_table` of a list of rows, as a string (no trailing newline)."""
    import io

    buf = io.StringIO()
    write_table(columns, [rows], buf, limit=None)
    return buf.getvalue().rstrip("\n")


def write_csv(
    columns: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    out: TextIO,
    limit: int | None = None,
) -> bool:
    """Rows as CSV with a header (NULL → empty cell, floats at full precision).

    Returns whether rows were left out by ``limit``.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    rows = _Limited(_rows(batches), limit)
    for row in rows:
        writer.writerow(["" if v is None else _plain(v) for v in row])
    return rows.cut


def write_json(
    columns: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    out: TextIO,
    limit: int | None = None,
) -> bool:
    """Rows as a JSON array of objects, one object per line; returns whether rows were cut."""
    rows = _Limited(_rows(batches), limit)
    out.write("[")
    sep = ""
    for row in rows:
        item = dict(zip(columns, map(_plain, row), strict=True))
        out.write(sep + json.dumps(item, default=str))
        sep = ",\n "
    out.write("]\n")
    return rows.cut


def statement_header(index: int, total: int, statement: str) -> str:
    """``-- statement 2 of 3: SELECT ...`` (the statement on one line, cut to a readable width)."""
    statement = printable(statement)
    if len(statement) > STATEMENT_HEADER_WIDTH:
        statement = statement[: STATEMENT_HEADER_WIDTH - 1] + "…"
    return f"-- statement {index} of {total}: {statement}"
