"""Small DuckDB helpers shared by the store: guards, one-line errors, lock detection, fetching.

Every DuckDB error that reaches a user becomes a :class:`StoreError` whose message is the first
line of DuckDB's (multi-line) message.

Guards: a user's SQL (``edftools sql``) runs on a connection opened with :func:`guard_config`,
DuckDB's own settings — ``enable_external_access = false`` (no ``COPY … TO``, no file readers
such as ``read_csv``/``read_text``/``glob``, no ``ATTACH`` of another file, no ``EXPORT
DATABASE``), no extension install or autoload, and ``lock_configuration = true`` (no ``SET``
or ``PRAGMA`` can undo the guards). The store itself was opened before the guards apply, so it
reads as usual.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb

from edftools.errors import StoreBusyError, StoreError

if TYPE_CHECKING:
    import pandas as pd


#: DuckDB settings under which SQL reads the opened store and touches nothing else.
SANDBOX_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}

#: The hint a refused statement carries (what the guard is and how to lift it).
GUARD_HINT = (
    "edftools sql reads only the store; --allow-external lets it read other files and "
    "ATTACH other stores"
)


def guard_config(allow_external: bool = False) -> dict[str, Any]:
    """DuckDB ``config`` for a connection that runs a user's SQL.

    Always: no extension install/autoload, configuration locked. ``allow_external`` lifts only
    ``enable_external_access`` (file readers, ``COPY … TO``, ``ATTACH``).
    """
    return {**SANDBOX_CONFIG, "enable_external_access": bool(allow_external)}


def _is_guard_refusal(text: str) -> bool:
    low = text.lower()
    return "disabled by configuration" in low or "configuration has been locked" in low


def sql_error(exc: BaseException, where: str = "") -> StoreError:
    """``SQL error[where]: <first line>`` (with :data:`GUARD_HINT` when a guard refused it)."""
    text = one_line(exc)
    hint = f" ({GUARD_HINT})" if _is_guard_refusal(text) else ""
    return StoreError(f"SQL error{where}: {text}{hint}")


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (DuckDB errors span several lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


#: The retry delay while another process holds the file: 5 ms growing by 1.6x to 50 ms.
FIRST_RETRY_DELAY = 0.005
MAX_RETRY_DELAY = 0.05


def connect_with_retry(
    path: str | os.PathLike[str],
    read_only: bool,
    config: Mapping[str, Any],
    timeout: float,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, retried with jittered backoff while another process holds the file.

    After ``timeout`` seconds: :class:`StoreBusyError` — or, given ``on_wait``, one call
    ``on_wait("waiting for a reader since HH:MM:SS UTC")``, retries until the file is free,
    then ``on_wait("the reader let go after N s; writing")``. Other errors: StoreError.
    """
    jitter = random.Random(os.getpid())
    start = time.monotonic()
    held_since: datetime | None = None  # wall clock of the first lock conflict
    reported = False
    delay = FIRST_RETRY_DELAY
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=dict(config))
        except duckdb.Error as exc:
            if not is_lock_conflict(exc):
                raise StoreError(f"cannot open store {path}: {one_line(exc)}") from None
            held_since = held_since or datetime.now(UTC)
            if time.monotonic() - start >= timeout:
                if on_wait is None:
                    raise StoreBusyError(
                        f"store {path} is busy: another process held it for more than {timeout:g} s"
                    ) from None
                if not reported:
                    on_wait(f"waiting for a reader since {held_since:%H:%M:%S} UTC")
                    reported = True
        else:
            if reported and held_since is not None:
                held = (datetime.now(UTC) - held_since).total_seconds()
                on_wait(f"the reader let go after {held:.0f} s; writing")  # type: ignore[misc]
            return con
        time.sleep(delay * jitter.uniform(0.5, 1.5))
        delay = min(delay * 1.6, MAX_RETRY_DELAY)


NO_STATEMENT = "no SQL statement given (the query is empty or only comments)"


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None
) -> duckdb.DuckDBPyConnection:
    try:
        cur = con.execute(sql, params) if params is not None else con.execute(sql)
    except duckdb.Error as exc:
        raise sql_error(exc) from None
    if cur is None:  # DuckDB returns None for a text without a statement ("", ";", "-- x")
        raise StoreError(NO_STATEMENT)
    return cur


class StatementResult(NamedTuple):
    """One statement of a script: its text (one line), column names and its rows, streamed.

    ``batches`` yields lists of at most :data:`FETCH_ROWS` row tuples while the connection is
    open (bounded memory for any result size); a statement without a result has no columns.
    """

    statement: str
    columns: list[str]
    batches: Iterator[list[tuple[Any, ...]]]


#: Rows fetched from DuckDB at a time when a result is streamed.
FETCH_ROWS = 2048


def split_statements(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    """The statements of ``sql`` as parsed by DuckDB (a ``;`` inside a string is no split).

    A parse error, a text with no statement at all, or a statement that installs, loads or
    updates an extension (refused whatever the guards) is a :class:`StoreError`.
    """
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise sql_error(exc) from None
    if not statements:
        raise StoreError(NO_STATEMENT)
    for i, statement in enumerate(statements, start=1):
        if _is_extension_statement(statement):
            where = f" in statement {i} of {len(statements)}" if len(statements) > 1 else ""
            raise StoreError(
                f"SQL error{where}: refused: edftools sql never installs, loads or updates "
                "DuckDB extensions"
            )
    return statements


def _is_extension_statement(statement: Any) -> bool:
    """INSTALL, LOAD, FORCE INSTALL (DuckDB's LOAD type) and UPDATE EXTENSIONS (a type the
    Python enum does not name)."""
    try:
        kind = statement.type
    except ValueError:  # a statement type newer than the Python enum: UPDATE EXTENSIONS
        return "extension" in statement.query.lower()
    return kind == duckdb.StatementType.LOAD


def run_statements(
    con: duckdb.DuckDBPyConnection, statements: Sequence[Any]
) -> Iterator[StatementResult]:
    """Run parsed ``statements`` in order, yielding each result to be consumed before the next.

    An error names the statement's position: ``SQL error in statement 2 of 3: ...``.
    """
    for i, statement in enumerate(statements, start=1):
        text = " ".join(statement.query.split()).rstrip(";").rstrip()
        where = f" in statement {i} of {len(statements)}" if len(statements) > 1 else ""
        try:
            cur = con.execute(statement)
            columns = [d[0] for d in cur.description] if cur.description else []
        except duckdb.Error as exc:
            raise sql_error(exc, where) from None
        yield StatementResult(text, columns, _batches(cur, where) if columns else iter(()))


def _batches(cur: duckdb.DuckDBPyConnection, where: str) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        try:
            rows = cur.fetchmany(FETCH_ROWS)
        except duckdb.Error as exc:
            raise sql_error(exc, where) from None
        if not rows:
            return
        yield rows


def fetch_all(cur: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    try:
        return cur.fetchall()
    except duckdb.Error as exc:
        raise sql_error(exc) from None


def frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    import pandas as pd

    if cur.description is None:
        return pd.DataFrame()
    try:
        return cur.df()
    except duckdb.Error as exc:
        raise sql_error(exc) from None
