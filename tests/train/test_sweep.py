"""The sweep: planning (seeded, prefix-stable ids), the CLI end to end, resume, failures."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edftools.errors import SpaceError
from edftools.recipe import load_recipe, parse_recipe
from edftools.spaces.config import NetConfig
from edftools.store import open_store
from edftools.train.executors import (
    InlineExecutor,
    LocalProcessExecutor,
    RunTask,
    default_threads,
    execute_task,
)
from edftools.train.sweep import derive_seed, execute_plan, plan_sweep, run_id

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "recipes" / "digits_tiny.toml"
TINY_TEXT = TINY.read_text()


def tiny(**replace: str) -> object:
    """The tiny recipe with text replacements (old -> new)."""
    text = TINY_TEXT
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_recipe(text)


def cli_sweep(store: Path, *args: str, recipe: Path = TINY) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "edftools", "sweep", str(recipe), "--store", str(store)]
    return subprocess.run(
        [*cmd, "--no-progress", *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def stored_runs(store: Path) -> dict[str, tuple]:
    with open_store(store, read_only=True) as s:
        df = s.query("SELECT run_id, space, config, seed, status, error, best_error FROM runs")
    return {
        r.run_id: (r.space, r.config, r.seed, r.status, r.error, r.best_error)
        for r in df.itertuples()
    }


# -- planning (no training) -------------------------------------------------------------------


def test_plan_is_seeded_and_prefix_stable() -> None:
    recipe = load_recipe(TINY)
    small, big = plan_sweep(recipe, n=3), plan_sweep(recipe, n=150)
    assert small.runs == big.runs[:3]  # --n 3 then --n 150 resumes: same first runs
    assert plan_sweep(recipe, n=3).runs == small.runs
    ids = [r.run_id for r in big.runs]
    assert len(set(ids)) == len(ids)
    assert [r.index for r in big.runs] == list(range(150))
    assert all(50_000 <= r.flops <= 150_000 for r in big.runs)  # the recipe's band
    other = plan_sweep(dataclasses.replace(recipe, seed=1), n=3)
    assert {r.run_id for r in other.runs}.isdisjoint(ids)
    assert [r.config for r in other.runs] != [r.config for r in small.runs]


def test_plan_interleaves_spaces_and_selects() -> None:
    recipe = load_recipe(ROOT / "recipes" / "digits_refinement.toml")
    plan = plan_sweep(recipe, n=2, spaces=["RegNetX", "AnyNetX_B"])
    assert [r.space for r in plan.runs] == ["RegNetX", "AnyNetX_B"] * 2
    assert all(r.config.block_type == "X" for r in plan.runs)
    with pytest.raises(Exception, match="has no space 'Nope'"):
        plan_sweep(recipe, n=1, spaces=["Nope"])


def test_run_id_depends_on_training_content_only() -> None:
    base = plan_sweep(tiny(), n=2).runs
    same = [
        tiny(**{"workers = 2": "workers = 1"}),
        tiny(**{"[dataset]": "[failure]\nretries = 3\n[dataset]"}),
        tiny(**{"n = 4": "n = 9"}),
        tiny(**{'description = "': 'device = "cuda"\ndescription = "x'}),
        tiny(**{"weight_decay = 5e-4": "weight_decay = 5e-4\nthreads = 2\nmomentum = 0.9"}),
    ]
    for recipe in same:
        assert [r.run_id for r in plan_sweep(recipe, n=2).runs] == [r.run_id for r in base]
    different = [
        tiny(**{"epochs = 1": "epochs = 2"}),
        tiny(**{"base_lr = 0.2": "base_lr = 0.1"}),
        tiny(**{'name = "digits_tiny"': 'name = "other"'}),
        tiny(**{'name = "digits"': 'name = "digits"\nsplit_seed = 1'}),
    ]
    for recipe in different:
        runs = plan_sweep(recipe, n=2).runs
        assert [r.config for r in runs] == [r.config for r in base]
        assert {r.run_id for r in runs}.isdisjoint(r.run_id for r in base)
    r0 = base[0]
    assert run_id(tiny(), r0.space, r0.config, r0.seed + 1) != r0.run_id
    assert run_id(tiny(), "B", r0.config, r0.seed) != r0.run_id


def test_derive_seed_is_stable() -> None:
    assert derive_seed(0, "run", "A", 0) == derive_seed(0, "run", "A", 0)
    seeds = {derive_seed(s, "run", "A", i) for s in range(5) for i in range(200)}
    assert len(seeds) == 1000 and all(0 <= x < 2**31 for x in seeds)
    assert derive_seed(0, "run", "AnyNetX_E", 0) == 1958160520  # pinned: seeds must not drift


def test_default_threads() -> None:
    cores = len(os.sched_getaffinity(0))
    assert default_threads(1) == cores
    assert default_threads(cores * 4) == 1


# -- end to end -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_sweep(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """``edftools sweep recipes/digits_tiny.toml --n 4`` into a fresh store."""
    store = tmp_path_factory.mktemp("sweep") / "a.duckdb"
    proc = cli_sweep(store, "--n", "4", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert "4 runs trained (4 ok)" in proc.stdout
    return stored_runs(store)


def test_cli_sweep_trains_and_stores_4(first_sweep: dict[str, tuple]) -> None:
    plan = plan_sweep(load_recipe(TINY), n=4)
    assert set(first_sweep) == {r.run_id for r in plan.runs}
    for r in plan.runs:
        space, config, seed, status, error, best = first_sweep[r.run_id]
        assert (space, seed, status) == (r.space, r.seed, "ok")
        assert NetConfig.from_json(config) == r.config
        assert 0 <= best <= error <= 100


def test_resume_without_duplicates_and_determinism(
    first_sweep: dict[str, tuple], tmp_path: Path
) -> None:
    store = tmp_path / "b.duckdb"
    proc = cli_sweep(store, "--n", "2", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    two = stored_runs(store)
    assert len(two) == 2
    with open_store(store, read_only=True) as s:
        created = s.query("SELECT run_id, created_at FROM runs ORDER BY run_id")
    proc = cli_sweep(store, "--n", "4", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert "2 already stored" in proc.stdout
    four = stored_runs(store)
    assert len(four) == 4 and all(four[k] == v for k, v in two.items())
    with open_store(store, read_only=True) as s:
        again = s.query(
            "SELECT run_id, created_at FROM runs WHERE run_id IN "
            f"({','.join(repr(k) for k in two)}) ORDER BY run_id"
        )
        assert s.query("SELECT count(*) AS n FROM epochs").n[0] == 4  # 1 epoch each
    assert again.equals(created)  # the first two rows untouched
    # two fresh sweeps (different worker counts, same threads per run): identical results
    assert four == first_sweep
    proc = cli_sweep(store, "--n", "4")
    assert proc.returncode == 0 and "0 runs trained" in proc.stdout


def test_cli_unknown_space_exits_2(tmp_path: Path) -> None:
    proc = cli_sweep(tmp_path / "s.duckdb", "--space", "Nope")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "has no space 'Nope'" in proc.stderr
    assert not (tmp_path / "s.duckdb").exists()


@pytest.mark.parametrize("band", ['["900M", "1000M"]', '["24M", "30M"]'])
def test_cli_unreachable_band_exits_2_fast(tmp_path: Path, band: str) -> None:
    # far above the space (rejected by its complexity bounds) and just above its largest
    # member (rejected by the sampler's first draws): both used to draw 1M-10M configs
    recipe = tmp_path / "unreachable.toml"
    recipe.write_text(TINY_TEXT.replace('["0.05M", "0.15M"]', band))
    start = time.perf_counter()
    proc = cli_sweep(tmp_path / "u.duckdb", recipe=recipe)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert line.count("\n") == 0 and "space AnyNetX_E:" in line and "flops" in line
    assert "members span about" in line and "Traceback" not in line
    assert elapsed < 30  # hang guard (interpreter start included), not a benchmark
    assert not (tmp_path / "u.duckdb").exists()


def test_plan_unreachable_band_names_the_recipe_space() -> None:
    recipe = tiny(
        **{
            '["0.05M", "0.15M"]': '["900M", "1000M"]',
            'name = "AnyNetX_E"': 'name = "small_E"\ncatalog = "AnyNetX_E"',
        }
    )
    with pytest.raises(SpaceError, match=r"recipe space 'small_E': space AnyNetX_E: .*900M"):
        plan_sweep(recipe)


def test_cli_changed_recipe_same_name_exits_2(first_sweep: dict, tmp_path: Path) -> None:
    store = tmp_path / "c.duckdb"
    with open_store(store) as s:
        s.ensure_sweep("digits_tiny", "some other recipe")
    proc = cli_sweep(store, "--n", "1")
    assert proc.returncode == 2 and "different recipe" in proc.stderr


# -- failures ---------------------------------------------------------------------------------


def crash_or_train(task: RunTask) -> object:
    """Test task function: a worker process dies on the run named by $EDFTOOLS_TEST_CRASH.

    With $EDFTOOLS_TEST_MARK set, it dies only on the first attempt (a marker file remembers).
    """
    if task.run_id == os.environ.get("EDFTOOLS_TEST_CRASH"):
        mark = os.environ.get("EDFTOOLS_TEST_MARK")
        if not mark or not os.path.exists(mark):
            if mark:
                Path(mark).write_text("crashed once")
            os._exit(7)
    return execute_task(task)


def test_failed_runs_are_recorded_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_sweep(tiny(), n=3)
    bad = dataclasses.replace(
        plan.runs[1], config=dataclasses.replace(plan.runs[1].config, in_channels=3)
    )  # cannot run on 1-channel digits
    plan = dataclasses.replace(plan, runs=(plan.runs[0], bad, plan.runs[2]))
    monkeypatch.setenv("EDFTOOLS_TEST_CRASH", plan.runs[2].run_id)
    store = tmp_path / "f.duckdb"
    with open_store(store) as s, LocalProcessExecutor(2, task_fn=crash_or_train) as ex:
        summary = execute_plan(plan, s, ex, progress=False)
    assert summary.statuses == {"ok": 1, "failed": 2}
    runs = stored_runs(store)
    assert runs[plan.runs[0].run_id][3] == "ok"
    with open_store(store, read_only=True) as s:
        msgs = dict(
            s.query("SELECT run_id, message FROM runs WHERE status = 'failed'").itertuples(
                index=False
            )
        )
    assert "in_channels" in msgs[bad.run_id]
    assert "worker process died (exit code 7)" in msgs[plan.runs[2].run_id]
    # resume: failed runs are re-run (replaced, never duplicated); the crash now retries once
    monkeypatch.setenv("EDFTOOLS_TEST_MARK", str(tmp_path / "mark"))
    recipe = dataclasses.replace(
        plan.recipe, failure=dataclasses.replace(plan.recipe.failure, retries=1)
    )
    plan = dataclasses.replace(plan, recipe=recipe)
    with open_store(store) as s, LocalProcessExecutor(1, task_fn=crash_or_train) as ex:
        summary = execute_plan(plan, s, ex, progress=False)
    assert summary.skipped == 1 and summary.retried == 2  # bad config fails twice, crash once
    assert summary.statuses == {"ok": 1, "failed": 1}
    runs = stored_runs(store)
    assert len(runs) == 3 and runs[plan.runs[2].run_id][3] == "ok"
    assert runs[bad.run_id][3] == "failed"


def test_timeout_kills_the_run(tmp_path: Path) -> None:
    plan = plan_sweep(tiny(**{"epochs = 1": "epochs = 50"}), n=1)
    with open_store(tmp_path / "t.duckdb") as s, LocalProcessExecutor(1, timeout_s=0.5) as ex:
        summary = execute_plan(plan, s, ex, progress=False)
        row = s.query("SELECT status, message FROM runs")
    assert summary.statuses == {"failed": 1}
    assert row.status[0] == "failed" and "timed out after 0.5 s" in row.message[0]


def test_divergence_is_recorded_diverged(tmp_path: Path) -> None:
    recipe = tiny(**{"base_lr = 0.2": "base_lr = 1e12", "weight_decay = 5e-4": ""})
    plan = plan_sweep(recipe, n=1)
    with open_store(tmp_path / "d.duckdb") as s:
        summary = execute_plan(plan, s, InlineExecutor(), progress=False)
        row = s.query("SELECT status, error, best_error, message FROM runs")
    assert summary.statuses == {"diverged": 1}
    assert (row.status[0], row.error[0], row.best_error[0]) == ("diverged", 100.0, 100.0)
    assert "non-finite" in row.message[0]


def test_records_carry_versions_and_complexity(first_sweep: dict, tmp_path: Path) -> None:
    plan = plan_sweep(tiny(), n=1)
    with open_store(tmp_path / "v.duckdb") as s:
        execute_plan(plan, s, InlineExecutor(), progress=False)
        row = s.query("SELECT flops, params, acts, epochs, dataset, versions FROM runs")
    run = plan.runs[0]
    assert (row.flops[0], row.params[0], row.acts[0]) == (run.flops, run.params, run.acts)
    assert (row.epochs[0], row.dataset[0]) == (1, "digits")
    assert {"python", "torch", "edftools"} <= set(json.loads(row.versions[0]))
    if default_threads(2) == 1:  # same thread count: in-process run == worker-process run
        assert first_sweep[run.run_id][4] == stored_runs(tmp_path / "v.duckdb")[run.run_id][4]
