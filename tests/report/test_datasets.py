"""Runs of different datasets or image resolutions are never pooled or compared silently."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from report_synthetic import synthetic_runs

from edftools.analysis.runs import check_one_dataset, select_runs
from edftools.cli import main
from edftools.errors import StoreError


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _with_data(frame: pd.DataFrame, dataset: str, resolution: int) -> pd.DataFrame:
    return frame.assign(dataset=dataset, resolution=resolution)


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sweep 'digits' (AnyNetX_A, AnyNetX_B, RegNetX on digits at 8 px) plus an import of
    AnyNetX_A runs on ImageNet at 224 px under the same space name (sweep 'pycls_sweep')."""
    from edftools.store import import_file, open_store

    folder = tmp_path_factory.mktemp("mixed")
    digits = synthetic_runs({"AnyNetX_A": 0.0, "AnyNetX_B": 0.0, "RegNetX": -8.0}, n=60)
    imagenet = synthetic_runs({"AnyNetX_A": 10.0}, n=20, seed=5, sweep="pycls_sweep")
    imagenet["run_id"] = "in-" + imagenet["run_id"]
    _with_data(digits.assign(sweep="digits"), "digits", 8).to_parquet(folder / "d.parquet")
    _with_data(imagenet, "imagenet", 224).to_parquet(folder / "i.parquet")
    store = open_store(folder / "runs.duckdb")
    for name in ("d.parquet", "i.parquet"):
        import_file(store, folder / name, "parquet")
    return folder / "runs.duckdb"


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "AnyNetX_A", "RegNetX"],
        ["compare", "AnyNetX_A"],
        ["refine", "--chain", "A,B,RegNetX"],
    ],
)
def test_mixed_datasets_are_refused_in_one_line(mixed_store, capsys, args, tmp_path) -> None:
    out_arg = str(tmp_path if args[0] == "refine" else tmp_path / "c.html")
    code, out, err = _cli([*args, "--store", str(mixed_store), "--out", out_arg], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "2 different datasets/resolutions" in err
    assert "digits at 8 px (AnyNetX_A: 60" in err and "imagenet at 224 px (AnyNetX_A: 20)" in err
    assert "--dataset (digits, imagenet)" in err and "--sweep (digits, pycls_sweep)" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("select", [["--dataset", "digits"], ["--sweep", "digits"]])
def test_selecting_one_dataset_or_sweep_compares(mixed_store, capsys, select) -> None:
    args = ["compare", "AnyNetX_A", "RegNetX", "--json", "--store", str(mixed_store), *select]
    code, out, err = _cli(args, capsys)
    assert code == 0, err
    assert '"n_runs": 60' in out and '"n_runs": 80' not in out


def test_dataset_option_is_recorded_and_unknown_dataset_is_named(mixed_store, capsys) -> None:
    args = ["compare", "A", "--dataset", "ImageNet", "--json", "--bins", "2"]
    args += ["--store", str(mixed_store)]
    code, out, err = _cli(args, capsys)
    assert code == 0, err
    assert '"dataset": "ImageNet"' in out and '"n_runs": 20' in out
    code, _, err = _cli(["compare", "A", "--dataset", "cifar", "--store", str(mixed_store)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "no runs with status ok of dataset 'cifar' (datasets: digits, imagenet)" in err


def test_one_dataset_at_two_resolutions_is_refused_with_the_sweep_hint() -> None:
    a = _with_data(synthetic_runs({"X": 0.0}, n=10, sweep="s224"), "imagenet", 224)
    b = _with_data(synthetic_runs({"X": 0.0}, n=12, sweep="s128"), "imagenet", 128)
    with pytest.raises(StoreError) as info:
        select_runs(pd.concat([a, b]), ["X"])
    text = str(info.value)
    assert "imagenet at 128 px (X: 12); imagenet at 224 px (X: 10)" in text
    assert "select one with --sweep (s128, s224)" in text and "--dataset" not in text


def test_missing_dataset_counts_as_its_own_value() -> None:
    frame = synthetic_runs({"X": 0.0, "Y": 0.0}, n=5)
    frame["dataset"] = ["digits"] * 5 + [None] * 5
    frame["resolution"] = 8
    with pytest.raises(StoreError, match=r"unknown dataset at 8 px \(Y: 5\)"):
        check_one_dataset(frame)
    check_one_dataset(synthetic_runs({"X": 0.0}, n=5))  # no dataset columns: nothing to check
    frame["dataset"] = "digits"
    check_one_dataset(frame)
