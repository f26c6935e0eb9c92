"""The sweep: planning (seeded, prefix-stable, pinned ids), the CLI end to end, resume,
bit-identical results whatever --workers, failures and their kinds, checks before training."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from edftools.errors import SpaceError
from edftools.recipe import load_recipe, parse_recipe
from edftools.records import RunResult
from edftools.spaces.config import NetConfig
from edftools.store import open_store
from edftools.train.environment import usable_cores, worker_count
from edftools.train.executors import InlineExecutor, LocalProcessExecutor, RunTask, execute_task
from edftools.train.plan import RUN_ID_VERSION, derive_seed, plan_sweep, run_id
from edftools.train.sweep import execute_plan

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


def cli_sweep(
    store: Path, *args: str, recipe: Path = TINY, timeout: float = 300
) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "edftools", "sweep", str(recipe), "--store", str(store)]
    return subprocess.run(
        [*cmd, "--no-progress", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The single ``edftools: ...`` error line of a failed command (exit 2, no traceback)."""
    errors = [line for line in proc.stderr.splitlines() if line.startswith("edftools: ")]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and len(errors) == 1, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == errors[0]
    return errors[0]


EPOCH_SQL = (
    "SELECT run_id, epoch, train_loss, train_error, test_error, lr FROM epochs "
    "ORDER BY run_id, epoch"
)


