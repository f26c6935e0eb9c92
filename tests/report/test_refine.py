"""The refinement chain on synthetic runs with known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from report_synthetic import synthetic_runs

from edftools.analysis import refinement as R
from edftools.analysis.settings import Settings
from edftools.errors import StoreError
from edftools.report import refine_table as T
from edftools.stats import Margin

JSON_KEYS = {
    "space",
    "restriction",
    "dim",
    "paper_total",
    "exact_total",
    "n",
    "min_error",
    "mean_error",
    "d_better",
    "d_worse",
    "loss",
    "p_better_adj",
    "p_worse_adj",
    "p_no_loss_adj",
    "verdict",
}


def _refine(shifts, n, **kw):
    runs = synthetic_runs(shifts, n=n, seed=kw.pop("data_seed", 0))
    chain = tuple(shifts)
    margin = kw.pop("margin", None)
    if margin is not None:
        kw.update(margin=margin.value, margin_unit=margin.unit)
    return R.refine(runs, R.RefineOptions(chain=chain, settings=Settings(n_boot=400, **kw)))


def test_identical_spaces_give_no_loss_and_shifts_give_direction() -> None:
    res = _refine(
        {"AnyNetX_A": 0.0, "AnyNetX_B": 0.0, "AnyNetX_C": -6.0, "AnyNetX_D": 0.0},
        n=1500,
        margin=Margin(2.0),
        normalize="none",
    )
    verdicts = [r.verdict for r in res.rows]
    assert verdicts == ["baseline", "no loss", "improves", "worse"]
    b = res.rows[1]
    assert b.loss < 2.0 and b.p_no_loss_adj < 0.05 and b.p_better_adj > 0.05


def test_tiny_n_is_inconclusive_with_a_planned_n() -> None:
    res = _refine({"AnyNetX_A": 0.0, "AnyNetX_B": -1.0}, n=12, normalize="none")
    row = res.rows[1]
    assert row.verdict == "inconclusive"
    assert row.n_needed is not None and row.n_needed > 12
    assert res.plans[0] is not None and res.plans[0].n == row.n_needed
    assert f"{row.n_needed:,} per space" in T.table_cells(res.rows, res.options.margin)[1][-1]


def test_the_family_is_every_hypothesis_of_the_chain() -> None:
    from edftools.stats.multiplicity import steps_adjusted

    # every step decided (no planning of an inconclusive one: this test is about the family);
    # n = 200: at 80 per space (10 per bin) the no-loss test cannot yet show the parent's
    # lowest errors to lie below its 0.1-quantile, where a loss would still count
    res = _refine({"AnyNetX_A": 0.0, "AnyNetX_B": -4.0, "AnyNetX_C": -8.0, "RegNetX": -12.0}, n=200)
    assert all(r.verdict != "inconclusive" for r in res.rows[1:]), [r.verdict for r in res.rows]
    raw = [(r.p_better, r.p_worse, r.p_no_loss) for r in res.rows[1:]]
    expected = steps_adjusted(np.array(raw)).ravel()
    got = [p for r in res.rows[1:] for p in (r.p_better_adj, r.p_worse_adj, r.p_no_loss_adj)]
    np.testing.assert_allclose(got, expected)
    assert "the 3 hypotheses of each of the 3 steps (9 in all)" in T.to_markdown(res)


def test_json_rows_have_the_keys_and_are_json() -> None:
    res = _refine({"AnyNetX_A": 0.0, "AnyNetX_B": -3.0}, n=60)
    rows = json.loads(json.dumps(R.to_json(res), allow_nan=False))["rows"]
    assert [r["space"] for r in rows] == ["AnyNetX_A", "AnyNetX_B"]
    for r in rows:
        assert set(r) >= JSON_KEYS
    assert rows[0]["d_better"] is None and rows[1]["d_better"] > 0


def test_normalized_refine_is_deterministic() -> None:
    a = T.to_markdown(_refine({"AnyNetX_A": 0.0, "AnyNetX_B": -3.0}, n=60, seed=3))
    b = T.to_markdown(_refine({"AnyNetX_A": 0.0, "AnyNetX_B": -3.0}, n=60, seed=3))
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
    res = R.refine(runs, R.RefineOptions(chain=("A", "b"), settings=Settings(n_boot=200)))
    assert [r.space for r in res.rows] == ["AnyNetX_A", "AnyNetX_B"]


CUSTOM_RECIPE = """
name = "custom"
n = 4
[dataset]
name = "digits"
[[spaces]]
name = "AnyNetX_A"
overrides = { preset = "digits" }
[[spaces]]
name = "SharedB"
[spaces.definition]
base = "AnyNetX_A"
preset = "digits"
[[spaces.definition.restrictions]]
kind = "shared"
param = "b"
"""


def test_custom_spaces_take_restriction_dim_and_size_from_the_recipe() -> None:
    from edftools.spaces import space_from_dict
    from edftools.spaces.count import exact_total

    runs = synthetic_runs({"AnyNetX_A": 0.0, "SharedB": 0.0}, n=40, seed=3)
    from edftools.commands.report import recipe_spaces

    spaces = recipe_spaces([CUSTOM_RECIPE, "imported from x.parquet (format parquet)"])
    assert set(spaces) == {"AnyNetX_A", "SharedB"}
    opts = R.RefineOptions(
        chain=("AnyNetX_A", "SharedB"), settings=Settings(normalize="none", n_boot=100)
    )
    row = R.refine(runs, opts, spaces=spaces).rows[1]
    own = space_from_dict(
        {
            "base": "AnyNetX_A",
            "preset": "digits",
            "restrictions": [{"kind": "shared", "param": "b"}],
        }
    )
    assert row.restriction == "b_{i+1} = b_i" and row.dim == 10
    assert row.exact_total == exact_total(own) and row.paper_total is not None
    without = R.refine(runs, opts).rows[1]
    assert without.restriction == "" and without.dim is None and without.exact_total is None


def test_small_samples_carry_a_warning() -> None:
    """n = 20 < 32 models: the n and best-of-32 cells carry ‡ and a footnote says why."""
    runs = synthetic_runs(
        {"AnyNetX_A": 0.0, "AnyNetX_B": 0.0}, n={"AnyNetX_A": 20, "AnyNetX_B": 60}
    )
    res = R.refine(
        runs, R.RefineOptions(chain=("A", "B"), settings=Settings(normalize="none", n_boot=100))
    )
    cells = T.table_cells(res.rows, res.options.margin)
    assert cells[0][6] == "20 ‡" and cells[0][10].endswith("‡")
    assert "‡" not in cells[1][6] and not cells[1][10].endswith("‡")
    assert any(n.startswith("‡ fewer than 32 models (AnyNetX_A)") for n in T.footnotes(res))
    from edftools.analysis import comparison as C
    from edftools.report.compare_table import to_markdown

    settings = Settings(normalize="none", n_boot=100)
    cres = C.compare_spaces(runs, C.CompareOptions(spaces=("A", "B"), settings=settings, params=()))
    md = to_markdown(cres)
    assert "| 20 ‡ |" in md and "‡ fewer than 32 models (AnyNetX_A)" in md
