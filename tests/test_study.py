"""Sequential sweeps (``sweep --until-decided``) end to end with a simulated error source:
decisions, the looks table, resume after an interruption, and the sequential refine table."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from edftools.recipe import parse_recipe
from edftools.records import RunResult
from edftools.store import open_store
from edftools.store.looks import looks_frame
from edftools.study import run_until_decided
from edftools.train.executors import InlineExecutor
from edftools.train.plan import plan_sweep
from edftools.train.sweep import execute_plan

RECIPE = """
name = "study"
seed = 0
n = 10
[dataset]
name = "digits"
[schedule]
epochs = 1
[band]
flops = ["0.25M", "0.5M"]
[sequential]
look_every = 10
max_n = 60
margin = 3.0
normalize = "none"
[[spaces]]
name = "AnyNetX_A"
overrides = { preset = "digits" }
[[spaces]]
name = "AnyNetX_B"
overrides = { preset = "digits" }
[[spaces]]
name = "AnyNetX_D"
overrides = { preset = "digits" }
"""
SHIFT = {"AnyNetX_A": 0.0, "AnyNetX_B": 0.0, "AnyNetX_D": -3.0}
#: Gamma scale of the simulated errors: small beside the margin and the shift, so the study is
#: decided at its second look (20 models per space, 60 stored runs; max_n = 60 makes that look
#: a third of the information, where the spending has left a reachable level): these tests
#: check the study's plumbing (resume, export, budget), and every stored run costs a store
#: transaction (an open, a commit and a close of the DuckDB file, ~45 ms).
NOISE_SCALE = 0.5


def simulated(recipe, seconds: float = 0.0):
    """An error source instead of training: 4 + Gamma(2, NOISE_SCALE) points (seeded by the run
    id) plus the space's shift."""
    space_of = {
        r.run_id: r.space for r in plan_sweep(recipe, n=recipe.sequential.design.max_n).runs
    }

    def task_fn(task):
        seed = int(hashlib.sha256(task.run_id.encode()).hexdigest()[:8], 16)
        e = 4.0 + np.random.default_rng(seed).gamma(2.0, NOISE_SCALE) + SHIFT[space_of[task.run_id]]
        return RunResult(status="ok", error=float(e), best_error=float(e), train_seconds=seconds)

    return task_fn


def _study(
    path: Path,
    stop_after: int | None = None,
    budget_s: float | None = None,
    run_seconds: float = 0.0,
):
    """A simulated study; ``run_seconds``: each run's (simulated) training time, which the
    budget reckons with."""
    recipe = parse_recipe(RECIPE)
    store = open_store(path)
    executor = InlineExecutor(simulated(recipe, run_seconds))
    rounds = []

    def train_round(plan, deadline=None):
        if stop_after is not None and len(rounds) >= stop_after:
            raise KeyboardInterrupt  # a kill between looks
        rounds.append(plan)
        return execute_plan(plan, store, executor, progress=False, deadline=deadline).done

    outcome = run_until_decided(recipe, store, train_round, budget_s, echo=lambda _: None)
    return recipe, store, outcome


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory):
    """One whole simulated study, shared by the tests that only read it."""
    return _study(tmp_path_factory.mktemp("study") / "s.duckdb")


def test_study_decides_records_looks_and_stops_spaces(study) -> None:
    recipe, store, outcome = study
    assert outcome.stopped_by == "decided"
    assert outcome.replay.chain.verdicts == ["no loss", "improves"]
    looks = looks_frame(store, "study")
    assert looks.groupby("step")["decided"].last().all()
    assert list(looks.groupby("step")["verdict"].last()) == ["no loss", "improves"]
    counts = outcome.replay.counts
    # the improving step stops no later than the no-loss one; its restricted space gets no
    # more models after it is decided
    assert counts["AnyNetX_D"] <= counts["AnyNetX_B"] <= recipe.sequential.design.max_n
    decided = looks[(looks["step"] == 1) & looks["decided"]]
    assert counts["AnyNetX_D"] == int(decided["n_restricted"].min())
    again = run_until_decided(recipe, store, lambda plan, _: pytest.fail("trained again"), echo=len)
    assert again.trained == 0 and again.replay.chain.verdicts == outcome.replay.chain.verdicts


