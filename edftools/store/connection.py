"""Small DuckDB helpers shared by the store: one-line errors, lock detection, result fetching.

Every DuckDB error that reaches a user becomes a :class:`StoreError` whose message is the first
line of DuckDB's (multi-line) message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb

from edftools.errors import StoreError

if TYPE_CHECKING:
    import pandas as pd


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (DuckDB errors span several lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


NO_STATEMENT = "no SQL statement given (the query is empty or only comments)"


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None
) -> duckdb.DuckDBPyConnection:
    try:
        cur = con.execute(sql, params) if params is not None else con.execute(sql)
    except duckdb.Error as exc:
        raise StoreError(f"SQL error: {one_line(exc)}") from None
    if cur is None:  # DuckDB returns None for a text without a statement ("", ";", "-- x")
        raise StoreError(NO_STATEMENT)
    return cur


class StatementResult(NamedTuple):
    """One statement of a script: its text (one line), column names and rows."""

    statement: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


def split_statements(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    """The statements of ``sql`` as parsed by DuckDB (a ``;`` inside a string is no split).

    A parse error, or a text with no statement at all, is a :class:`StoreError`.
    """
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise StoreError(f"SQL error: {one_line(exc)}") from None
    if not statements:
        raise StoreError(NO_STATEMENT)
    return statements


def run_statements(
    con: duckdb.DuckDBPyConnection, statements: Sequence[Any]
) -> list[StatementResult]:
    """Run parsed ``statements`` in order; every result (a statement without one: no columns).

    An error names the statement's position: ``SQL error in statement 2 of 3: ...``.
    """
    results = []
    for i, statement in enumerate(statements, start=1):
        text = " ".join(statement.query.split()).rstrip(";").rstrip()
        try:
            cur = con.execute(statement)
            columns = [d[0] for d in cur.description] if cur.description else []
            rows = cur.fetchall() if columns else []
        except duckdb.Error as exc:
            where = f" in statement {i} of {len(statements)}" if len(statements) > 1 else ""
            raise StoreError(f"SQL error{where}: {one_line(exc)}") from None
        results.append(StatementResult(text, columns, rows))
    return results


def fetch_all(cur: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    try:
        return cur.fetchall()
    except duckdb.Error as exc:
        raise StoreError(f"SQL error: {one_line(exc)}") from None


def frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    import pandas as pd

    if cur.description is None:
        return pd.DataFrame()
    try:
        return cur.df()
    except duckdb.Error as exc:
        raise StoreError(f"SQL error: {one_line(exc)}") from None
