"""Small DuckDB helpers shared by the store: one-line errors, lock detection, result fetching.

Every DuckDB error that reaches a user becomes a :class:`StoreError` whose message is the first
line of DuckDB's (multi-line) message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None
) -> duckdb.DuckDBPyConnection:
    try:
        return con.execute(sql, params) if params is not None else con.execute(sql)
    except duckdb.Error as exc:
        raise StoreError(f"SQL error: {one_line(exc)}") from None


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