def test_interrupted_study_resumes_to_the_same_decisions(study, tmp_path: Path) -> None:
    _, whole_store, whole = study
    with pytest.raises(KeyboardInterrupt):
        _study(tmp_path / "cut.duckdb", stop_after=1)
    _, store, resumed = _study(tmp_path / "cut.duckdb")
    assert resumed.replay.chain.verdicts == whole.replay.chain.verdicts
    assert resumed.replay.counts == whole.replay.counts
    a = looks_frame(whole_store, "study")
    b = looks_frame(store, "study")
    cols = ["look", "step", "n_parent", "n_restricted", "p_better", "p_no_loss", "verdict"]
    assert a[cols].equals(b[cols])


def test_refine_reports_the_sequential_verdicts(study) -> None:
    from edftools.analysis.refinement import RefineOptions, refine
    from edftools.analysis.settings import Settings
    from edftools.report.refine_html import render
    from edftools.report.refine_table import to_markdown

    _, store, _ = study
    runs = store.runs_frame(sweep="study")
    looks = looks_frame(store, "study")
    chain = ("AnyNetX_A", "AnyNetX_B", "AnyNetX_D")
    res = refine(
        runs, RefineOptions(chain=chain, settings=Settings(normalize="none", n_boot=100)), looks
    )
    assert res.sequential and [r.verdict for r in res.rows[1:]] == ["no loss", "improves"]
    assert all(r.decided_at is not None for r in res.rows[1:])
    md = to_markdown(res)
    assert "decided at n = " in md and "p vs level" in md and "Sequential sweep" in md
    assert "Sequential history" in render(res)


def test_looks_export_import_and_the_refine_command(study, tmp_path: Path, capsys) -> None:
    from edftools.cli import main
    from edftools.store.importers import export_runs
    from edftools.store.looks import export_looks

    _, store, outcome = study
    export_runs(store, tmp_path / "runs.parquet", sweep="study")
    assert export_looks(store, tmp_path / "study.looks.parquet", "study") > 0
    fresh = tmp_path / "fresh.duckdb"
    for name in ("runs.parquet", "study.looks.parquet"):
        try:
            main(["import", str(tmp_path / name), "--store", str(fresh)])
        except SystemExit as exc:
            assert not exc.code
    a = looks_frame(store, "study").drop(columns=["created_at"])
    b = looks_frame(open_store(fresh), "study").drop(columns=["created_at"])
    assert a.equals(b)
    capsys.readouterr()
    args = ["refine", "--store", str(fresh), "--chain", "AnyNetX_A,AnyNetX_B,AnyNetX_D"]
    args += ["--normalize", "none", "--out", str(tmp_path / "r"), "--json"]
    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code
    data = __import__("json").loads(capsys.readouterr().out)
    rows = data["rows"]
    assert [r["verdict"] for r in rows[1:]] == outcome.replay.chain.verdicts
    assert all(r["decided_at"] for r in rows[1:])
    # the history the HTML draws travels in the JSON, with the rule that decided each step
    assert [h["verdict"] for h in data["history"]] == outcome.replay.chain.verdicts
    assert all(h["rule"] != "undecided" and len(h["no_loss"]["p"]) for h in data["history"])


def _cli(*args: str) -> int:
    from edftools.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.parametrize(
    "fmt",
    [
        "parquet",  # runs and looks
        pytest.param("csv", marks=pytest.mark.slow),  # runs only: the looks are replayed
    ],
)
def test_an_exported_study_continues_on_another_store(
    study, tmp_path: Path, capsys, fmt: str
) -> None:
    """export (runs, and looks in Parquet) → import into a new store → the study goes on there
    with the same recipe, to the same decisions as the uninterrupted study."""
    import shutil

    from edftools.store.importers import export_runs
    from edftools.store.looks import export_looks

    with pytest.raises(KeyboardInterrupt):
        _study(tmp_path / "a.duckdb", stop_after=1)
    _, whole_store, whole = study  # the uninterrupted study (shared module fixture)
    cut = open_store(tmp_path / "a.duckdb")
    moved = tmp_path / f"moved_{fmt}.duckdb"
    export_runs(cut, tmp_path / f"runs.{fmt}")
    assert _cli("import", str(tmp_path / f"runs.{fmt}"), "--store", str(moved)) == 0
    if fmt == "parquet":
        export_looks(cut, tmp_path / "looks.parquet")
        assert _cli("import", str(tmp_path / "looks.parquet"), "--store", str(moved)) == 0
    shutil.copyfile(moved, tmp_path / "study.duckdb")
    _, store, resumed = _study(tmp_path / "study.duckdb")
    assert resumed.replay.chain.verdicts == whole.replay.chain.verdicts
    assert resumed.replay.counts == whole.replay.counts
    a = looks_frame(whole_store, "study").drop(columns=["created_at"])
    b = looks_frame(store, "study").drop(columns=["created_at"])
    assert a.equals(b)
    capsys.readouterr()


