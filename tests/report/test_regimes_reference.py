"""The shipped regimes study (data/reference/regimes): its looks are the replay of its runs
under the recipe, and the committed generalization report regenerates from it exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from edftools.report.writers import (
    GENERALIZATION_MD,
    REGIMES_SUBDIR,
    load_reference_with_looks,
    read_reference_runs,
)

REPO = Path(__file__).resolve().parents[2]
REGIMES = REPO / "data" / "reference" / REGIMES_SUBDIR


def test_committed_generalization_regenerates_from_the_shipped_files(tmp_path: Path) -> None:
    from edftools.analysis.generalization import generalize
    from edftools.report.generalize_report import to_markdown

    committed = REPO / "reports" / GENERALIZATION_MD
    assert list(REGIMES.glob("*.parquet")), "data/reference/regimes/*.parquet must be committed"
    assert committed.exists(), "reports/generalization.md must be committed: run `make demo`"
    store = tmp_path / "regimes.duckdb"
    load_reference_with_looks(store, REGIMES)
    result = generalize(str(store))
    assert to_markdown(result) == committed.read_text()
    assert result.family["fwer"] <= 0.05 + 1e-12
    assert len(result.regimes) >= 4 and result.chain == ("AnyNetX_A", "AnyNetX_E", "RegNetX")


def test_shipped_regime_looks_replay_from_the_shipped_runs() -> None:
    """Each regime's committed looks are what replaying its committed runs with the recipe
    gives (same looks, n, verdicts, decisions)."""
    from edftools.recipe import load_recipe
    from edftools.study import replay, study_plan

    recipe = load_recipe(REPO / "recipes" / "digits_regimes.toml")
    runs = read_reference_runs(REGIMES)
    looks = pd.concat(pd.read_parquet(f) for f in sorted(REGIMES.glob("*.looks.parquet")))
    columns = ["look", "step", "n_parent", "n_restricted", "verdict", "decided"]
    for regime in recipe.regimes:
        mine = runs[runs["sweep"] == regime.name]
        chain = replay(regime, mine, study_plan(regime)).chain
        shipped = looks[looks["sweep"] == regime.name].sort_values(["look", "step"])
        assert len(shipped) > 0 and len(mine) > 0, regime.name
        replayed = [
            (r.look, r.step, r.n_parent, r.n_restricted, r.verdict, bool(r.decided))
            for r in chain.history
        ]
        assert replayed == [tuple(row) for row in shipped[columns].itertuples(index=False)]


def test_shipped_reruns_are_the_recipes_reruns_of_the_looks_models() -> None:
    """Every shipped rerun is one the recipe plans for the models its looks used, with the
    config of its original (seed noise measured on the study's own models)."""
    from edftools.recipe import load_recipe
    from edftools.train.plan import plan_sweep

    recipe = load_recipe(REPO / "recipes" / "digits_regimes.toml")
    runs = read_reference_runs(REGIMES)
    for regime in recipe.regimes:
        mine = runs[runs["sweep"] == regime.name]
        counts = mine[mine["rerun_of"].isna()].groupby("space").size().to_dict()
        planned = plan_sweep(regime, n={k: int(v) for k, v in counts.items()}).reruns
        shipped = mine[mine["rerun_of"].notna()]
        assert len(shipped) > 0, regime.name
        assert sorted(shipped["run_id"]) == sorted(r.run_id for r in planned)
        config = mine.set_index("run_id")["config"]
        for rid, of in zip(shipped["run_id"], shipped["rerun_of"], strict=True):
            assert config[rid] == config[of]