def stored_epochs(store: Path) -> list[tuple]:
    """Every epoch row of a store except its wall-clock seconds."""
    with open_store(store, read_only=True) as s:
        return s.fetch(EPOCH_SQL)[1]


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
        tiny(**{"weight_decay = 5e-4": "weight_decay = 5e-4\nthreads = 1\nmomentum = 0.9"}),
    ]
    for recipe in same:
        assert [r.run_id for r in plan_sweep(recipe, n=2).runs] == [r.run_id for r in base]
    different = [
        tiny(**{"epochs = 1": "epochs = 2"}),
        tiny(**{"base_lr = 0.2": "base_lr = 0.1"}),
        tiny(**{'name = "digits_tiny"': 'name = "other"'}),
        tiny(**{'name = "digits"': 'name = "digits"\nsplit_seed = 1'}),
        tiny(**{"weight_decay = 5e-4": "weight_decay = 5e-4\nthreads = 2"}),
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


# Computed before threads became part of the run id (RUN_ID_VERSION 1, commit f246de6): the
# default threads = 1 must keep every id, including the shipped reference sweep's.
PINNED_TINY = ("d15d77c3325178c33f60", "0e73954a3326adc8196f", "956b5feafea803ca337e")
PINNED_REFINEMENT = {
    ("AnyNetX_A", 0): "f0861adb9ddc3eb50c36",
    ("AnyNetX_E", 0): "cc7640f2ec1dd90441e5",
    ("RegNetX", 0): "64e2bfa88367232ff1dd",
    ("RegNetY", 1): "c8e2546a15fbcce19147",
}


def test_run_ids_are_pinned() -> None:
    assert RUN_ID_VERSION == 1
    assert tuple(r.run_id for r in plan_sweep(load_recipe(TINY), n=3).runs) == PINNED_TINY
    plan = plan_sweep(load_recipe(ROOT / "recipes" / "digits_refinement.toml"), n=2)
    ids = {(r.space, r.index): r.run_id for r in plan.runs}
    assert {k: ids[k] for k in PINNED_REFINEMENT} == PINNED_REFINEMENT
    reference = pd.read_parquet(ROOT / "data" / "reference" / "digits_refinement.parquet")
    assert set(ids.values()) <= set(reference.run_id)  # the shipped runs resume, not re-train


def test_worker_count_caps_at_pending_runs_and_cores() -> None:
    assert worker_count(2, 10, 1, 2) == (2, "")
    k, note = worker_count(64, 2, 1, 2)
    assert k == 2 and note == "64 workers capped to 2: 2 pending run(s)"
    k, note = worker_count(64, 100, 1, 2)
    assert k == 2 and "2 usable core(s) / 1 thread(s) per run" in note
    assert worker_count(4, 100, 2, 8)[0] == 4
    assert worker_count(4, 100, 4, 8)[0] == 2
    assert worker_count(4, 100, 16, 8)[0] == 1  # a run wider than the machine: one at a time
    assert worker_count(4, 100, 1, 2, oversubscribe=True) == (4, "")
    assert worker_count(4, 3, 1, 2, oversubscribe=True)[0] == 3
    assert worker_count(3, 0, 1, 8)[0] == 1
    assert usable_cores() == len(os.sched_getaffinity(0))


# -- end to end -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_sweep(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """``edftools sweep recipes/digits_tiny.toml --n 4`` into a fresh store."""
    store = tmp_path_factory.mktemp("sweep") / "a.duckdb"
    proc = cli_sweep(store, "--n", "4", "--workers", "2", "--oversubscribe")
    assert proc.returncode == 0, proc.stderr
    assert "4 runs trained (4 ok)" in proc.stdout
    assert "2 worker(s) x 1 thread(s)" in proc.stderr
    return {"runs": stored_runs(store), "epochs": stored_epochs(store)}


def test_cli_sweep_trains_and_stores_4(first_sweep: dict) -> None:
    plan = plan_sweep(load_recipe(TINY), n=4)
    assert set(first_sweep["runs"]) == {r.run_id for r in plan.runs}
    for r in plan.runs:
        space, config, seed, status, error, best = first_sweep["runs"][r.run_id]
        assert (space, seed, status) == (r.space, r.seed, "ok")
        assert NetConfig.from_json(config) == r.config
        assert 0 <= best <= error <= 100


def test_resume_without_duplicates_and_determinism(first_sweep: dict, tmp_path: Path) -> None:
    store = tmp_path / "b.duckdb"
    proc = cli_sweep(store, "--n", "2", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "1 worker(s) x 1 thread(s)" in proc.stderr
    two = stored_runs(store)
    assert len(two) == 2
    with open_store(store, read_only=True) as s:
        created = s.query("SELECT run_id, created_at FROM runs ORDER BY run_id")
    proc = cli_sweep(store, "--n", "4", "--workers", "1")
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
    # --workers 1 here, --workers 2 in first_sweep (one thread per run either way, the
    # recipe's): bit-identical stores, final errors and every epoch row alike
    assert four == first_sweep["runs"]
    assert stored_epochs(store) == first_sweep["epochs"]
    proc = cli_sweep(store, "--n", "4")
    assert proc.returncode == 0 and "0 runs trained" in proc.stdout
    assert "0 to train" in proc.stderr


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
    proc = cli_sweep(tmp_path / "u.duckdb", recipe=recipe, timeout=120)  # hang guard only
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert line.count("\n") == 0 and "space AnyNetX_E:" in line and "flops" in line
    assert "members span about" in line and "Traceback" not in line
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


def sleep_forever(task: RunTask) -> RunResult:
    """Test task function: a run that never finishes (only a timeout ends it)."""
    time.sleep(3600)
    raise AssertionError("unreachable")


def failure_kinds(store: Path) -> dict[str, tuple]:
    """``run_id -> (status, failure_kind, message)`` of a store."""
    with open_store(store, read_only=True) as s:
        rows = s.fetch("SELECT run_id, status, failure_kind, message FROM runs")[1]
    return {r[0]: r[1:] for r in rows}


def test_failed_runs_are_recorded_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_sweep(tiny(), n=3)
    bad = dataclasses.replace(
        plan.runs[1], config=dataclasses.replace(plan.runs[1].config, in_channels=3)
    )  # cannot run on 1-channel digits: the config's own failure
    plan = dataclasses.replace(plan, runs=(plan.runs[0], bad, plan.runs[2]))
    crash = plan.runs[2].run_id  # its worker dies: an environment failure
    monkeypatch.setenv("EDFTOOLS_TEST_CRASH", crash)
    store = tmp_path / "f.duckdb"
    with open_store(store) as s, LocalProcessExecutor(2, task_fn=crash_or_train) as ex:
        summary = execute_plan(plan, s, ex, progress=False)
    assert summary.statuses == {"ok": 1, "failed": 2} and not summary.all_failed
    assert "(2 failed [1 environment, 1 config], 1 ok)" in summary.line()
    kinds = failure_kinds(store)
    assert kinds[plan.runs[0].run_id][:2] == ("ok", None)
    assert kinds[bad.run_id][:2] == ("failed", "config") and "in_channels" in kinds[bad.run_id][2]
    assert kinds[crash][:2] == ("failed", "environment")
    assert "worker process died (exit code 7)" in kinds[crash][2]
    # resume: the environment failure is re-run (replaced, never duplicated; it crashes once
    # more, then succeeds on retry), the config failure is kept
    monkeypatch.setenv("EDFTOOLS_TEST_MARK", str(tmp_path / "mark"))
    recipe = dataclasses.replace(
        plan.recipe, failure=dataclasses.replace(plan.recipe.failure, retries=1)
    )
    plan = dataclasses.replace(plan, recipe=recipe)
    with open_store(store) as s, LocalProcessExecutor(1, task_fn=crash_or_train) as ex:
        summary = execute_plan(plan, s, ex, progress=False)
    assert (summary.skipped, summary.kept_failed, summary.retried) == (2, 1, 1)
    assert summary.statuses == {"ok": 1}
    assert "(1 failed: config, kept; --retry-failed re-runs them)" in summary.line()
    kinds = failure_kinds(store)
    assert len(kinds) == 3 and kinds[crash][:2] == ("ok", None)
    assert kinds[bad.run_id][:2] == ("failed", "config")
    # --retry-failed re-runs the config failure too (it fails again, twice with retries = 1)
    with open_store(store) as s, LocalProcessExecutor(1, task_fn=crash_or_train) as ex:
        summary = execute_plan(plan, s, ex, progress=False, retry_failed=True)
    assert (summary.skipped, summary.retried, summary.statuses) == (2, 1, {"failed": 1})
    assert summary.all_failed and summary.most_common_failure()[:1] == ("config",)
    assert len(failure_kinds(store)) == 3


def test_timeout_kills_the_run_as_an_environment_failure(tmp_path: Path) -> None:
    plan = plan_sweep(tiny(), n=1)
    store = tmp_path / "t.duckdb"
    with (
        open_store(store) as s,
        LocalProcessExecutor(1, timeout_s=0.5, task_fn=sleep_forever) as ex,
    ):
        summary = execute_plan(plan, s, ex, progress=False)
    assert summary.statuses == {"failed": 1}
    status, kind, message = failure_kinds(store)[plan.runs[0].run_id]
    assert (status, kind) == ("failed", "environment") and "timed out after 0.5 s" in message


def report_threads(task: RunTask) -> RunResult:
    """Test task function: says which thread count the task reached its worker with."""
    return RunResult("ok", 1.0, 1.0, device=f"threads={task.schedule.threads}")


def test_no_executor_changes_a_runs_threads() -> None:
    plan = plan_sweep(tiny(**{"weight_decay = 5e-4": "weight_decay = 5e-4\nthreads = 3"}), n=2)
    tasks = [RunTask.from_plan(plan.recipe, r) for r in plan.runs]
    for executor in (
        LocalProcessExecutor(1, task_fn=report_threads),
        InlineExecutor(report_threads),
    ):
        results = []
        with executor:
            for task in tasks:  # one at a time: capacity 1
                executor.submit(task)
                results.append(executor.next_result()[1])
        assert {r.device for r in results} == {"threads=3"}


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
    versions = json.loads(row.versions[0])
    keys = {"python", "torch", "numpy", "edftools", "threads", "cpu_capability", "machine"}
    assert keys <= set(versions) and versions["threads"] == 1
    assert versions["cpu_capability"] and versions["machine"]
    # the same thread count: a run in this process == the same run in a worker process
    assert first_sweep["runs"][run.run_id][4] == stored_runs(tmp_path / "v.duckdb")[run.run_id][4]


# -- checks before training, and a sweep whose runs all fail ----------------------------------


def refused_before_training(tmp_path: Path, recipe_text: str) -> tuple[str, Path]:
    """Sweep 2 runs of ``recipe_text``: the checks refuse it in one error line (exit 2) and
    the store holds no run. Returns the line and the recipe's path."""
    recipe = tmp_path / "checked.toml"
    recipe.write_text(recipe_text)
    store = tmp_path / "checked.duckdb"
    line = one_error_line(cli_sweep(store, "--n", "2", recipe=recipe))
    assert failure_kinds(store) == {}
    return line, recipe


def test_cuda_without_a_gpu_exits_2_before_any_worker(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    text = TINY_TEXT.replace("seed = 0", 'seed = 0\ndevice = "cuda"')
    line, _ = refused_before_training(tmp_path, text)
    assert "device check failed" in line and "CUDA is not available" in line


def test_missing_dataset_path_exits_2(tmp_path: Path) -> None:
    # resolution = 8: the dataset sets the space's resolution (imagefolder's default is 224)
    folder = f'name = "imagefolder"\npath = "{tmp_path}/nope"\nresolution = 8'
    text = TINY_TEXT.replace('name = "digits"', folder)
    line, _ = refused_before_training(tmp_path, text)
    assert "dataset 'imagefolder' cannot be read" in line and "nope" in line


def test_dry_run_failure_exits_2(tmp_path: Path) -> None:
    text = TINY_TEXT.replace('preset = "digits"', 'preset = "digits"\nnum_classes = 7')
    line, recipe = refused_before_training(tmp_path, text)
    first = plan_sweep(load_recipe(recipe), n=2).runs[0]
    assert f"dry run of run {first.run_id} (AnyNetX_E #0) failed" in line
    assert "num_classes = 7 but dataset digits has 10" in line


def test_all_runs_failing_exits_2_and_environment_failures_are_retried(tmp_path: Path) -> None:
    # every run times out (an environment failure) after passing the checks; --workers 64
    # for 2 runs starts 2 workers
    recipe = tmp_path / "slow.toml"
    recipe.write_text(TINY_TEXT + "[failure]\ntimeout_s = 0.001\n")
    store = tmp_path / "a.duckdb"
    proc = cli_sweep(store, "--n", "2", "--workers", "64", recipe=recipe)
    assert "64 workers capped to" in proc.stderr and "2 pending run(s)" in proc.stderr
    assert "2 runs trained (2 failed [2 environment])" in proc.stdout
    line = one_error_line(proc)
    assert "all 2 runs of this sweep failed; most common failure (2 of 2, environment)" in line
    assert "run timed out after 0.001 s" in line
    assert {v[:2] for v in failure_kinds(store).values()} == {("failed", "environment")}
    # the next invocation re-runs them (the same recipe identity: failure is not part of it)
    recipe.write_text(TINY_TEXT)
    proc = cli_sweep(store, "--n", "1", recipe=recipe)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "1 runs trained (1 ok), 0 already stored" in proc.stdout


def test_cli_sweep_trains_the_reruns_of_its_planned_runs(tmp_path: Path) -> None:
    """A tiny sweep with ``reruns``: the plan line counts them, each is stored with its
    original's config under another seed, and the analysis keeps it out of the EDF."""
    from edftools.analysis.runs import select_runs
    from edftools.analysis.seednoise import seed_noise_table

    text = TINY_TEXT.replace("n = 4\n", "n = 4\nreruns = { fraction = 0.5, seeds = 1 }\n")
    recipe_path = tmp_path / "tiny_reruns.toml"
    recipe_path.write_text(text)
    plan = plan_sweep(parse_recipe(text))
    assert len(plan.originals) == 4 and len(plan.reruns) == 1  # index 0 of seed 0
    store = tmp_path / "r.duckdb"
    proc = cli_sweep(store, "--workers", "1", recipe=recipe_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "5 runs (of which 1 seed-noise reruns) planned" in proc.stderr
    with open_store(store, read_only=True) as s:
        runs = s.runs_frame(status=None).set_index("run_id")
    assert set(runs.index) == {r.run_id for r in plan.runs}
    (rerun,) = plan.reruns
    row, original = runs.loc[rerun.run_id], runs.loc[rerun.rerun_of]
    assert (row.rerun_of, row.replicate, row.config) == (rerun.rerun_of, 1, original.config)
    assert row.seed != original.seed and runs["rerun_of"].notna().sum() == 1
    frame, _ = select_runs(runs.reset_index(), ["AnyNetX_E"])
    assert rerun.run_id not in set(frame["run_id"])
    assert row.status == original.status == "ok", (row.message, original.message)
    table = seed_noise_table(runs.reset_index(), ["AnyNetX_E"])
    assert table is not None and table.per_space["AnyNetX_E"].n_configs == 1
