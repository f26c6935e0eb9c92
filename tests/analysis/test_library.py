"""The public library on a researcher's own DataFrame: refine, compare, the array functions with
one argument style, result objects, and the same verdicts as the CLI on the same runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_synthetic import synthetic_runs

import edftools
from edftools.cli import main
from edftools.errors import EdftoolsError, StatsInputError

SHIFTS = {"A": 0.0, "B": -4.0, "C": -8.0}


def researcher_frame(n: int = 80, seed: int = 0) -> pd.DataFrame:
    """A NAS study's own results: space, error, flops, latency (no store columns)."""
    rng = np.random.default_rng(seed)
    parts = []
    for space, shift in SHIFTS.items():
        flops = rng.uniform(2e8, 6e8, n)
        parts.append(
            pd.DataFrame(
                {
                    "space": space,
                    "error": 30 + 4 * rng.standard_normal(n) + shift,
                    "flops": flops,
                    "latency_ms": flops / 1e8 + rng.uniform(0, 1, n),
                    "w0": rng.integers(8, 64, n).astype(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return researcher_frame()


@pytest.fixture(scope="module")
def refined(df):
    return edftools.refine(df, ["A", "B", "C"], complexity="flops", n_boot=200)


def test_refine_a_dataframe_gives_a_table_with_verdicts(refined) -> None:
    table = refined.to_frame()
    assert list(table["space"]) == ["A", "B", "C"]
    assert list(table["verdict"]) == ["baseline", "improves", "improves"]
    assert {"n", "min_error", "loss", "p_better_adj"} <= set(table.columns)
    assert refined.settings.normalize == "flops" and refined.settings.n_boot == 200
    text = repr(refined)
    assert len(text) < 200 and "array" not in text and "A→B: improves" in text
    data = json.loads(json.dumps(refined.to_dict(), allow_nan=False))
    assert [r["verdict"] for r in data["rows"]] == ["baseline", "improves", "improves"]
    assert set(data["bands"]["spaces"]) == {"A", "B", "C"}


def test_any_numeric_column_normalizes(df) -> None:
    res = edftools.compare(data=df, a="A", b="B", complexity="latency_ms", n_boot=200)
    assert res.settings.normalize == "latency_ms" and res.samples[0].rule is not None
    assert res.pairs_frame()["verdict"].tolist() == ["B better"]
    assert res.to_frame()["space"].tolist() == ["A", "B"]
    assert len(repr(res)) < 200 and "latency_ms" in repr(res)
    # a table as the first argument is data too; every space when none is named
    assert len(edftools.compare(df, n_boot=100).pairs) == 3


def test_arrays_keep_working_with_the_same_keywords(df) -> None:
    a = df.loc[df.space == "A"]
    b = df.loc[df.space == "B"]
    old = edftools.stats.compare(a.error, b.error, complexity_a=a.flops, complexity_b=b.flops)
    new = edftools.compare(a.error, b.error, complexity=(a.flops, b.flops))
    assert new.verdict == old.verdict and new.statistic == old.statistic
    s1 = edftools.step_test(a.error, b.error, complexity=(a.flops, b.flops), bins=4, seed=1)
    s2 = edftools.stats.step_test(
        a.error, b.error, parent_complexity=a.flops, restricted_complexity=b.flops, bins=4, seed=1
    )
    assert s1 == s2
    band = edftools.edf_band(a.error, complexity=a.flops, bins=4, n_boot=100)
    by_name = edftools.edf_band("error", data=a, complexity="flops", bins=4, n_boot=100)
    np.testing.assert_array_equal(band.upper, by_name.upper)
    summ = edftools.summarize("error", data=a, complexity="flops", n_boot=100)
    assert summ.n == len(a)
    assert edftools.plan(a.error, complexity=a.flops, margin=2.0, n_sim=50).n is not None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: edftools.refine(d, ["A", "B"], complexity="nope"), "no complexity column"),
        (lambda d: edftools.refine(d, ["A", "Z"]), "unknown space 'Z'"),
        (lambda d: edftools.refine(d, ["A", "B"], space="family"), "no 'family' column"),
        (lambda d: edftools.compare(data=d, a="A", b="B", bins=0), "bins must be"),
        (
            lambda d: edftools.summarize(d.error, complexity=d.flops, normalization="flops"),
            "normalization must be a Normalization",
        ),
        (lambda d: edftools.refine("/nonexistent/runs.parquet", ["A", "B"]), "no such file"),
    ],
)
def test_bad_input_is_a_typed_one_line_error(df, call, message) -> None:
    with pytest.raises(EdftoolsError, match=message) as info:
        call(df)
    assert "\n" not in str(info.value)


def test_the_summarize_normalization_crash_is_a_clear_error(df) -> None:
    with pytest.raises(StatsInputError):
        edftools.summarize(df.error, complexity=df.flops, normalization="flops")
    assert edftools.summarize(df.error, complexity=df.flops, bins=8, n_boot=50).n == len(df)


def test_files_and_arrow_tables_are_data(df, tmp_path: Path) -> None:
    import pyarrow as pa

    path = tmp_path / "runs.parquet"
    df.to_parquet(path)
    a = edftools.refine(path, ["A", "B"], complexity="flops", n_boot=100)
    b = edftools.refine(pa.Table.from_pandas(df), ["A", "B"], complexity="flops", n_boot=100)
    assert a.verdicts == b.verdicts == {"B": "improves"}


def test_verdicts_equal_the_cli_on_the_same_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = synthetic_runs({"AnyNetX_A": 0.0, "AnyNetX_B": -4.0, "AnyNetX_C": -8.0}, n=80, seed=2)
    parquet = tmp_path / "runs.parquet"
    runs.to_parquet(parquet, index=False)
    store = tmp_path / "s.duckdb"
    # the CLI's entry point in this process (a second interpreter would only re-pay imports)
    main(["import", str(parquet), "--store", str(store)])
    args = ["refine", "--store", str(store), "--chain", "A,B,C", "--json", "--seed", "3"]
    capsys.readouterr()
    main([*args, "--out", str(tmp_path / "r"), "--bins", "4"])
    out = capsys.readouterr().out
    cli_rows = json.loads(out)["rows"]
    from_store = edftools.refine(store, ["A", "B", "C"], complexity="flops", seed=3, bins=4)
    from_frame = edftools.refine(runs, ["A", "B", "C"], complexity="flops", seed=3, bins=4)
    for lib in (from_store, from_frame):
        table = lib.to_frame()
        assert table["verdict"].tolist() == [r["verdict"] for r in cli_rows]
        np.testing.assert_allclose(
            table["p_no_loss_adj"].astype(float).fillna(-1),
            [-1 if r["p_no_loss_adj"] is None else r["p_no_loss_adj"] for r in cli_rows],
        )


def test_plot_edf_on_a_dataframe_returns_its_axes(df) -> None:
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    assert edftools.plot.edf(data=df, hue="space", complexity="flops", ax=ax) is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B", "C"]
    fig = edftools.plot.refinement(df, ["A", "B"], complexity="flops", n_boot=100)
    assert len(fig.axes) == 1


def test_results_have_short_reprs(df) -> None:
    a = df.loc[df.space == "A"]
    for obj in (
        edftools.summarize(a.error, n_boot=100),
        edftools.edf_band(a.error, n_boot=100),
        edftools.good_range(a.w0.to_numpy(), a.error.to_numpy()),
        edftools.compare(data=df, a="A", b="B", n_boot=100),
    ):
        text = repr(obj)
        assert len(text) < 300 and "array(" not in text, text
