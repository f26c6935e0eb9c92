"""``[[regimes]]`` tables: one study of the same spaces in several regimes (no training)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edftools.errors import RecipeError
from edftools.recipe import load_recipe, parse_recipe
from edftools.train.plan import plan_sweep

BASE = """
name = "study"
n = 4
[dataset]
name = "digits"
[schedule]
epochs = 2
[band]
flops = ["0.25M", "0.5M"]
[[spaces]]
name = "AnyNetX_A"
overrides = { preset = "digits" }
[[spaces]]
name = "RegNetX"
overrides = { preset = "digits" }
"""
SEQUENTIAL = """
[sequential]
look_every = 2
max_n = 4
alpha = 0.06
"""
REGIMES = """
[[regimes]]
name = "base"
[[regimes]]
name = "flops2x"
band = { flops = ["0.5M", "1M"] }
[[regimes]]
name = "epochs4"
schedule = { epochs = 4 }
[[regimes]]
name = "block_r"
overrides = { block_type = "R" }
"""


def test_each_regime_is_a_recipe_with_its_changes() -> None:
    recipe = parse_recipe(BASE + REGIMES)
    names = [r.name for r in recipe.regimes]
    assert names == ["study.base", "study.flops2x", "study.epochs4", "study.block_r"]
    base, flops, epochs, block = recipe.regimes
    assert base.schedule == recipe.schedule and dict(base.spaces[0].bands) == {
        "flops": (250_000.0, 500_000.0)
    }
    assert dict(flops.spaces[1].bands) == {"flops": (500_000.0, 1_000_000.0)}
    assert epochs.schedule.epochs == 4 and epochs.schedule.batch_size == recipe.schedule.batch_size
    assert [dict(s.overrides) for s in block.spaces] == [
        {"preset": "digits", "block_type": "R"}
    ] * 2
    assert block.spaces[0].build().block_type == "R"
    assert [r.regime.index for r in recipe.regimes if r.regime] == [0, 1, 2, 3]
    assert flops.regime is not None and flops.regime.describe() == (
        "flops2x (band.flops = [0.5M, 1M])"
    )


def test_regime_identity_names_the_study_and_changes_run_ids() -> None:
    recipe = parse_recipe(BASE + REGIMES)
    ids = [json.loads(r.identity_text())["regime"] for r in recipe.regimes]
    assert {i["study"] for i in ids} == {"study"} and [i["name"] for i in ids] == [
        "base",
        "flops2x",
        "epochs4",
        "block_r",
    ]
    plans = [plan_sweep(r, n=2) for r in recipe.regimes]
    run_ids = [run.run_id for p in plans for run in p.runs]
    assert len(set(run_ids)) == len(run_ids)  # no run is shared between regimes
    # block R: the configs carry the block type the model builds
    assert {run.config.block_type for run in plans[3].runs} == {"R"}


def test_sequential_alpha_is_split_over_the_regimes() -> None:
    recipe = parse_recipe(BASE + SEQUENTIAL + REGIMES)
    assert recipe.sequential is not None and recipe.sequential.design.alpha == 0.06
    shares = [r.sequential.design.alpha for r in recipe.regimes if r.sequential]
    assert shares == pytest.approx([0.015] * 4) and sum(shares) == pytest.approx(0.06)


def test_regime_named_selects_in_recipe_order() -> None:
    recipe = parse_recipe(BASE + REGIMES)
    chosen = recipe.regime_named(["block_r", "base"])
    assert [r.name for r in chosen] == ["study.base", "study.block_r"]
    with pytest.raises(RecipeError, match="no regime 'nope'; it has: base, flops2x"):
        recipe.regime_named(["nope"])
    with pytest.raises(RecipeError, match="declares no"):
        parse_recipe(BASE).regime_named()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[regimes]]\nname = "a"\nepochs = 3\n', r"regimes\[0\]\.epochs: unknown regime key"),
        ("[[regimes]]\nn = 3\n", r"regimes\[0\]\.name: a regime needs a name"),
        ('[[regimes]]\nname = "a b"\n', r"regimes\[0\]\.name"),
        ('[[regimes]]\nname = "a"\n[[regimes]]\nname = "a"\n', "duplicate regime name 'a'"),
        (
            '[[regimes]]\nname = "a"\nschedule = { lr = 3 }\n',
            r"regimes\[0\] \(a\): schedule\.lr: unknown schedule field",
        ),
        (
            '[[regimes]]\nname = "a"\noverrides = { depthh = 3 }\n',
            r"regimes\[0\] \(a\): spaces\[0\]\.overrides\.depthh: unknown override",
        ),
        (
            '[[regimes]]\nname = "a"\nband = { flops = ["2M", "1M"] }\n',
            r"regimes\[0\] \(a\): band\.flops",
        ),
    ],
)
def test_a_bad_regime_names_its_key(extra: str, message: str) -> None:
    with pytest.raises(RecipeError, match=message):
        parse_recipe(BASE + extra)


def test_shipped_regimes_recipe() -> None:
    recipe = load_recipe(Path(__file__).resolve().parents[1] / "recipes" / "digits_regimes.toml")
    assert [r.regime.name for r in recipe.regimes if r.regime] == [
        "base",
        "flops4x",
        "epochs10",
        "block_r",
    ]
    shares = [r.sequential.design.alpha for r in recipe.regimes if r.sequential]
    assert sum(shares) == pytest.approx(0.05)
    flops = recipe.regimes[1].spaces[0].bands["flops"]
    base = recipe.regimes[0].spaces[0].bands["flops"]
    assert flops == (4 * base[0], 4 * base[1])
    assert recipe.regimes[2].schedule.epochs == 2 * recipe.regimes[0].schedule.epochs
