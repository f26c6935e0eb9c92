"""The ``looks`` table: rows from a chain's records, store → export → import round trips, the
futility rule's columns (v7) in all of them, and looks files written before v7."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edftools.errors import StoreError
from edftools.stats import Margin, unstratified
from edftools.stats.sequential import SequentialChain, SequentialDesign, chain_steps
from edftools.store import open_store
from edftools.store.looks import (
    OPTIONAL_LOOK_COLUMNS,
    export_looks,
    import_looks,
    is_looks_file,
    look_rows,
    looks_frame,
    replace_looks,
)
from edftools.store.schema import LOOK_COLUMN_NAMES

FUTILITY_COLUMNS = ["p_futility", "level_futility"]


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    """Two looks of a 2-step chain (equal spaces, then a 1.5 pp gain) on simulated errors."""
    rng = np.random.default_rng(3)
    errors = [4 + rng.gamma(2, 1.5, 200) + s for s in (0.0, 0.0, -1.5)]
    chain = SequentialChain(chain_steps(3), SequentialDesign(100, 200), Margin(), seed=1)
    for n in (100, 200):
        chain.look([(unstratified(errors[i][:n]), unstratified(errors[i + 1][:n])) for i in (0, 1)])
    steps = [("A", "B"), ("B", "C")]
    return look_rows("sw", chain.history, steps, {"max_n": 200})


def test_rows_carry_the_futility_test(rows) -> None:
    assert tuple(FUTILITY_COLUMNS) == OPTIONAL_LOOK_COLUMNS
    # B -> C (the 1.5 pp gain) is decided at the first look, A -> B is looked at twice
    assert [(r["look"], r["parent"], r["restricted"]) for r in rows] == [
        (1, "A", "B"),
        (1, "B", "C"),
        (2, "A", "B"),
    ]
    assert all(set(LOOK_COLUMN_NAMES) == set(r) for r in rows)
    assert all(0.0 < r["p_futility"] <= 1.0 and r["level_futility"] > 0.0 for r in rows)


def test_store_export_import_round_trip_keeps_the_futility_columns(rows, tmp_path: Path) -> None:
    store = open_store(tmp_path / "a.duckdb")
    replace_looks(store, "sw", rows)
    stored = looks_frame(store, "sw")
    assert list(stored.columns) == list(LOOK_COLUMN_NAMES)
    for name in FUTILITY_COLUMNS:
        assert stored[name].tolist() == [r[name] for r in rows]
    out = tmp_path / "sw.looks.parquet"
    assert export_looks(store, out, "sw") == len(rows)
    assert set(FUTILITY_COLUMNS) <= set(pd.read_parquet(out).columns)
    other = open_store(tmp_path / "b.duckdb")
    assert import_looks(other, out) == len(rows)
    again = looks_frame(other, "sw").drop(columns=["created_at"])
    assert again.equals(stored.drop(columns=["created_at"]))


def test_a_looks_file_from_before_v7_imports_with_null_futility(rows, tmp_path: Path) -> None:
    old = tmp_path / "old.looks.parquet"
    frame = pd.DataFrame(rows, columns=list(LOOK_COLUMN_NAMES)).drop(columns=FUTILITY_COLUMNS)
    frame.to_parquet(old, index=False)
    assert is_looks_file(old)
    store = open_store(tmp_path / "c.duckdb")
    assert import_looks(store, old) == len(rows)
    stored = looks_frame(store, "sw")
    assert stored[FUTILITY_COLUMNS].isna().all().all()
    nulls = store.fetch("SELECT count(*) FROM looks WHERE p_futility IS NULL")[1]
    assert nulls == [(len(rows),)]
    assert stored["verdict"].tolist() == [r["verdict"] for r in rows]


def test_a_file_missing_a_required_column_is_refused(rows, tmp_path: Path) -> None:
    bad = tmp_path / "bad.looks.parquet"
    pd.DataFrame(rows).drop(columns=["p_no_loss"]).to_parquet(bad, index=False)
    with pytest.raises(StoreError, match="missing p_no_loss"):
        import_looks(open_store(tmp_path / "d.duckdb"), bad)
