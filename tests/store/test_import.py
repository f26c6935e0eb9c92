"""Import (pycls, CSV, Parquet) and export: mappings, round trips, malformed files."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from store_testlib import make_record, pycls_job, sha256

from edftools.errors import StoreError
from edftools.spaces import generate_regnet
from edftools.spaces.config import NetConfig, adjust_group_compatibility
from edftools.store import export_runs, import_file, load_import_file, open_store

# ---------------------------------------------------------------------------- pycls


@pytest.mark.parametrize(
    ("params", "group_width", "widths", "depths"),
    [
        ((13, 24, 36.44, 2.49), 8, [24, 56, 152, 368], [1, 1, 4, 7]),  # RegNetX-200MF
        ((16, 48, 36.97, 2.24), 24, [48, 96, 240, 528], [1, 3, 5, 7]),  # RegNetX-600MF
        ((15, 48, 32.54, 2.32), 16, [48, 112, 256, 608], [1, 3, 7, 4]),  # RegNetY-600MF
    ],
)
def test_regnet_stages_match_published_models(params, group_width, widths, depths) -> None:
    gen = generate_regnet(params[1], params[2], params[3], params[0])
    raw_widths, raw_depths = list(gen.widths), list(gen.depths)
    assert raw_depths == depths
    n = len(raw_widths)
    adjusted, _ = adjust_group_compatibility(raw_widths, [1] * n, [group_width] * n)
    assert adjusted == widths
    if params[0] == 16:  # before the group adjustment: 104 -> 96 and 536 -> 528
        assert raw_widths == [48, 104, 240, 536]


def _write_jobs(path: Path, jobs: list[dict]) -> Path:
    path.write_text(json.dumps(jobs))
    return path


def test_pycls_sweep_file_maps_to_runs(tmp_path: Path, store_path: Path) -> None:
    jobs = [
        pycls_job("anynet", seed=1, err=40.0),
        pycls_job("regnet", seed=2, err=35.0, n_epochs=4),
        pycls_job("regnet", seed=3, err=30.0, REGNET__SE_ON=True),
        pycls_job("anynet", seed=4, err=45.0, ANYNET__STEM_TYPE="res_stem_in"),
        pycls_job("resnet", seed=5, err=50.0),
    ]
    del jobs[1]["test_epoch"]["top1_err"]  # then error falls back to min_top1_err
    path = _write_jobs(tmp_path / "AnyNetX_A.json", jobs)
    batch = import_file(store_path, path, "pycls")
    assert batch.notes == (
        "1 record(s) imported without a config: model type 'resnet' has no NetConfig equivalent",
        "1 record(s) imported without a config: stem type 'res_stem_in' has no NetConfig "
        "equivalent",
    )
    store = open_store(store_path, read_only=True)
    df = store.runs_frame().set_index("seed")
    assert set(df.space) == {"AnyNetX_A"} and set(df.sweep) == {"AnyNetX_A"}
    assert set(df.source) == {"import:pycls"} and df.index.is_unique
    # error = last epoch's top1_err (40.5), best_error = min over min_top1_err (40.0)
    assert (df.loc[1, "error"], df.loc[1, "best_error"]) == (40.5, 40.0)
    assert (df.loc[2, "error"], df.loc[2, "best_error"]) == (35.0, 35.0)
    assert (df.loc[1, "flops"], df.loc[1, "params"], df.loc[1, "acts"]) == (
        398_000_001,
        4_100_000,
        3_900_000,
    )
    assert (df.loc[1, "dataset"], df.loc[1, "epochs"], df.loc[1, "resolution"]) == (
        "imagenet",
        3,
        224,
    )
    assert df.loc[1, "train_seconds"] == 3 * 12.5
    # AnyNet: widths adjusted for group compatibility exactly as pycls (b = 1 / BOT_MUL)
    anynet = NetConfig.from_json(df.loc[1, "config"])
    assert anynet.block_type == "X" and anynet.stem_type == "imagenet"
    assert anynet.bottleneck_ratios == [1, 1, 2, 1]
    assert anynet.widths == [32, 64, 160, 384] and anynet.group_widths == [8, 16, 16, 48]
    assert list(df.loc[1, ["d1", "d2", "d3", "d4", "w3", "b3", "g4"]]) == [1, 2, 4, 3, 160, 2, 48]
    # RegNet: expanded by the quantized linear rule, parameters in extra and columns
    regnet = NetConfig.from_json(df.loc[2, "config"])
    assert regnet.widths == [24, 56, 152, 368] and regnet.depths == [1, 1, 4, 7]
    assert dict(regnet.extra) == {"d": 13, "w0": 24.0, "wa": 36.44, "wm": 2.49, "g": 8, "b": 1}
    assert (df.loc[2, "w0"], df.loc[2, "wa"], df.loc[2, "wm"], df.loc[2, "depth"]) == (
        24,
        36.44,
        2.49,
        13,
    )
    assert NetConfig.from_json(df.loc[3, "config"]).block_type == "Y"
    assert pd.isna(df.loc[4, "config"]) and pd.isna(df.loc[5, "config"])
    assert df.loc[4, "resolution"] == 224
    epochs = store.query("SELECT * FROM run_epochs WHERE space = 'AnyNetX_A' ORDER BY epoch")
    first = epochs[epochs.run_id == df.loc[1, "run_id"]]
    assert list(first.epoch) == [1, 2, 3]
    assert list(first.test_error) == [44.0, 40.0, 40.5]
    assert list(first.train_loss) == [3.0, 1.5, 1.0]
    assert list(first.seconds) == [12.5] * 3


def test_import_ids_are_deterministic(tmp_path: Path) -> None:
    path = _write_jobs(tmp_path / "s.json", [pycls_job(seed=1), pycls_job(seed=2)])
    first = load_import_file(path, space="X")
    again = load_import_file(path, space="X")
    assert [r["run_id"] for r in first.runs] == [r["run_id"] for r in again.runs]
    assert all(r["run_id"].startswith("imp-") for r in first.runs)
    other = load_import_file(path, space="Y")
    assert {r["run_id"] for r in first.runs}.isdisjoint(r["run_id"] for r in other.runs)


# ---------------------------------------------------------------------------- tables


def _runs_and_epochs(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    store = open_store(path, read_only=True)
    runs = store.query("SELECT * FROM runs ORDER BY run_id")
    epochs = store.query("SELECT * FROM epochs ORDER BY run_id, epoch")
    return runs, epochs


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_import_round_trip_is_exact(
    filled_store: Path, tmp_path: Path, fmt: str, cli
) -> None:
    # add pycls rows (NULL configs, regnet extras) so the round trip covers every kind of row
    jobs = [pycls_job("regnet", seed=7), pycls_job("resnet", seed=8)]
    import_file(filled_store, _write_jobs(tmp_path / "p.json", jobs), space="RegNetX")
    with open_store(filled_store) as store:  # and a seed-noise rerun (rerun_of, replicate)
        rerun = make_record("a1-r1", error=11.0, seed=5)
        store.write_run(dataclasses.replace(rerun, rerun_of="a1", replicate=1))
    out = tmp_path / f"runs.{fmt}"
    code, stdout, _ = cli("export", "--out", str(out), "--store", str(filled_store))
    assert code == 0 and stdout.strip() == f"exported 8 run(s) to {out}"
    fresh = tmp_path / "fresh.duckdb"
    code, stdout, err = cli("import", str(out), "--store", str(fresh))
    assert code == 0, err
    assert stdout.startswith("imported 8 run(s) and 24 epoch row(s)")
    runs_a, epochs_a = _runs_and_epochs(filled_store)
    runs_b, epochs_b = _runs_and_epochs(fresh)
    pd.testing.assert_frame_equal(runs_a, runs_b)
    pd.testing.assert_frame_equal(epochs_a, epochs_b)


def test_export_one_sweep_and_errors(filled_store: Path, tmp_path: Path, cli) -> None:
    store = open_store(filled_store, read_only=True)
    with pytest.raises(StoreError, match="no runs to export in sweep 'nope'"):
        export_runs(store, tmp_path / "x.csv", sweep="nope")
    with pytest.raises(StoreError, match="unknown export format 'xml'; choose one of: parquet"):
        export_runs(store, tmp_path / "x.csv", "xml")
    assert export_runs(store, tmp_path / "sw.parquet", sweep="sw") == 5
    assert pq.read_table(tmp_path / "sw.parquet").num_rows == 5
    code, _, err = cli(
        "export", "--out", str(tmp_path / "no/dir/x.csv"), "--store", str(filled_store)
    )
    assert code == 2 and "does not exist" in err
    # the failed exports (unknown sweep, unknown format, missing folder) left no file behind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([filled_store.name, "sw.parquet"])


def test_minimal_csv_gets_defaults(tmp_path: Path, store_path: Path) -> None:
    path = tmp_path / "nds.csv"
    path.write_text("space,error,params\nResNet,7.5,1200000\nResNet,8.25,900000\nVanilla,9,\n")
    with pytest.raises(
        StoreError, match=r"row 3 \(run id imp-\w+\): field 'flops': one of flops, params, acts"
    ):
        load_import_file(path)
    path.write_text("space,error,params\nResNet,7.5,1200000\nResNet,8.25,900000\nVanilla,9,5\n")
    import_file(store_path, path)
    df = open_store(store_path, read_only=True).runs_frame()
    assert list(df.space) == ["ResNet", "ResNet", "Vanilla"]
    assert set(df.sweep) == {"nds"} and set(df.status) == {"ok"}
    assert set(df.source) == {"import:csv"} and df.config.isna().all()
    assert df.run_id.str.startswith("imp-").all()


def test_space_and_sweep_options_override(tmp_path: Path, store_path: Path) -> None:
    path = tmp_path / "t.parquet"
    frame = pd.DataFrame({"space": ["a", "b"], "error": [1.0, 2.0], "flops": [1, 2]}, index=[7, 9])
    frame.to_parquet(path)  # a non-default pandas index is stored as an extra column: ignored
    import_file(store_path, path, space="S", sweep="W")
    rows = open_store(store_path, read_only=True).fetch("SELECT DISTINCT space, sweep FROM runs")
    assert rows[1] == [("S", "W")]


def test_replace_overwrites_existing_runs(tmp_path: Path, store_path: Path, cli) -> None:
    path = tmp_path / "t.csv"
    path.write_text("run_id,space,error,flops\nr1,A,10,5\nr2,A,11,5\n")
    assert cli("import", str(path), "--store", str(store_path))[0] == 0
    path.write_text("run_id,space,error,flops\nr1,A,20,5\n")
    before = sha256(store_path)
    code, _, err = cli("import", str(path), "--store", str(store_path))
    assert code == 2 and "1 run id(s) already in the store (r1); use --replace" in err
    assert sha256(store_path) == before
    code, _, err = cli("import", str(path), "--store", str(store_path), "--replace")
    assert code == 0, err
    rows = open_store(store_path, read_only=True).fetch("SELECT run_id, error FROM runs ORDER BY 1")
    assert rows[1] == [("r1", 20.0), ("r2", 11.0)]


# ---------------------------------------------------------------------------- malformed

GOOD_CSV = "run_id,space,error,flops\nr1,A,10,5\n"


def _bad_pycls(tmp: Path, mutate) -> Path:
    jobs = [pycls_job(seed=1), pycls_job(seed=2), pycls_job(seed=3)]
    mutate(jobs)
    return _write_jobs(tmp / "bad.json", jobs)


def _del(d: dict, *keys: str) -> None:
    for key in keys[:-1]:
        d = d[key]
    del d[keys[-1]]


PYCLS_CASES = {
    "complexity not an object": (
        lambda j: j[2].update(complexity=[1, 2]),
        "bad.json: record 2: field 'complexity': expected an object",
    ),
    "test log not an object": (
        lambda j: j[1].update(test_epoch="3 epochs"),
        "record 1: field 'test_epoch': expected an object",
    ),
    "ema error text": (
        lambda j: j[1].update(test_ema_epoch={"top1_err": ["bad"], "min_top1_err": [1.0]}),
        "record 1: field 'test_ema_epoch.top1_err': expected a number, got 'bad'",
    ),
    "stderr not text": (
        lambda j: (_del(j[1], "test_epoch"), j[1].update(err=5)),
        "record 1: field 'err': expected text, got int",
    ),
    "text error": (
        lambda j: j[1]["test_epoch"].update(top1_err=["x", "y", "z"]),
        "record 1: field 'test_epoch.top1_err': expected a number, got 'x'",
    ),
    "error above 100": (
        lambda j: j[0]["test_epoch"].update(top1_err=[101.0, 101.0, 101.0]),
        r"record 0 \(run id imp-\w+\): field 'error': must be a percentage in \[0, 100\]",
    ),
    "NaN error": (
        lambda j: j[0]["test_epoch"].update(top1_err=[float("nan")] * 3),
        r"record 0 \(run id imp-\w+\): field 'error': is missing or NaN",
    ),
    "flops not integer": (
        lambda j: j[2]["complexity"].update(flops="many"),
        "record 2: field 'complexity.flops': expected an integer",
    ),
    "depths not a list": (
        lambda j: j[1]["cfg"]["ANYNET"].update(DEPTHS="1,2"),
        "record 1: field 'cfg.ANYNET.DEPTHS': expected a non-empty list of integers",
    ),
    "widths length": (
        lambda j: j[1]["cfg"]["ANYNET"].update(WIDTHS=[8, 16]),
        "record 1: field 'cfg.ANYNET.WIDTHS': 2 entries, 4 depths",
    ),
    "duplicate record": (
        lambda j: j.append(json.loads(json.dumps(j[0]))),
        "record 3: field 'run_id': duplicate run id",
    ),
    "not an object": (lambda j: j.append(3), "record 3: expected a JSON object, got int"),
}


@pytest.mark.parametrize("case", sorted(PYCLS_CASES))
def test_malformed_pycls_file_imports_nothing(
    case: str, tmp_path: Path, filled_store: Path, cli
) -> None:
    mutate, message = PYCLS_CASES[case]
    path = _bad_pycls(tmp_path, mutate)
    before = sha256(filled_store)
    code, out, err = cli("import", str(path), "--format", "pycls", "--store", str(filled_store))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("edftools: "), err
    assert re.search(message, err), err
    assert sha256(filled_store) == before


TABLE_CASES = {
    "missing error column": ("run_id,space,flops\nr1,A,5\n", "missing required column 'error'"),
    "missing space column": ("run_id,error,flops\nr1,1,5\n", "missing required column 'space'"),
    "no complexity column": ("space,error\nA,1\n", "needs one complexity column"),
    "unknown column": ("space,error,flops,colour\nA,1,5,red\n", "unknown column 'colour'"),
    "negative error": (GOOD_CSV + "r2,A,-3,5\n", "row 2 (run id r2): field 'error': must be"),
    "error over 100": (GOOD_CSV + "r2,A,100.5,5\n", "row 2 (run id r2): field 'error'"),
    "NaN error": (GOOD_CSV + "r2,A,,5\n", "row 2 (run id r2): field 'error': is missing or NaN"),
    "text flops": (GOOD_CSV + "r2,A,3,lots\n", "row 2 (run id r2): field 'flops': expected an"),
    "fractional flops": (GOOD_CSV + "r2,A,3,2.5\n", "row 2 (run id r2): field 'flops'"),
    "duplicate id": (GOOD_CSV + "r1,B,3,4\n", "row 2 (run id r1): field 'run_id': duplicate"),
    "bad status": (
        "run_id,space,error,flops,status\nr1,A,1,5,great\n",
        "row 1 (run id r1): field 'status': must be one of ok, diverged, failed",
    ),
    "best above error": (
        "space,error,best_error,flops\nA,10,11,5\n",
        "row 1 (run id imp-",
    ),
    "bad config": (
        'space,error,flops,config\nA,10,5,"{""stages"": 3}"\n',
        "field 'config': is not a valid network config",
    ),
    "config disagrees": (
        "space,error,flops,d1,config\nA,10,5,9," + '"{""stages"":[{""depth"":1,""width"":8}]}"\n',
        "field 'd1': 9 disagrees with the config (1)",
    ),
    "bad epoch log": (
        'space,error,flops,epoch_log\nA,10,5,"[{""epoch"": ""one""}]"\n',
        "epoch entry 0: field 'epoch': expected an integer, got 'one'",
    ),
    "ragged": ("space,error,flops\nA,10\n", "bad.csv: not a readable csv table"),
    "empty": ("space,error,flops\n", "the table has no rows"),
    "clash with store": ("run_id,space,error,flops\na1,A,10,5\n", "already in the store (a1)"),
}


@pytest.mark.parametrize("case", sorted(TABLE_CASES))
def test_malformed_table_imports_nothing(
    case: str, tmp_path: Path, filled_store: Path, cli
) -> None:
    text, message = TABLE_CASES[case]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    before = sha256(filled_store)
    code, out, err = cli("import", str(path), "--store", str(filled_store))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("edftools: "), err
    assert message in err, err
    assert sha256(filled_store) == before


def test_malformed_files_create_no_store(tmp_path: Path, cli) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("space,error\nA,1\n")
    store = tmp_path / "new" / "store.duckdb"
    assert cli("import", str(path), "--store", str(store))[0] == 2
    assert not store.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "Invalid value for '--format'"),
        ([], "cannot tell the format"),
    ],
)
def test_unknown_format(tmp_path: Path, store_path: Path, cli, args, message) -> None:
    path = tmp_path / "runs.txt"
    path.write_text(GOOD_CSV)
    code, _, err = cli("import", str(path), *args, "--store", str(store_path))
    assert code == 2 and message in err and err.count("\n") == 1
    assert not store_path.exists()


def test_garbage_files(tmp_path: Path, store_path: Path, cli) -> None:
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"\x00\x01 not parquet")
    code, _, err = cli("import", str(junk), "--store", str(store_path))
    assert code == 2 and "junk.parquet: not a readable parquet table" in err
    bad_json = tmp_path / "junk.json"
    bad_json.write_text("[{")
    code, _, err = cli("import", str(bad_json), "--store", str(store_path))
    assert code == 2 and "junk.json: not a readable JSON file" in err
    bad_json.write_text('{"cfg": {}}')
    code, _, err = cli("import", str(bad_json), "--store", str(store_path))
    assert code == 2 and "expected a non-empty JSON list" in err
    code, _, err = cli("import", str(tmp_path / "missing.csv"), "--store", str(store_path))
    assert code == 2 and "no such file" in err
    assert not store_path.exists()


def test_epoch_log_metrics_are_strict_on_import(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    head = "space,error,flops,epoch_log\n"
    path.write_text(head + 'A,10,5,"[{""epoch"": 1, ""train_loss"": NaN}]"\n')
    with pytest.raises(StoreError, match="epoch entry 0: field 'train_loss': must be finite"):
        load_import_file(path)
    path.write_text(head + 'A,10,5,"[{""epoch"": 1, ""test_error"": 140}]"\n')
    with pytest.raises(StoreError, match="field 'test_error': must be a percentage"):
        load_import_file(path)
    path.write_text(head + 'A,10,5,"[{""epoch"": 1, ""test_error"": 12.5, ""lr"": null}]"\n')
    batch = load_import_file(path)
    assert batch.epochs[0]["test_error"] == 12.5 and batch.epochs[0]["lr"] is None


def test_export_to_an_unknown_suffix_says_how_to_choose(filled_store: Path, tmp_path: Path, cli):
    code, out, err = cli("export", "--out", str(tmp_path / "x.txt"), "--store", str(filled_store))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err == (
        "edftools: cannot tell the export format of 'x.txt' from its suffix; choose one with "
        "--format (parquet, csv) or name the file .parquet, .pq, .csv\n"
    )
    code, _, _ = cli(
        "export", "--out", str(tmp_path / "x.txt"), "--format", "csv", "--store", str(filled_store)
    )
    assert code == 0 and (tmp_path / "x.txt").read_text().startswith("run_id,")
