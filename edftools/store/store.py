"""The :class:`Store`: a handle on one DuckDB result file, safe to share between processes.

Concurrency design. DuckDB lets one process open a file for writing, and while it does, no
other process can open it at all (not even read-only). So a ``Store`` never holds the file:
every operation opens it, works in one transaction and closes it again — a sweep's
:meth:`Store.write_run` holds the file for about 70 ms per run (measured on 2 idle cores:
twice the cost of a bare DuckDB open + close; the close checkpoints the write-ahead log so that
readers open a self-contained file), and a reader
(``edftools sql``, :meth:`Store.runs_frame`) for as long as its query runs. When the file is
held by another process, opening is retried with exponential backoff (5 ms growing to 50 ms)
until ``lock_timeout`` seconds have passed, then a :class:`StoreBusyError` says the store is
busy — except for a writer given ``on_wait`` (a sweep): it never gives up because a reader
holds the store. After ``lock_timeout`` it reports one "waiting for a reader since …" line
through ``on_wait`` and keeps retrying until the reader lets go. A write may also be tried
without waiting (``wait=False``: at most :data:`QUICK_TRY_S`), which a sweep uses to keep its
finished runs in memory and go on training while a reader holds the file
(:func:`edftools.train.sweep.execute_plan`).
Because the runs row and its epochs rows are written in one transaction and a reader can only
open the file between transactions, a reader never sees a run without its epochs; a writer
killed mid-transaction leaves nothing behind (DuckDB's write-ahead log replays only commits).

Path resolution: an explicit path wins; else the ``EDFTOOLS_STORE`` environment variable; else
``data/edftools.duckdb`` (relative to the working directory).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from edftools.errors import StoreError
from edftools.store import schema
from edftools.store.connection import connect_with_retry, execute, fetch_all, frame, one_line
from edftools.store.rows import (
    ImportBatch,
    insert_rows,
    run_record_row,
    validate_epoch_rows,
    validate_run_row,
)
from edftools.store.sweeps import register_imported_sweep, register_sweep

__all__ = ["ImportBatch", "Store", "default_store_path", "open_store", "resolve_store_path"]

if TYPE_CHECKING:
    import pandas as pd

    from edftools.records import RunRecord

DEFAULT_STORE_PATH = Path("data") / "edftools.duckdb"
STORE_ENV_VAR = "EDFTOOLS_STORE"
DEFAULT_LOCK_TIMEOUT = 30.0
#: How long a write tried with ``wait=False`` retries before it gives way (a sweep then keeps
#: the run in memory and trains on).
QUICK_TRY_S = 0.25
FINISHED_STATUSES: tuple[str, ...] = ("ok", "diverged")


def default_store_path() -> Path:
    """``$EDFTOOLS_STORE`` if set and non-empty, else ``data/edftools.duckdb``."""
    env = os.environ.get(STORE_ENV_VAR, "").strip()
    return Path(env) if env else DEFAULT_STORE_PATH


def resolve_store_path(path: str | os.PathLike[str] | None) -> Path:
    """The store file to use: ``path`` if given, else :func:`default_store_path`."""
    return Path(path) if path is not None and str(path) != "" else default_store_path()


class Store:
    """A DuckDB result store (use :func:`open_store`); a context manager that holds no file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        read_only: bool = False,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        config: Mapping[str, Any] | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.lock_timeout = float(lock_timeout)
        self.config: dict[str, Any] = dict(config or {})
        self.on_wait = on_wait
        self._schema_checked = False
        self._held: duckdb.DuckDBPyConnection | None = None

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Store({str(self.path)!r}, {mode})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: every operation opens and closes the file itself."""

    # Connections -----------------------------------------------------------------------------
    @contextmanager
    def connect(
        self, read_only: bool | None = None, wait: bool = True
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the file (retrying while another process holds it), yield, close.

        ``read_only`` defaults to the store's mode; a read-only store refuses ``False``.
        ``wait=False`` gives way after :data:`QUICK_TRY_S` with a :class:`StoreBusyError`.
        """
        ro = self.read_only if read_only is None else read_only
        if not ro and self.read_only:
            raise StoreError(f"store {self.path} was opened read-only")
        if self._held is not None and ro == self.read_only:
            try:
                yield self._held
            except duckdb.Error as exc:
                raise StoreError(f"store {self.path}: {one_line(exc)}") from None
            return
        with self._connection(ro, wait) as con:
            yield con

    @contextmanager
    def held(self) -> Iterator[Store]:
        """Every operation inside the block uses one connection, opened once (in the store's
        mode): a command that makes several reads opens the file once, and sees one state of
        it. The file stays held for the whole block (a writer waits for a reader to let go),
        so keep the block to the reads."""
        if self._held is not None:
            yield self
            return
        with self._connection(self.read_only) as con:
            self._held = con
            try:
                yield self
            finally:
                self._held = None

    @contextmanager
    def _connection(
        self, read_only: bool, wait: bool = True
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self._open(read_only, wait)
        try:
            if not self._schema_checked:
                con = self._check_schema(con, read_only)
            yield con
        except duckdb.Error as exc:  # a corrupt file, a full disk: one line, not a traceback
            raise StoreError(f"store {self.path}: {one_line(exc)}") from None
        finally:
            con.close()

    def _open(self, read_only: bool, wait: bool = True) -> duckdb.DuckDBPyConnection:
        patient = wait and not read_only and self.on_wait is not None
        timeout = self.lock_timeout if wait else min(self.lock_timeout, QUICK_TRY_S)
        return connect_with_retry(
            self.path, read_only, self.config, timeout, self._on_wait if patient else None
        )

    def _on_wait(self, text: str) -> None:
        if self.on_wait is not None:
            self.on_wait(f"store {self.path}: {text}")

    @contextmanager
    def transaction(self, wait: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection inside ``BEGIN … COMMIT`` (ROLLBACK on any exception)."""
        with self.connect(read_only=False, wait=wait) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                with suppress(duckdb.Error):  # an aborted transaction may refuse ROLLBACK too
                    con.execute("ROLLBACK")
                raise
            try:
                con.execute("COMMIT")
            except duckdb.Error as exc:
                raise StoreError(f"store {self.path}: commit failed: {one_line(exc)}") from None

    def _check_schema(
        self, con: duckdb.DuckDBPyConnection, read_only: bool
    ) -> duckdb.DuckDBPyConnection:
        """On the first connection: create or upgrade the schema (writer), or check it (reader).

        Returns the connection to use. A reader on an older store upgrades it once, briefly
        reopening it for writing, then reopens it read-only.
        """
        try:
            if read_only:
                if self._version_of(con) >= schema.SCHEMA_VERSION:
                    self._schema_checked = True
                    return con
                con.close()
                con = self._open(False)
            if schema.user_table_count(con) > 0:
                self._version_of(con)
            schema.migrate(con)
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"cannot upgrade store {self.path}: {one_line(exc)}") from None
        except BaseException:
            con.close()
            raise
        self._schema_checked = True
        if read_only:
            con.close()
            con = self._open(True)
        return con

    def _version_of(self, con: duckdb.DuckDBPyConnection) -> int:
        if not schema.has_version_table(con):
            raise StoreError(f"{self.path} is a DuckDB file but not an edftools store")
        version = schema.stored_version(con)
        if version > schema.SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema v{version}, newer than this edftools "
                f"(v{schema.SCHEMA_VERSION}); upgrade edftools"
            )
        return version

    @property
    def schema_version(self) -> int:
        """The stored schema version."""
        with self.connect() as con:
            return schema.stored_version(con)

    # Writer ----------------------------------------------------------------------------------
    def ensure_sweep(self, name: str, recipe_text: str) -> bool:
        """Register sweep ``name`` with its recipe; True if created, False if already there.

        The recipe is identified by ``sha256(recipe_text)``; an existing sweep of the same name
        with a different recipe is a :class:`StoreError` (a changed recipe needs a new name).
        """
        _check_sweep_name(name)
        with self.transaction() as con:
            return register_sweep(con, name, recipe_text)

    def write_run(self, record: RunRecord, wait: bool = True) -> None:
        """Write one run's ``runs`` row and its ``epochs`` rows in ONE transaction.

        The sweep must be registered (:meth:`ensure_sweep`). A run id already stored with status
        ``failed`` is replaced (a resume re-runs environment failures, and every failed run with
        ``--retry-failed``); any other existing run id is a :class:`StoreError`. With
        ``wait=False`` a store held by another process raises :class:`StoreBusyError` after
        :data:`QUICK_TRY_S` (nothing written).
        """
        self.write_row(run_record_row(record), [asdict(e) for e in record.result.epochs], wait)

    def write_row(
        self,
        row: Mapping[str, Any],
        epochs: Sequence[Mapping[str, Any]],
        wait: bool = True,
        skip_stored: bool = False,
    ) -> bool:
        """:meth:`write_run` of a run's row and epoch rows (validated here); True if written.

        ``skip_stored``: a run id already stored with a status other than ``failed`` is left
        alone (returns False) instead of being an error — a journal replayed after a kill may
        hold runs that were committed just before it.
        """
        where = f"run {row.get('run_id')}"
        run = validate_run_row(row, where)
        epoch_rows = validate_epoch_rows(run["run_id"], list(epochs), where)
        with self.transaction(wait) as con:
            known = con.execute("SELECT 1 FROM sweeps WHERE name = ?", [run["sweep"]]).fetchone()
            if known is None:
                raise StoreError(f"{where}: sweep {run['sweep']!r} is not registered")
            sql = "SELECT status FROM runs WHERE run_id = ?"
            old = con.execute(sql, [run["run_id"]]).fetchone()
            if old is not None:
                if old[0] != "failed":
                    if skip_stored:
                        return False
                    raise StoreError(f"{where}: already stored with status {old[0]!r}")
                _delete_runs(con, [run["run_id"]])
            insert_rows(con, [run], epoch_rows)
        return True

    def finished_run_ids(self, sweep: str, statuses: Sequence[str] = FINISHED_STATUSES) -> set[str]:
        """Run ids of ``sweep`` whose status is in ``statuses`` (default ok and diverged)."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT run_id FROM runs WHERE sweep = ? AND list_contains(?, status)",
                [sweep, list(statuses)],
            ).fetchall()
        return {r[0] for r in rows}

    def run_outcomes(self, sweep: str) -> dict[str, tuple[str, str | None]]:
        """``run_id -> (status, failure_kind)`` of every stored run of ``sweep``.

        What a resumed sweep needs to decide which runs to (re-)run
        (:func:`edftools.records.needs_run`).
        """
        with self.connect() as con:
            return _outcomes(con, sweep)

    def start_sweep(self, name: str, recipe_text: str) -> dict[str, tuple[str, str | None]]:
        """:meth:`ensure_sweep` then :meth:`run_outcomes`, in one opening of the file: a sweep's
        bookkeeping before it trains (each opening costs 30-50 ms)."""
        _check_sweep_name(name)
        with self.transaction() as con:
            register_sweep(con, name, recipe_text)
            return _outcomes(con, name)

    def write_batch(self, batch: ImportBatch, replace: bool = False) -> int:
        """Insert an :class:`ImportBatch` in one transaction; return the number of runs.

        Run ids already in the store are an error naming them, unless ``replace`` — then the
        stored runs and their epochs are deleted first, in the same transaction. Sweeps that do
        not exist yet are registered with the batch's recipe text (a carried recipe replaces a
        stored ``imported from …`` placeholder; one that differs from a stored recipe is an
        error).
        """
        ids = [r["run_id"] for r in batch.runs]
        with self.transaction() as con:
            con.register("_batch_ids", _id_table(ids))
            try:
                taken = con.execute(
                    "SELECT run_id FROM runs WHERE run_id IN (SELECT run_id FROM _batch_ids) "
                    "ORDER BY run_id"
                ).fetchall()
            finally:
                con.unregister("_batch_ids")
            if taken and not replace:
                shown = ", ".join(r[0] for r in taken[:3])
                more = f" and {len(taken) - 3} more" if len(taken) > 3 else ""
                raise StoreError(
                    f"{batch.source}: {len(taken)} run id(s) already in the store ({shown}{more});"
                    " use --replace to overwrite them"
                )
            if taken:
                _delete_runs(con, [r[0] for r in taken])
            for name, recipe in batch.sweeps.items():
                register_imported_sweep(con, batch.source, name, recipe)
            insert_rows(con, batch.runs, batch.epochs)
        return len(batch.runs)

    # Reader ----------------------------------------------------------------------------------
    def fetch(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run ``sql``; return ``(column names, rows)`` (no pandas). SQL errors → StoreError."""
        with self.connect() as con:
            cur = execute(con, sql, params)
            if cur.description is None:
                return [], []
            return [d[0] for d in cur.description], fetch_all(cur)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run ``sql`` and return the result as a pandas DataFrame. SQL errors → StoreError."""
        with self.connect() as con:
            return frame(execute(con, sql, params))

    def runs_frame(
        self,
        sweep: str | None = None,
        spaces: str | Sequence[str] | None = None,
        status: str | Sequence[str] | None = "ok",
    ) -> pd.DataFrame:
        """The ``runs`` rows of ``sweep`` (all if None) and ``spaces`` with ``status``.

        ``status=None`` keeps every status. Rows are ordered by sweep, space, created_at,
        run_id. An unknown sweep, or a requested space with no runs (in that sweep, whatever
        their status), is a StoreError.
        """
        space_list = [spaces] if isinstance(spaces, str) else list(spaces or [])
        status_list = [status] if isinstance(status, str) else list(status or [])
        where = ["(? IS NULL OR sweep = ?)"]
        params: list[str | list[str] | None] = [sweep, sweep]
        if space_list:
            where.append("list_contains(?, space)")
            params.append(space_list)
        if status_list:
            where.append("list_contains(?, status)")
            params.append(status_list)
        with self.connect() as con:
            present = {
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT space FROM runs WHERE ? IS NULL OR sweep = ?", [sweep, sweep]
                ).fetchall()
            }
            if sweep is not None and not present:
                known = [r[0] for r in con.execute("SELECT DISTINCT sweep FROM runs").fetchall()]
                shown = ", ".join(sorted(known)) or "none"
                raise StoreError(f"no runs in sweep {sweep!r} (sweeps in the store: {shown})")
            missing = sorted(set(space_list) - present)
            if missing:
                scope = f" in sweep {sweep!r}" if sweep is not None else ""
                raise StoreError(f"no runs of space {missing[0]!r}{scope}")
            sql = "SELECT * FROM runs WHERE " + " AND ".join(where)
            return frame(execute(con, sql + " ORDER BY sweep, space, created_at, run_id", params))

    def epochs_frame(self, run_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """The ``run_epochs`` view (epochs with sweep, space, run error), optionally by run id."""
        if run_ids is None:
            return self.query("SELECT * FROM run_epochs ORDER BY run_id, epoch")
        return self.query(
            "SELECT * FROM run_epochs WHERE list_contains(?, run_id) ORDER BY run_id, epoch",
            [list(run_ids)],
        )


def _check_sweep_name(name: str) -> None:
    if not name or not name.strip():
        raise StoreError("a sweep needs a non-empty name")


def _outcomes(con: duckdb.DuckDBPyConnection, sweep: str) -> dict[str, tuple[str, str | None]]:
    rows = con.execute(
        "SELECT run_id, status, failure_kind FROM runs WHERE sweep = ?", [sweep]
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _id_table(ids: Sequence[str]) -> Any:
    import pyarrow as pa

    return pa.table({"run_id": pa.array(list(ids), type=pa.string())})


def _delete_runs(con: duckdb.DuckDBPyConnection, run_ids: Sequence[str]) -> None:
    con.execute("DELETE FROM epochs WHERE list_contains(?, run_id)", [list(run_ids)])
    con.execute("DELETE FROM runs WHERE list_contains(?, run_id)", [list(run_ids)])


def open_store(
    path: str | os.PathLike[str] | None = None,
    read_only: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    lazy: bool = False,
    config: Mapping[str, Any] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Store:
    """Open (and for a writer create) a store; check or upgrade its schema.

    With ``lazy=True`` the schema check happens on the first operation instead (one file open
    fewer: ``edftools sql`` uses it to hold the file only once). ``config`` is DuckDB's
    connection configuration for every connection (``edftools sql`` passes
    :func:`edftools.store.connection.guard_config`). A writer given ``on_wait`` never gives
    up while a reader holds the file: it reports its wait through ``on_wait`` and retries.

    ``path``: explicit path > ``$EDFTOOLS_STORE`` > ``data/edftools.duckdb``. A reader on a
    missing file is a StoreError (nothing is created on read); a file that is not a DuckDB
    database, or a DuckDB database without the edftools schema, is a StoreError.
    """
    resolved = resolve_store_path(path)
    if resolved.is_dir():
        raise StoreError(f"store path {resolved} is a directory")
    if read_only and not resolved.exists():
        raise StoreError(f"no store at {resolved} (create one with a sweep or `edftools import`)")
    if not read_only:
        try:
            resolved.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store's folder {resolved.parent}: {exc}") from None
    store = Store(resolved, read_only, lock_timeout, config=config, on_wait=on_wait)
    if not lazy:
        with store.connect():
            pass
    return store
