"""Writer and reader API: write_run atomicity, resume bookkeeping, sweeps, frames."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from store_testlib import make_record, sha256, small_config

import edftools.store.store as store_module
from edftools.errors import StoreError
from edftools.store import open_store


def test_write_run_stores_row_flattened_config_and_epochs(filled_store: Path) -> None:
    store = open_store(filled_store, read_only=True)
    df = store.runs_frame(status=None)
    assert list(df.run_id) == ["a1", "a2", "b1", "b2", "b3"]
    a1 = df.set_index("run_id").loc["a1"]
    assert (a1.error, a1.best_error, a1.status, a1.flops, a1.params, a1.acts) == (
        10.0,
        10.0,
        "ok",
        123_456,
        7_890,
        1_234,
    )
    assert (a1.d1, a1.d2, a1.w1, a1.w2, a1.b1, a1.g1, a1.num_stages, a1.depth) == (
        1,
        1,
        16,
        32,
        1.0,
        8,
        2,
        2,
    )
    assert pd.isna(a1.d3) and pd.isna(a1.w5) and pd.isna(a1.b3) and pd.isna(a1.w0)
    assert (a1.block_type, a1.stem_type, a1.resolution, a1.stem_width) == ("X", "small", 8, 16)
    assert a1.source == "sweep" and a1.device == "cpu" and a1.dataset == "digits"
    assert a1.versions == '{"edftools":"0.1.0","torch":"2.13.0"}'
    epochs = store.epochs_frame(["a1"])
    assert list(epochs.epoch) == [1, 2, 3]
    assert list(epochs.test_error) == [12.0, 11.0, 10.0]
    failed = df.set_index("run_id").loc["b3"]
    assert failed.status == "failed" and math.isnan(failed.error) and failed.message == "boom"


def test_regnet_params_come_from_config_extra(store_path: Path) -> None:
    store = open_store(store_path)
    store.ensure_sweep("sw", "x")
    config = small_config((24, 56, 152), w0=24, wa=36.44, wm=2.49, depth=3)
    store.write_run(make_record("r", config=config))
    row = store.fetch("SELECT w0, wa, wm, depth, w3, d4 FROM runs")[1][0]
    assert row == (24.0, 36.44, 2.49, 3, 152, None)


def test_runs_frame_filters(filled_store: Path) -> None:
    store = open_store(filled_store, read_only=True)
    assert list(store.runs_frame().run_id) == ["a1", "a2", "b1"]
    assert list(store.runs_frame(sweep="sw", spaces="AnyNetX_B").run_id) == ["b1"]
    both = store.runs_frame(spaces=["AnyNetX_B"], status=["ok", "diverged"])
    assert list(both.run_id) == ["b1", "b2"]
    with pytest.raises(StoreError, match="no runs in sweep 'nope'"):
        store.runs_frame(sweep="nope")
    with pytest.raises(StoreError, match="no runs of space 'RegNetX'"):
        store.runs_frame(spaces=["AnyNetX_A", "RegNetX"])


def test_finished_run_ids_skip_failed_runs(filled_store: Path) -> None:
    store = open_store(filled_store)
    assert store.finished_run_ids("sw") == {"a1", "a2", "b1", "b2"}
    assert store.finished_run_ids("sw", statuses=("failed",)) == {"b3"}
    assert store.finished_run_ids("other") == set()


def test_failed_run_is_replaced_on_rerun_but_finished_runs_are_not(filled_store: Path) -> None:
    store = open_store(filled_store)
    store.write_run(make_record("b3", space="AnyNetX_B", error=20.0, n_epochs=2))
    row = store.fetch("SELECT status, error FROM runs WHERE run_id = 'b3'")[1]
    assert row == [("ok", 20.0)]
    assert store.fetch("SELECT count(*) FROM epochs WHERE run_id = 'b3'")[1] == [(2,)]
    before = sha256(filled_store)
    with pytest.raises(StoreError, match="run a1: already stored with status 'ok'"):
        store.write_run(make_record("a1", error=1.0))
    assert sha256(filled_store) == before


def test_write_run_is_one_transaction(filled_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(filled_store)
    real_insert = store_module.insert_rows

    def insert_then_fail(con, runs, epochs):  # the runs row goes in, then the epochs fail
        real_insert(con, runs, [])
        assert con.execute("SELECT count(*) FROM runs WHERE run_id = 'x'").fetchone() == (1,)
        raise OSError("disk full while writing epochs")

    monkeypatch.setattr(store_module, "insert_rows", insert_then_fail)
    before = sha256(filled_store)
    with pytest.raises(OSError, match="disk full"):
        store.write_run(make_record("x"))
    assert sha256(filled_store) == before
    assert store.fetch("SELECT count(*) FROM runs WHERE run_id = 'x'")[1] == [(0,)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"error": float("nan")}, "field 'error': is missing or NaN"),
        ({"error": 101.0}, "field 'error': must be a percentage"),
        ({"error": -1.0}, "field 'error': must be a percentage"),
        ({"space": ""}, "field 'space': is missing or empty"),
        ({"flops": -5}, "field 'flops': must be non-negative"),
        ({"config": {"stages": []}}, "field 'config': is not a valid network config"),
    ],
)
def test_invalid_run_writes_nothing(
    filled_store: Path, changes: dict[str, object], message: str
) -> None:
    import dataclasses

    store = open_store(filled_store)
    record = make_record("bad")
    result_fields = {k: v for k, v in changes.items() if k == "error"}
    record_fields = {k: v for k, v in changes.items() if k != "error"}
    record = dataclasses.replace(
        record, result=dataclasses.replace(record.result, **result_fields), **record_fields
    )
    before = sha256(filled_store)
    with pytest.raises(StoreError, match=message):
        store.write_run(record)
    assert sha256(filled_store) == before


def test_duplicate_epoch_numbers_are_rejected(store_path: Path) -> None:
    import dataclasses

    store = open_store(store_path)
    store.ensure_sweep("sw", "x")
    record = make_record("r")
    epochs = record.result.epochs
    bad = dataclasses.replace(record.result, epochs=(*epochs, epochs[0]))
    with pytest.raises(StoreError, match="epoch 1 appears twice"):
        store.write_run(dataclasses.replace(record, result=bad))
    assert store.fetch("SELECT count(*) FROM runs")[1] == [(0,)]


def test_sweeps_are_registered_once_per_recipe(store_path: Path) -> None:
    store = open_store(store_path)
    assert store.ensure_sweep("sw", "recipe A") is True
    assert store.ensure_sweep("sw", "recipe A") is False
    with pytest.raises(StoreError, match="already exists with a different recipe"):
        store.ensure_sweep("sw", "recipe B")
    with pytest.raises(StoreError, match="sweep 'other' is not registered"):
        store.write_run(make_record("r", sweep="other"))
    row = store.fetch("SELECT name, recipe, length(recipe_hash) FROM sweeps")[1]
    assert row == [("sw", "recipe A", 64)]


def test_read_only_store_refuses_writes(filled_store: Path) -> None:
    store = open_store(filled_store, read_only=True)
    with pytest.raises(StoreError, match="opened read-only"):
        store.ensure_sweep("new", "x")
    with pytest.raises(StoreError, match="read-only"):
        store.query("DELETE FROM runs")


def test_query_returns_frames_and_maps_sql_errors(filled_store: Path) -> None:
    store = open_store(filled_store, read_only=True)
    df = store.query("SELECT space, n, n_ok, min_error FROM space_summary ORDER BY space")
    assert df.values.tolist() == [["AnyNetX_A", 2, 2, 10.0], ["AnyNetX_B", 3, 1, 12.5]]
    with pytest.raises(StoreError, match=r"^SQL error: .*no_such_table"):
        store.query("SELECT * FROM no_such_table")


def test_lock_timeout_gives_a_busy_error(filled_store: Path) -> None:
    import subprocess
    import sys
    import time

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(filled_store)!r})\n"
            "print('held', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        store = store_module.Store(filled_store, read_only=True, lock_timeout=0.3)
        start = time.monotonic()
        with pytest.raises(StoreError, match="is busy"):
            store.fetch("SELECT 1")
        assert 0.3 <= time.monotonic() - start < 25  # gave up, not waited out the 30 s hold
    finally:
        holder.kill()
        holder.wait()


def test_diverged_run_with_nan_error_is_stored_as_100(store_path: Path) -> None:
    import dataclasses

    store = open_store(store_path)
    store.ensure_sweep("sw", "x")
    record = make_record("d", status="diverged")
    nan = float("nan")
    result = dataclasses.replace(record.result, error=nan, best_error=nan)
    store.write_run(dataclasses.replace(record, result=result))
    assert store.fetch("SELECT status, error, best_error FROM runs")[1] == [
        ("diverged", 100.0, None)
    ]


def test_sweep_epochs_keep_a_diverged_loss_as_null(store_path: Path) -> None:
    import dataclasses

    store = open_store(store_path)
    store.ensure_sweep("sw", "x")
    record = make_record("d", status="diverged", error=100.0, n_epochs=2)
    last = dataclasses.replace(record.result.epochs[-1], train_loss=float("inf"))
    result = dataclasses.replace(record.result, epochs=(record.result.epochs[0], last))
    store.write_run(dataclasses.replace(record, result=result))
    rows = store.fetch("SELECT epoch, train_loss FROM epochs ORDER BY epoch")[1]
    assert rows == [(1, 2.0), (2, None)]


def test_a_held_store_opens_the_file_once_for_all_its_reads(
    filled_store: Path, monkeypatch
) -> None:
    opened: list[bool] = []
    original = store_module.connect_with_retry

    def counted(*args, **kwargs):
        opened.append(True)
        return original(*args, **kwargs)

    monkeypatch.setattr(store_module, "connect_with_retry", counted)
    store = open_store(filled_store, read_only=True, lazy=True)
    with store.held():
        runs = store.runs_frame(status=None)
        sweeps = store.fetch("SELECT name FROM sweeps")[1]
        epochs = store.epochs_frame(["a1"])
        with pytest.raises(StoreError, match="no_such_table"):  # an SQL error, one line
            store.query("SELECT * FROM no_such_table")
    assert len(opened) == 1
    assert len(runs) == 5 and sweeps == [("sw",)] and list(epochs.epoch) == [1, 2, 3]
    store.runs_frame()  # after the block, each operation opens the file again
    assert len(opened) == 2
