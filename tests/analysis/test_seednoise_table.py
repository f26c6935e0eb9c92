"""Seed noise in the analysis: reruns never enter the EDFs, the per-space table, the flags, and
the report sections (present with reruns, absent without)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from report_synthetic import synthetic_runs

import edftools
from edftools.analysis.runs import select_runs
from edftools.analysis.seednoise import WITHIN_NOISE, seed_noise_table
from edftools.stats.seednoise import seed_noise

SIGMA = 0.8


def with_reruns(runs: pd.DataFrame, per_space: int = 20, seeds: int = 2, seed: int = 3):
    """``runs`` plus ``seeds`` reruns of the first ``per_space`` runs of each space: error =
    the original's + N(0, SIGMA²) (a diverged rerun too, which must be ignored)."""
    rng = np.random.default_rng(seed)
    runs = runs.assign(rerun_of=None)
    extra = []
    for _, group in runs.groupby("space", sort=False):
        for _, row in group.head(per_space).iterrows():
            for s in range(1, seeds + 1):
                e = float(row["error"]) + SIGMA * rng.standard_normal()
                extra.append(
                    {
                        **row,
                        "run_id": f"{row['run_id']}-r{s}",
                        "rerun_of": row["run_id"],
                        "error": e,
                        "best_error": e,
                    }
                )
    bad = {**extra[0], "run_id": "diverged-rerun", "status": "diverged", "error": 100.0}
    return pd.concat([runs, pd.DataFrame([*extra, bad])], ignore_index=True)


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return synthetic_runs({"A": 0.0, "B": -0.3, "C": -8.0}, n=60, seed=1)


@pytest.fixture(scope="module")
def rerun(runs) -> pd.DataFrame:
    return with_reruns(runs)


def test_select_runs_drops_reruns_and_frames_without_the_column_work(runs, rerun) -> None:
    plain, _ = select_runs(runs, ["A", "B"])
    frame, _ = select_runs(rerun, ["A", "B"])
    assert len(frame) == len(plain) == 120 and frame["rerun_of"].isna().all()
    assert list(frame["run_id"]) == list(plain["run_id"])


def test_table_matches_the_formula_per_space(runs, rerun) -> None:
    table = seed_noise_table(rerun, ["A", "C"])
    assert table is not None and list(table.per_space) == ["A", "C"]
    a = rerun[rerun["space"] == "A"]
    originals = a[a["rerun_of"].isna()]
    ok = a[(a["status"] == "ok") & a["rerun_of"].notna()]
    groups = [
        np.array([e, *ok.loc[ok["rerun_of"] == rid, "error"]])
        for rid, e in zip(originals["run_id"], originals["error"], strict=True)
        if (ok["rerun_of"] == rid).any()
    ]
    expected = seed_noise(groups, originals["error"])
    got = table.per_space["A"]
    assert got.n_configs == 20 and got.n_runs == 60 and got.df == 40
    assert got.sd == pytest.approx(expected.sd) and got.edf_sd == pytest.approx(expected.edf_sd)
    assert got.low < SIGMA < got.high  # seeded: the CI covers the simulated sigma
    frame = table.to_frame()
    assert list(frame["space"]) == ["A", "C"] and {"seed_sd", "edf_sd", "iqr", "ratio"} <= set(
        frame.columns
    )
    assert "SeedNoiseTable(error; A:" in repr(table)
    assert seed_noise_table(runs, ["A"]) is None  # no rerun_of column: nothing to report


def test_compare_flags_differences_within_seed_noise_and_ignores_reruns(runs, rerun) -> None:
    plain = edftools.compare(runs, "A", "B", "C", n_boot=50)
    noisy = edftools.compare(rerun, "A", "B", "C", n_boot=50)
    assert plain.seed_noise is None and "seed_noise" not in plain.to_dict()
    assert noisy.pairs_frame().equals(plain.pairs_frame())  # reruns are not EDF samples
    flags = {(f.a, f.b): f for f in noisy.noise_flags}
    ab = flags[("A", "B")]
    assert abs(ab.median_difference) < ab.seed_sd and ab.within  # 0.3 apart, noise ~0.8
    assert not flags[("A", "C")].within  # 8 points apart
    data = noisy.to_dict()["seed_noise"]
    assert [s["space"] for s in data["spaces"]] == ["A", "B", "C"]
    assert data["pairs"][0]["within_seed_noise"] is True
    from edftools.report.compare_html import render
    from edftools.report.compare_table import to_markdown

    text = to_markdown(noisy)
    assert "## Seed noise" in text and "| A → B |" in text and WITHIN_NOISE in text
    assert "Seed noise" not in to_markdown(plain)
    html = render(noisy)
    assert 'id="seed-noise-table"' in html and WITHIN_NOISE in html


def test_refine_flags_steps_within_seed_noise(rerun) -> None:
    result = edftools.refine(rerun, ["A", "B", "C"], n_boot=50)
    flags = [(f.a, f.b, f.within) for f in result.noise_flags]
    assert flags == [("A", "B", True), ("B", "C", False)]
    assert result.to_dict()["seed_noise"]["steps"][0]["within_seed_noise"] is True
    from edftools.report.refine_table import to_markdown

    assert WITHIN_NOISE in to_markdown(result)