def test_sweep_cli_on_a_decided_study_says_it_trains_nothing(study, tmp_path: Path, capsys) -> None:
    """The plan line of a decided study: no look left, 0 to train (and nothing trains); also
    after the study was exported and imported into another store."""
    import shutil

    _, store, outcome = study
    recipe = tmp_path / "study.toml"
    recipe.write_text(RECIPE)
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(store.path, copy)
    moved = tmp_path / "moved.duckdb"
    from edftools.store.importers import export_runs

    export_runs(store, tmp_path / "runs.parquet")
    assert _cli("import", str(tmp_path / "runs.parquet"), "--store", str(moved)) == 0
    for target in (copy, moved):
        capsys.readouterr()
        code = _cli(
            "sweep", str(recipe), "--until-decided", "--store", str(target), "--no-progress"
        )
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "up to 180 runs (no look left to train) planned over 3 space(s), 0 to train" in err
        assert "stopped (decided) after 0 round(s), 0 runs trained" in out
        assert all(v in out for v in outcome.replay.chain.verdicts)


def test_until_decided_without_a_sequential_table_is_one_line(tmp_path: Path, capsys) -> None:
    root = Path(__file__).resolve().parents[1]
    store = tmp_path / "s.duckdb"
    code = _cli(
        "sweep",
        str(root / "recipes" / "digits_tiny.toml"),
        "--until-decided",
        "--store",
        str(store),
    )
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "has no [sequential] table" in err
    assert "Traceback" not in err and not store.exists()


def test_budget_cuts_the_look_in_flight_and_the_study_stays_valid(study, tmp_path: Path) -> None:
    """Runs of 30 (simulated) seconds and a 25 s budget: the first run starts (nothing to
    expect yet), then no other fits, so the first look is cut after one run, is not tested,
    and the next invocation completes it to the same decisions as an uncut study."""
    _, _, whole = study
    _, store, cut = _study(tmp_path / "b.duckdb", budget_s=25.0, run_seconds=30.0)
    assert cut.stopped_by == "budget" and cut.trained == 1 and cut.rounds == 1
    assert all(v == 0 for v in cut.replay.counts.values())  # the cut look is not tested
    assert looks_frame(store, "study").empty
    _, _, resumed = _study(tmp_path / "b.duckdb")
    assert resumed.replay.chain.verdicts == whole.replay.chain.verdicts
    assert resumed.replay.counts == whole.replay.counts
    assert resumed.trained == whole.trained - 1


def test_reruns_added_to_a_finished_study_train_only_the_looks_reruns(study, tmp_path) -> None:
    """A study run before reruns existed: adding ``reruns`` to its recipe resumes it (same
    identity), trains the reruns of the models its looks used, and changes no decision."""
    import shutil

    _, store, outcome = study
    copy = tmp_path / "s.duckdb"
    shutil.copyfile(store.path, copy)
    text = RECIPE.replace("n = 10\n", "n = 10\nreruns = { fraction = 0.2, seeds = 1 }\n")
    rerun_recipe = parse_recipe(text)
    resumed = open_store(copy)
    before = looks_frame(resumed, "study")
    executor = InlineExecutor(simulated(rerun_recipe))
    plans = []

    def train_round(plan, deadline=None):
        plans.append(plan)
        return execute_plan(plan, resumed, executor, progress=False, deadline=deadline).done

    again = run_until_decided(rerun_recipe, resumed, train_round, echo=lambda _: None)
    assert len(plans) == 1 and plans[0].originals == ()  # one round: the reruns only
    counts = outcome.replay.counts
    assert {r.space for r in plans[0].runs} == set(counts)
    assert all(r.index < counts[r.space] for r in plans[0].runs)
    assert again.trained == len(plans[0].runs) > 0
    assert again.replay.chain.verdicts == outcome.replay.chain.verdicts
    assert again.replay.counts == counts
    cols = ["look", "step", "n_parent", "n_restricted", "p_better", "p_no_loss", "verdict"]
    assert looks_frame(resumed, "study")[cols].equals(before[cols])
    runs = resumed.runs_frame(sweep="study")
    assert runs["rerun_of"].notna().sum() == again.trained
    done = run_until_decided(rerun_recipe, resumed, lambda p, _: pytest.fail("trained"), echo=len)
    assert done.trained == 0
