"""Real pycls sweep files: crashed, never-logged and unfinished jobs, EMA errors, swept RegNets."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
from pycls_logs import collect, job_log, write_sweep
from store_testlib import pycls_job, sha256

from edftools.analysis.runs import select_runs
from edftools.analysis.settings import ERROR_COLUMNS
from edftools.errors import StoreError
from edftools.spaces import NetConfig, complexity, regnet_config
from edftools.store import import_file, load_import_file, open_store

# RegNetX-200MF as pycls's sweep runs it: MODEL.TYPE turned into anynet, cfg.REGNET kept
X200 = regnet_config(24, 36.44, 2.49, 13, 8)


def _cfg(seed: int, max_epoch: int = 3, swept_regnet: bool = False) -> dict:
    cfg = copy.deepcopy(pycls_job(seed=seed, n_epochs=max_epoch)["cfg"])
    if swept_regnet:
        cfg["ANYNET"].update(
            DEPTHS=X200.depths,
            WIDTHS=X200.widths,
            STRIDES=[2] * 4,
            BOT_MULS=[1.0] * 4,
            GROUP_WS=X200.group_widths,
        )
    return cfg


def _sweep(tmp_path: Path) -> Path:
    cx = {"flops": 398_000_000, "params": 4_100_000, "acts": 3_900_000}
    oom = "Traceback (most recent call last):\n  ...\nRuntimeError: CUDA out of memory\n"
    jobs = [
        collect(job_log(_cfg(1), cx, 3, 3, err=40.0), "/s/001/stdout.log", ""),
        collect(job_log(_cfg(2), cx, 0, 3), "/s/002/stdout.log", oom),  # crashed
        collect([], "/s/003/stdout.log", ""),  # never logged a line
        collect(job_log(_cfg(4), cx, 1, 3, err=50.0), "/s/004/stdout.log", ""),  # stopped
        collect(
            job_log(_cfg(5, swept_regnet=True), complexity(X200).as_dict(), 3, 3, err=35.0),
            "/s/005/stdout.log",
            "",
        ),
        collect(job_log(_cfg(6), None, 3, 3, ema=False), "/s/006/stdout.log", ""),
    ]
    return write_sweep(tmp_path / "sweep.json", jobs)


def test_real_sweep_keeps_every_job_with_its_status(tmp_path: Path, store_path: Path) -> None:
    batch = import_file(store_path, _sweep(tmp_path), "pycls", space="AnyNetX_A")
    assert "2 job(s) logged no test epoch: stored as failed" in batch.notes
    assert any("1 job(s) stopped before their last epoch" in n for n in batch.notes)
    store = open_store(store_path, read_only=True)
    runs = store.runs_frame(status=None)
    by_log = runs.dropna(subset=["seed"]).set_index("seed")
    assert sorted(runs.status) == ["failed", "failed", "incomplete", "ok", "ok", "ok"]
    crashed = by_log.loc[2]
    assert crashed.status == "failed" and crashed.message.endswith("CUDA out of memory")
    assert crashed.flops == 398_000_000 and not pd.isna(crashed.config)
    never = runs[runs.seed.isna()].iloc[0]
    assert never.status == "failed" and "never started" in never.message
    assert pd.isna(never.config) and pd.isna(never.flops)  # no complexity known
    stopped = by_log.loc[4]
    assert (stopped.status, stopped.epochs, stopped.error) == ("incomplete", 1, 60.0)
    assert stopped.message == "stopped after 1 of 3 epochs"
    done = by_log.loc[1]
    assert (done.status, done.epochs) == ("ok", 3)
    assert done.error == pytest.approx(40 + 10 / 3)
    assert done.ema_error == pytest.approx(40 + 10 / 3 - 0.5)
    assert done.ema_best_error == pytest.approx(40 + 10 / 3 - 0.5)
    no_ema = by_log.loc[6]
    assert pd.isna(no_ema.ema_error)  # NULL: the job logged no EMA test
    # complexity absent from the log: computed from the translated config
    assert no_ema.flops == complexity(NetConfig.from_json(no_ema.config)).flops
    # ok_runs excludes failed and incomplete jobs
    ok = store.fetch("SELECT count(*) FROM ok_runs")[1][0][0]
    assert ok == 3


def test_swept_regnet_keeps_its_regnet_parameters(tmp_path: Path, store_path: Path) -> None:
    import_file(store_path, _sweep(tmp_path), "pycls", space="RegNetX")
    runs = open_store(store_path, read_only=True).runs_frame(status=None).set_index("seed")
    swept = runs.loc[5]
    assert (swept.w0, swept.wa, swept.wm, swept.depth) == (24, 36.44, 2.49, 13)
    extra = NetConfig.from_json(swept.config).extra
    assert dict(extra) == {"d": 13, "w0": 24.0, "wa": 36.44, "wm": 2.49, "g": 8, "b": 1}
    plain = runs.loc[1]  # an AnyNet whose cfg.REGNET defaults generate other stages
    assert pd.isna(plain.w0) and dict(NetConfig.from_json(plain.config).extra) == {}


def test_ema_errors_are_report_error_columns(tmp_path: Path, store_path: Path) -> None:
    from edftools.commands.report import refine_cmd

    (option,) = [p for p in refine_cmd.params if p.name == "error_column"]
    assert tuple(option.type.choices) == ERROR_COLUMNS  # the CLI offers every column
    import_file(store_path, _sweep(tmp_path), "pycls", space="AnyNetX_A")
    runs = open_store(store_path, read_only=True).runs_frame(status=None)
    frame, names = select_runs(runs, ["AnyNetX_A"], "ema_best_error")
    assert names == ["AnyNetX_A"] and len(frame) == 2  # ok runs that logged an EMA test
    assert list(frame.err) == list(frame.ema_best_error)


def test_malformed_json_and_wrong_types_still_reject_the_file(
    tmp_path: Path, filled_store: Path, cli
) -> None:
    good = _sweep(tmp_path)
    truncated = tmp_path / "truncated.json"
    truncated.write_text(good.read_text()[:-40])
    jobs = json.loads(good.read_text())
    jobs[3]["test_epoch"]["top1_err"] = ["sixty"]
    wrong = write_sweep(tmp_path / "wrong.json", jobs)
    before = sha256(filled_store)
    for path, message in (
        (truncated, "truncated.json: not a readable JSON file"),
        (wrong, "wrong.json: record 3: field 'test_epoch.top1_err': expected a number"),
    ):
        code, out, err = cli("import", str(path), "--format", "pycls", "--store", str(filled_store))
        assert code == 2 and out == "" and message in err and err.count("\n") == 1, err
        with pytest.raises(StoreError):
            load_import_file(path, "pycls")
    assert sha256(filled_store) == before
