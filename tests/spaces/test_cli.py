"""CLI contract: spaces, sample, describe; bad input gives one stderr line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from edftools.spaces import NetConfig, complexity


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edftools", *args], capture_output=True, text=True, timeout=120
    )


def test_sample_json_lines():
    res = run("sample", "AnyNetX_A", "--n", "20", "--flops", "360M:400M", "--seed", "1", "--json")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 20
    for line in lines:
        row = json.loads(line)
        cx = {k: row.pop(k) for k in ("flops", "params", "acts")}
        net = NetConfig.from_dict(row)
        assert complexity(net).as_dict() == cx
        assert 360e6 <= cx["flops"] <= 400e6
    again = run(
        "sample", "AnyNetX_A", "--n", "20", "--flops", "0.36G:0.4G", "--seed", "1", "--json"
    )
    assert again.stdout == res.stdout


def test_sample_params_band_and_regnet():
    res = run("sample", "RegNetY", "--n", "3", "--params", "2M:5M", "--json")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 3, res.stdout
    for line in lines:
        row = json.loads(line)
        assert 2e6 <= row["params"] <= 5e6 and row["block_type"] == "Y"
        assert {"w0", "wa", "wm", "d"} <= set(row["extra"])


def test_describe_regnet_matches_reference():
    res = run(
        "describe",
        "regnet",
        "--w0",
        "24",
        "--wa",
        "36.44",
        "--wm",
        "2.49",
        "--depth",
        "13",
        "--group-width",
        "8",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["depths"] == [1, 1, 4, 7] and out["widths"] == [24, 56, 152, 368]
    assert out["group_widths"] == [8] * 4 and out["bottleneck_ratios"] == [1] * 4
    assert (out["flops"], out["params"], out["acts"]) == (199040872, 2684792, 2164056)
    se = run(
        "describe",
        "regnet",
        "--w0",
        "24",
        "--wa",
        "36.44",
        "--wm",
        "2.49",
        "--depth",
        "13",
        "--group-width",
        "8",
        "--se",
        "--json",
    )
    assert json.loads(se.stdout)["params"] == 3162996


def test_describe_anynet():
    res = run(
        "describe",
        "anynet",
        "--depths",
        "1,1,4,7",
        "--widths",
        "24,56,152,368",
        "--bottleneck-ratios",
        "1",
        "--group-widths",
        "8,8,8,8",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["flops"] == 199040872


def test_spaces_json_keys():
    res = run("spaces", "--json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    keys = {
        "name",
        "restriction",
        "dim",
        "combinations",
        "paper_total",
        "exact_total",
        "distinct_networks",
    }
    assert [r["name"] for r in rows][:5] == [f"AnyNetX_{x}" for x in "ABCDE"]
    assert all(keys <= set(r) for r in rows)
    regnet = next(r for r in rows if r["name"] == "RegNet")
    assert f"{regnet['paper_total']:.1e}" == "3.0e+08" and regnet["exact_total"] > 0
    for r in rows:
        assert isinstance(r["distinct_networks"], int) and r["distinct_method"] == "exact"
        assert 0 < r["distinct_networks"] <= r["exact_total"]


@pytest.mark.parametrize(
    "args",
    [
        ("sample", "ResNet", "--n", "5"),
        ("sample", "AnyNetX_A", "--n", "5", "--flops", "400M"),
        ("sample", "AnyNetX_A", "--n", "5", "--flops", "4e20:5e20"),
        ("sample", "AnyNetX_A", "--n", "5", "--flops", "lots:more"),
        ("sample", "AnyNetX_A", "--n", "-5"),
        (
            "describe",
            "regnet",
            "--w0",
            "24",
            "--wa",
            "36",
            "--wm",
            "1.0",
            "--depth",
            "13",
            "--group-width",
            "8",
        ),
        (
            "describe",
            "regnet",
            "--w0",
            "20",
            "--wa",
            "36",
            "--wm",
            "2.5",
            "--depth",
            "13",
            "--group-width",
            "8",
        ),
        (
            "describe",
            "regnet",
            "--w0",
            "24",
            "--wa",
            "36",
            "--wm",
            "2.5",
            "--depth",
            "-1",
            "--group-width",
            "8",
        ),
        ("describe", "anynet", "--depths", "1,-2", "--widths", "8,16"),
        ("describe", "anynet", "--depths", "1,2", "--widths", "8"),
        ("describe", "anynet", "--depths", "1,x", "--widths", "8,16"),
    ],
)
def test_bad_input_one_line_exit_2(args):
    res = run(*args)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
