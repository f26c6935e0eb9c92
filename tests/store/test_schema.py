"""Schema creation, versioning and migration; opening rules (paths, missing/corrupt files)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest
from store_testlib import make_record, sha256

from edftools.errors import StoreError
from edftools.store import open_store, resolve_store_path, schema
from edftools.store.store import DEFAULT_STORE_PATH, STORE_ENV_VAR


def _columns(path: Path, table: str) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    finally:
        con.close()


def test_fresh_store_has_current_schema(store_path: Path) -> None:
    store = open_store(store_path)
    assert store.schema_version == schema.SCHEMA_VERSION == len(schema.MIGRATIONS)
    assert _columns(store_path, "runs") == list(schema.RUN_COLUMN_NAMES)
    assert _columns(store_path, "epochs") == list(schema.EPOCH_COLUMN_NAMES)
    assert _columns(store_path, "sweeps") == ["name", "recipe", "recipe_hash", "created_at"]
    for i in range(1, schema.MAX_STAGES + 1):
        assert {f"d{i}", f"w{i}", f"b{i}", f"g{i}"} <= set(schema.RUN_COLUMN_NAMES)
    names = {r[0] for r in store.fetch("SELECT table_name FROM information_schema.tables")[1]}
    assert set(schema.VIEWS_V2) <= names
    versions = store.fetch("SELECT version FROM schema_version ORDER BY 1")[1]
    assert versions == [(v,) for v in range(1, schema.SCHEMA_VERSION + 1)]


def test_reopening_applies_nothing(store_path: Path) -> None:
    open_store(store_path)
    con = duckdb.connect(str(store_path))
    try:
        assert schema.migrate(con) == []
    finally:
        con.close()


def _make_v1_store(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        assert schema.migrate(con, target=1) == [1]
        con.execute("INSERT INTO sweeps VALUES ('old', 'r', 'h', TIMESTAMP '2020-01-01')")
        con.execute(
            "INSERT INTO runs (run_id, sweep, space, error, flops, status, created_at) "
            "VALUES ('v1run', 'old', 'AnyNetX_A', 33.5, 1000, 'ok', TIMESTAMP '2020-01-01')"
        )
        con.execute("INSERT INTO epochs VALUES ('v1run', 1, 1.0, 40.0, 33.5, 0.1, 2.0)")
    finally:
        con.close()


def test_v1_store_is_upgraded_on_open(store_path: Path) -> None:
    _make_v1_store(store_path)
    assert "source" not in _columns(store_path, "runs")
    store = open_store(store_path)
    assert store.schema_version == schema.SCHEMA_VERSION
    assert _columns(store_path, "runs") == list(schema.RUN_COLUMN_NAMES)
    rows = store.fetch("SELECT run_id, error, source FROM ok_runs")[1]
    assert rows == [("v1run", 33.5, "sweep")]
    summary = store.fetch("SELECT n, n_ok, min_error FROM space_summary")[1]
    assert summary == [(1, 1, 33.5)]
    assert store.fetch("SELECT count(*) FROM run_epochs")[1] == [(1,)]
    # the upgraded store takes new runs
    store.ensure_sweep("sw", "x")
    store.write_run(make_record("new"))
    assert store.fetch("SELECT count(*) FROM runs")[1] == [(2,)]


def test_reader_upgrades_an_old_store_too(store_path: Path) -> None:
    _make_v1_store(store_path)
    store = open_store(store_path, read_only=True)
    assert store.schema_version == schema.SCHEMA_VERSION
    assert store.fetch("SELECT run_id FROM ok_runs")[1] == [("v1run",)]


def _make_v2_store(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        assert schema.migrate(con, target=2) == [1, 2]
        con.execute("INSERT INTO sweeps VALUES ('old', 'r', 'h', TIMESTAMP '2020-01-01')")
        con.execute(
            "INSERT INTO runs (run_id, sweep, space, config, d1, error, best_error, flops, "
            "status, message, created_at, source) VALUES "
            "('ok1', 'old', 'A', NULL, 2, 33.5, 30.0, 1000, 'ok', NULL, "
            "TIMESTAMP '2020-01-01', 'import:pycls'), "
            "('bad', 'old', 'A', NULL, NULL, NULL, NULL, 9, 'failed', 'boom', "
            "TIMESTAMP '2020-01-02', 'sweep')"
        )
        con.execute("INSERT INTO epochs VALUES ('ok1', 1, 1.0, 40.0, 33.5, 0.1, 2.0)")
        with pytest.raises(duckdb.ConstraintException):  # v2 knows no 'incomplete'
            con.execute(
                "INSERT INTO runs (run_id, sweep, space, error, flops, status, created_at) "
                "VALUES ('x', 'old', 'A', 1, 1, 'incomplete', TIMESTAMP '2020-01-01')"
            )
    finally:
        con.close()


def test_v2_store_is_upgraded_to_v3_keeping_every_row(store_path: Path) -> None:
    _make_v2_store(store_path)
    before = duckdb.connect(str(store_path), read_only=True)
    old_rows = before.execute("SELECT * FROM runs ORDER BY run_id").fetchall()
    before.close()
    store = open_store(store_path)
    assert store.schema_version == schema.SCHEMA_VERSION
    assert _columns(store_path, "runs") == list(schema.RUN_COLUMN_NAMES)
    new_rows = store.fetch("SELECT * FROM runs ORDER BY run_id")[1]
    assert [r[: len(old_rows[0])] for r in new_rows] == old_rows  # every old value kept
    assert store.fetch("SELECT ema_error, ema_best_error FROM runs")[1] == [(None, None)] * 2
    assert store.fetch("SELECT count(*) FROM run_epochs")[1] == [(1,)]
    # v3 takes incomplete runs; ok_runs excludes them; the summaries count them
    with store.transaction() as con:
        con.execute(
            "INSERT INTO runs (run_id, sweep, space, error, flops, status, created_at) "
            "VALUES ('half', 'old', 'A', 50, 5, 'incomplete', TIMESTAMP '2020-01-03')"
        )
    assert store.fetch("SELECT run_id FROM ok_runs")[1] == [("ok1",)]
    summary = store.fetch("SELECT n, n_ok, n_failed, n_incomplete FROM space_summary")[1]
    assert summary == [(3, 1, 1, 1)]
    assert store.fetch("SELECT n_incomplete FROM sweep_progress")[1] == [(1,)]
    assert store.fetch("SELECT source FROM runs WHERE run_id = 'half'")[1] == [("sweep",)]


def test_newer_store_is_refused(store_path: Path) -> None:
    open_store(store_path)
    con = duckdb.connect(str(store_path))
    con.execute("INSERT INTO schema_version VALUES (99, NULL)")
    con.close()
    with pytest.raises(StoreError, match="newer than this edftools"):
        open_store(store_path, read_only=True)
    with pytest.raises(StoreError, match="newer than this edftools"):
        open_store(store_path)


def test_foreign_duckdb_file_is_not_touched(store_path: Path) -> None:
    con = duckdb.connect(str(store_path))
    con.execute("CREATE TABLE something (x INTEGER)")
    con.close()
    before = sha256(store_path)
    for read_only in (True, False):
        with pytest.raises(StoreError, match="not an edftools store"):
            open_store(store_path, read_only=read_only)
    assert sha256(store_path) == before


@pytest.mark.parametrize("read_only", [True, False])
def test_garbage_file_is_a_store_error(store_path: Path, read_only: bool) -> None:
    store_path.write_bytes(b"this is not a database\n" * 500)
    before = sha256(store_path)
    with pytest.raises(StoreError, match="not a valid DuckDB database"):
        open_store(store_path, read_only=read_only)
    assert sha256(store_path) == before


def test_reader_never_creates_a_store(store_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        open_store(store_path, read_only=True)
    assert not store_path.exists()


def test_directory_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        open_store(tmp_path)


def test_path_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(STORE_ENV_VAR, raising=False)
    assert resolve_store_path(None) == DEFAULT_STORE_PATH == Path("data/edftools.duckdb")
    monkeypatch.setenv(STORE_ENV_VAR, str(tmp_path / "env.duckdb"))
    assert resolve_store_path(None) == tmp_path / "env.duckdb"
    assert resolve_store_path(tmp_path / "explicit.duckdb") == tmp_path / "explicit.duckdb"
    store = open_store()
    assert store.path == tmp_path / "env.duckdb" and store.path.exists()


def test_default_path_is_created_under_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(STORE_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    with open_store() as store:
        assert store.path == DEFAULT_STORE_PATH
    assert (tmp_path / "data" / "edftools.duckdb").is_file()


def test_v5_store_is_upgraded_to_v6_with_reruns(store_path: Path) -> None:
    con = duckdb.connect(str(store_path))
    try:
        assert schema.migrate(con, target=5) == [1, 2, 3, 4, 5]
        con.execute("INSERT INTO sweeps VALUES ('old', 'r', 'h', TIMESTAMP '2020-01-01')")
        con.execute(
            "INSERT INTO runs (run_id, sweep, space, error, flops, status, created_at) "
            "VALUES ('v5run', 'old', 'A', 33.5, 1000, 'ok', TIMESTAMP '2020-01-01')"
        )
    finally:
        con.close()
    assert "rerun_of" not in _columns(store_path, "runs")
    store = open_store(store_path)
    assert store.schema_version == schema.SCHEMA_VERSION >= 6
    assert _columns(store_path, "runs") == list(schema.RUN_COLUMN_NAMES)
    assert store.fetch("SELECT rerun_of, replicate FROM runs")[1] == [(None, None)]
    store.ensure_sweep("sw", "x")
    store.write_run(dataclasses.replace(make_record("r1"), rerun_of="v5run", replicate=1))
    rows = store.fetch("SELECT run_id, rerun_of, replicate FROM runs ORDER BY run_id")[1]
    assert rows == [("r1", "v5run", 1), ("v5run", None, None)]


@pytest.mark.parametrize(
    ("rerun_of", "replicate", "message"),
    [
        ("r1", 1, "'rerun_of': must be the run id of another run"),
        (None, 1, "'replicate': must be NULL, or >= 1 for a rerun"),
        ("x", 0, "'replicate': must be NULL, or >= 1 for a rerun"),
    ],
)
def test_bad_rerun_columns_are_refused(store_path: Path, rerun_of, replicate, message) -> None:
    store = open_store(store_path)
    store.ensure_sweep("sw", "x")
    record = dataclasses.replace(make_record("r1"), rerun_of=rerun_of, replicate=replicate)
    with pytest.raises(StoreError, match=message):
        store.write_run(record)


def test_v6_store_is_upgraded_to_v7_with_null_futility_columns(store_path: Path) -> None:
    """Looks stored before v7 keep every value; their futility p-value and level are NULL."""
    con = duckdb.connect(str(store_path))
    try:
        assert schema.migrate(con, target=6) == [1, 2, 3, 4, 5, 6]
        v4 = [name for name, _ in schema.LOOK_COLUMNS_V4]
        assert [r[0] for r in con.execute("DESCRIBE looks").fetchall()] == v4
        con.execute(
            "INSERT INTO looks (sweep, look, step, parent, restricted, p_no_loss, verdict) "
            "VALUES ('old', 1, 0, 'A', 'B', 0.01, 'inconclusive')"
        )
    finally:
        con.close()
    store = open_store(store_path)
    assert store.schema_version == schema.SCHEMA_VERSION >= 7
    assert _columns(store_path, "looks") == list(schema.LOOK_COLUMN_NAMES)
    rows = store.fetch("SELECT p_no_loss, verdict, p_futility, level_futility FROM looks")[1]
    assert rows == [(0.01, "inconclusive", None, None)]
