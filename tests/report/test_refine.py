"""The refinement chain on synthetic runs with known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from report_synthetic import synthetic_runs
from statsmodels.stats.multitest import multipletests

from edftools.errors import StoreError
from edftools.report import refine as R

JSON_KEYS = {
    "space",
    "restriction",
    "dim",
    "paper_total",
    "exact_total",
    "n",
    "min_error",
    "mean_error",
    "ks_d",
    "p_value",
    "verdict",
}


def _refine(shifts, n, **kw):
    runs = synthetic_runs(shifts, n=n, seed=kw.pop("data_seed", 0))
    chain = tuple(shifts)
    return R.refine(runs, R.RefineOptions(chain=chain, n_boot=400, **kw))


def test_identical_spaces_give_no_loss_and_shifts_give_direction() -> None:
    res = _refine(
        {"AnyNetX_A": 0.0, "AnyNetX_B": 0.0, "AnyNetX_C": -6.0, "AnyNetX_D": 0.0},
        n=1500,
        margin=0.1,
        normalize="none",
    )
    verdicts = [r.verdict for r in res.rows]
    assert verdicts == ["baseline", "no loss", "improves", "worse"]
    b = res.rows[1]
    assert b.deficit_upper < 0.1 and b.p_value > 0.01


def test_tiny_n_is_inconclusive_with_a_recommended_n() -> None:
    res = _refine({"AnyNetX_A": 0.0, "AnyNetX_B": -1.0}, n=12, normalize="none")
    row = res.rows[1]
    assert row.verdict == "inconclusive"
    assert row.n_needed is not None and row.n_needed > 12
    assert f"{row.n_needed:,} per space" in R.table_cells(res.rows)[1][-1]


def test_holm_is_applied_over_the_chain() -> None:
    res = _refine({"AnyNetX_A": 0.0, "AnyNetX_B": -2.0, "AnyNetX_C": -2.0, "RegNetX": -5.0}, n=80)
    raw = [r.p_value for r in res.rows[1:]]
    expected = multipletests(raw, method="holm")[1]
    np.testing.assert_allclose([r.p_holm for r in res.rows[1:]], expected)
    assert "Holm-adjusted over the 3 steps" in R.to_markdown(res)


def test_json_rows_have_the_keys_and_are_json() -> None:
    res = _refine({"AnyNetX_A": 0.0, "AnyNetX_B": -3.0}, n=60)
    rows = json.loads(json.dumps(R.to_json(res), allow_nan=False))
    assert [r["space"] for r in rows] == ["AnyNetX_A", "AnyNetX_B"]
    for r in rows:
        assert set(r) >= JSON_KEYS
    assert rows[0]["ks_d"] is None and rows[1]["ks_d"] > 0


def test_normalized_refine_is_deterministic() -> None:
    a = R.to_markdown(_refine({"AnyNetX_A": 0.0, "AnyNetX_B": -3.0}, n=60, seed=3))
    b = R.to_markdown(_refine({"AnyNetX_A": 0.0, "AnyNetX_B": -3.0}, n=60, seed=3))
    assert a == b
    assert "normalized by flops: 8 linear bins" in a


def test_unknown_space_and_short_chain_are_store_errors() -> None:
    runs = synthetic_runs({"AnyNetX_A": 0.0, "AnyNetX_B": 0.0}, n=20)
    with pytest.raises(StoreError, match="unknown space 'Nope'"):
        R.refine(runs, R.RefineOptions(chain=("AnyNetX_A", "Nope")))
    with pytest.raises(StoreError, match="at least two"):
        R.refine(runs, R.RefineOptions(chain=("AnyNetX_A",)))


def test_single_letter_aliases_resolve() -> None:
    runs = synthetic_runs({"AnyNetX_A": 0.0, "AnyNetX_B": 0.0}, n=30)
    res = R.refine(runs, R.RefineOptions(chain=("A", "b"), n_boot=200))
    assert [r.space for r in res.rows] == ["AnyNetX_A", "AnyNetX_B"]
