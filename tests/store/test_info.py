"""`edftools info` and store_summary: what a store holds, read-only."""

from __future__ import annotations

import json
from pathlib import Path

from store_testlib import make_record, sha256

from edftools.store import open_store
from edftools.store.schema import SCHEMA_VERSION
from edftools.store.summary import DataKey, format_summary, store_summary


def test_summary_of_the_filled_store(filled_store: Path) -> None:
    s = store_summary(open_store(filled_store, read_only=True))
    assert s.schema_version == SCHEMA_VERSION and s.file_bytes == filled_store.stat().st_size
    assert s.n_runs == 5 and s.statuses == {"ok": 3, "diverged": 1, "failed": 1}
    assert s.datasets == {DataKey("digits", 8): 5}
    (sweep,) = s.sweeps
    assert sweep.name == "sw" and sweep.created_at is not None
    assert sweep.spaces == {"AnyNetX_A": 2, "AnyNetX_B": 3}
    assert sweep.statuses == {"ok": 3, "diverged": 1, "failed": 1}


def test_sweeps_in_creation_order_with_empty_ones(filled_store: Path) -> None:
    store = open_store(filled_store)
    store.ensure_sweep("later", "[sweep]\nname = 'later'\n")
    store.ensure_sweep("empty", "x")
    store.write_run(make_record("l1", sweep="later", space="RegNetX", status="failed"))
    s = store_summary(store)
    assert [x.name for x in s.sweeps] == ["sw", "later", "empty"]
    assert [x.n_runs for x in s.sweeps] == [5, 1, 0]
    assert s.sweeps[2].spaces == {} and s.sweeps[2].statuses == {}
    assert s.statuses == {"ok": 3, "diverged": 1, "failed": 2}
    text = format_summary(s)
    assert "sweep empty  (created " in text and "0 runs: none)" in text
    assert "  spaces    RegNetX: 1" in text


def test_info_command_text_and_json(filled_store: Path, cli) -> None:
    before = sha256(filled_store)
    code, out, err = cli("info", "--store", str(filled_store))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"store     {filled_store}"
    assert lines[1].startswith("file      ") and lines[1].endswith(f", schema v{SCHEMA_VERSION}")
    assert lines[2] == "runs      5 (ok: 3, diverged: 1, failed: 1)"
    assert lines[3] == "datasets  digits at 8 px: 5"
    assert lines[4] == "sweeps    1"
    assert lines[6].startswith("sweep sw  (created ") and lines[6].endswith(
        " UTC; 5 runs: ok: 3, diverged: 1, failed: 1)"
    )
    assert lines[7] == "  spaces    AnyNetX_A: 2, AnyNetX_B: 3"
    code, out, _ = cli("info", "--store", str(filled_store), "--json")
    data = json.loads(out)
    assert code == 0 and data["runs"] == 5 and data["schema_version"] == SCHEMA_VERSION
    assert data["datasets"] == [{"dataset": "digits", "resolution": 8, "runs": 5}]
    assert data["sweeps"][0]["spaces"] == {"AnyNetX_A": 2, "AnyNetX_B": 3}
    assert sha256(filled_store) == before  # read-only


def test_info_on_a_missing_store_is_one_line(tmp_path: Path, cli) -> None:
    missing = tmp_path / "none.duckdb"
    code, out, err = cli("info", "--store", str(missing))
    assert code == 2 and out == "" and err.count("\n") == 1 and "no store at" in err
    assert not missing.exists()


def test_info_is_listed_in_the_help(cli) -> None:
    code, out, _ = cli("--help")
    assert code == 0 and "  info " in out
