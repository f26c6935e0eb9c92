"""RegNet parameters out of range are one-line ConfigErrors (API) and exit 2 (CLI)."""

from __future__ import annotations

import math

import pytest

from edftools.cli import main
from edftools.errors import ConfigError
from edftools.spaces.regnet import MAX_DEPTH, MAX_WIDTH, generate_regnet

GOOD = dict(w0=24, wa=36.0, wm=2.5, depth=13)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(wa=math.inf), "wa must be finite"),
        (dict(wa=math.nan), "wa must be finite"),
        (dict(wm=math.inf), "wm must be finite"),
        (dict(wm=math.nan), "wm must be finite"),
        (dict(w0=math.inf), "w0 must be finite"),
        (dict(w0="24"), "w0 must be a number"),
        (dict(depth=MAX_DEPTH + 1), f"integer in [1, {MAX_DEPTH}]"),
        (dict(depth=10_000_000), f"integer in [1, {MAX_DEPTH}]"),
        (dict(depth=math.inf), "depth must be an integer"),
        (dict(depth=math.nan), "depth must be an integer"),
        (dict(depth=2.5), "depth must be an integer"),
        (dict(depth=True), "depth must be an integer"),
        (dict(w0=MAX_WIDTH + 8), f"up to {MAX_WIDTH}"),
        (dict(wa=MAX_WIDTH + 1.0), f"wa must be in [0, {MAX_WIDTH}]"),
        (dict(wa=-1.0), "wa must be in"),
        (dict(wm=1.0), "wm must be > 1"),
        (dict(wa=200_000.0, wm=4.0), f"wider than {MAX_WIDTH} channels"),
    ],
)
def test_out_of_range_parameters(change, message) -> None:
    with pytest.raises(ConfigError) as info:
        generate_regnet(**{**GOOD, **change})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_limits_admit_every_paper_scale_network() -> None:
    deep = generate_regnet(8, 0.5, 1.5, MAX_DEPTH)
    assert sum(deep.depths) == MAX_DEPTH
    wide = generate_regnet(232, 115.89, 2.53, 20)  # RegNetY-32GF
    assert 3000 < max(wide.widths) < 4000  # before group compatibility
    assert generate_regnet(24, 0.0, 2.5, 13).depths == (13,)  # wa = 0: one stage, as pycls


@pytest.mark.parametrize(
    "extra",
    [
        ["--wa", "inf"],
        ["--wm", "inf"],
        ["--wm", "nan"],
        ["--depth", "10000000"],
    ],
)
def test_describe_regnet_refuses_in_one_line(extra, capsys) -> None:
    args = ["describe", "regnet", "--w0", "24", "--wa", "36", "--wm", "2.5", "--depth", "13"]
    with pytest.raises(SystemExit) as info:
        main([*args, "--group-width", "8", *extra])
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == ""
    assert err.startswith("edftools: ") and err.count("\n") == 1, err
