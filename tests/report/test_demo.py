"""The demo: reports written, deterministic, and the committed table regenerates exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from edftools.report.writers import (
    REFINEMENT_MD,
    demo,
    load_reference,
    load_reference_store,
    read_reference_runs,
    refinement_markdown_file,
)

REPO = Path(__file__).resolve().parents[2]


def test_demo_writes_three_reports(demo_result) -> None:
    names = sorted(p.name for p in demo_result.files)
    assert names == ["compare_anynetx_a_vs_regnetx.html", "refinement.html", "refinement.md"]
    md = demo_result.files[0].read_text()
    assert md.startswith("# Design-space refinement")
    assert "| AnyNetX_A |" in md and "| RegNetX |" in md
    assert demo_result.n_runs == 600


def test_demo_is_deterministic(demo_result, reference_dir: Path, tmp_path: Path) -> None:
    from edftools.analysis.refinement import RefineOptions, refine

    runs = load_reference(tmp_path / "again.duckdb", reference_dir)
    again = refinement_markdown_file(refine(runs, RefineOptions()))
    assert again == demo_result.files[0].read_text()


def test_demo_without_reference_data_is_a_clear_error(tmp_path: Path) -> None:
    from edftools.errors import StoreError

    with pytest.raises(StoreError, match="no reference data"):
        demo(tmp_path / "out", None, tmp_path / "empty")


def test_committed_refinement_table_regenerates_from_reference(tmp_path: Path) -> None:
    reference = REPO / "data" / "reference"
    committed = REPO / "reports" / REFINEMENT_MD
    assert list(reference.glob("*.parquet")), "data/reference/*.parquet must be committed"
    assert committed.exists(), "reports/refinement.md must be committed: run `make demo`"
    from edftools.analysis.refinement import RefineOptions, refine

    runs, looks, epochs = load_reference_store(tmp_path / "ref.duckdb", reference)
    result = refine(runs, RefineOptions(), looks, epochs=epochs)
    assert refinement_markdown_file(result) == committed.read_text()
    assert "## Verdicts through training" in committed.read_text()


def test_shipped_verdicts_do_not_depend_on_the_permutation_seed() -> None:
    """The reference chain's verdicts under 4 permutation seeds: equal to seed 0's, or the
    step is flagged borderline (``benchmarks/bench_verdict_seeds.py`` runs 20 seeds)."""
    import numpy as np

    from edftools.analysis import samples as measure
    from edftools.analysis.runs import DEFAULT_CHAIN, select_runs
    from edftools.stats import Margin

    runs = read_reference_runs(REPO / "data/reference")
    frame, names = select_runs(runs, DEFAULT_CHAIN)
    samples = measure.build_samples(frame, names)
    pairs = [(samples[i - 1], samples[i]) for i in range(1, len(samples))]
    runs_by_seed = [
        measure.verdicts(pairs, Margin(), 0.05, np.random.SeedSequence([s, 2])) for s in range(4)
    ]
    assert len(runs_by_seed[0]) == len(DEFAULT_CHAIN) - 1
    for steps in runs_by_seed[1:]:
        for first, other in zip(runs_by_seed[0], steps, strict=True):
            assert first.verdict == other.verdict or first.borderline or other.borderline


def test_shipped_looks_replay_from_the_shipped_runs() -> None:
    """The committed looks are what replaying the committed runs with the recipe gives:
    the same looks, n, verdicts and decisions (the looks are data, not process history).
    The study was resumed under the whole-range no-loss test of issue 16 (AnyNetX_E → RegNetX
    is decided at look 6 now, not 5), so the replay is full equality and the chain finished.
    The futility columns were added by the same replay (``p_futility``, ``level_futility``)."""
    import pandas as pd

    from edftools.recipe import load_recipe
    from edftools.study import replay, study_plan

    recipe = load_recipe(REPO / "recipes/digits_refinement.toml")
    plan = study_plan(recipe)
    chain = replay(recipe, read_reference_runs(REPO / "data/reference"), plan).chain
    shipped = pd.read_parquet(REPO / "data/reference/digits_refinement.looks.parquet")
    replayed = [
        (r.look, r.step, r.n_parent, r.n_restricted, r.verdict, bool(r.decided))
        for r in chain.history
    ]
    columns = ["look", "step", "n_parent", "n_restricted", "verdict", "decided"]
    assert replayed == [tuple(row) for row in shipped[columns].itertuples(index=False)]
    assert chain.finished
    # the futility rule's test (schema v7) is shipped too, as the replay computes it
    futility = [v for r in chain.history for v in (r.p_futility, r.level_futility)]
    expected = shipped[["p_futility", "level_futility"]].to_numpy().ravel().tolist()
    assert futility == pytest.approx(expected, rel=1e-12)


def test_reference_is_found_from_any_working_directory(tmp_path: Path, monkeypatch) -> None:
    from edftools.report.writers import REFERENCE_DIR, reference_files

    monkeypatch.chdir(tmp_path)
    assert REFERENCE_DIR.is_absolute() and REFERENCE_DIR == REPO / "data" / "reference"
    runs, looks = reference_files()
    assert runs and looks


def test_demo_store_is_rebuilt_only_when_it_holds_reference_runs_alone(
    reference_dir: Path, tmp_path: Path
) -> None:
    """A new store or an earlier demo's store is (re)built; a store with a user's run is not."""
    from edftools.report.writers import reference_store_target
    from edftools.store import open_store

    fresh = tmp_path / "data" / "edftools.duckdb"
    assert reference_store_target(fresh, reference_dir) == fresh
    load_reference(fresh, reference_dir)
    assert reference_store_target(fresh, reference_dir) == fresh
    store = open_store(fresh)
    try:
        with store.transaction() as con:
            con.execute(
                "UPDATE runs SET run_id = 'mine' WHERE run_id = (SELECT min(run_id) FROM runs)"
            )
    finally:
        store.close()
    assert reference_store_target(fresh, reference_dir) is None
    not_a_store = tmp_path / "junk.duckdb"
    not_a_store.write_text("junk")
    assert reference_store_target(not_a_store, reference_dir) is None


@pytest.mark.slow  # a second whole demo (~40 s of CPU); the store logic is tested above
def test_demo_command_leaves_the_reference_in_the_default_store(
    reference_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    from click.testing import CliRunner

    from edftools.cli import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDFTOOLS_STORE", raising=False)
    args = ["demo", "--out", "reports", "--reference", str(reference_dir)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    info = CliRunner().invoke(cli, ["info"])
    assert info.exit_code == 0 and "runs      600" in info.output, info.output


def test_progress_eta_counts_the_runs_still_to_train(tmp_path: Path) -> None:
    """The study's progress line counts the runs the next look still needs from what is
    stored: with RegNetX's runs 250–299 removed from the reference, look 6 needs 50 runs
    (not 50 per space the look needs: the others are already stored beyond n = 300)."""
    from edftools.recipe import load_recipe
    from edftools.store import open_store
    from edftools.study import progress_text, replay, study_plan, study_steps
    from edftools.train.plan import derive_seed

    recipe = load_recipe(REPO / "recipes/digits_refinement.toml")
    path = tmp_path / "ref.duckdb"
    load_reference(path, REPO / "data/reference")
    store = open_store(path)
    try:
        late = [derive_seed(recipe.seed, "run", "RegNetX", i) for i in range(250, 300)]
        with store.transaction() as con:
            gone = "SELECT run_id FROM runs WHERE space = 'RegNetX' AND list_contains(?, seed)"
            con.execute(f"DELETE FROM epochs WHERE run_id IN ({gone})", [late])
            con.execute(f"DELETE FROM runs WHERE run_id IN ({gone})", [late])
        runs = store.query("SELECT * FROM runs WHERE sweep = ?", [recipe.name])
        state = replay(recipe, runs, study_plan(recipe))
        assert state.next_n == 300 and "RegNetX" in state.needed
        steps = study_steps(recipe)
        line = progress_text(state, steps, store, recipe, 0.0)
    finally:
        store.close()
    assert "next look n=300: 50 runs" in line, line
