"""The Ray backend on a local Ray instance (2 CPUs): same runs as the local backend, resume,
crashed workers, timeouts, the CLI joining a cluster by address, and the missing-Ray message.

`make test` keeps the sweep on Ray (same runs as the local backend, resume) and the cheap
executor tests; the crashed-worker and CLI-by-address tests (12-23 s each: workers killed and
restarted, a second interpreter importing torch) are slow, run by `make test-full`."""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edftools.errors import EdftoolsError, SweepError
from edftools.recipe import load_recipe, parse_recipe
from edftools.records import RunResult
from edftools.store import open_store
from edftools.train.executors import LocalProcessExecutor, RunTask
from edftools.train.plan import plan_sweep
from edftools.train.ray_executor import RayExecutor, ray_error_message, tasks_in_flight
from edftools.train.sweep import execute_plan

ray = pytest.importorskip("ray", reason="Ray is the optional extra edftools[ray]")

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "recipes" / "digits_tiny.toml"
CRASH_MARKER_ENV = "EDFTOOLS_TEST_CRASH_MARKER"

# Task functions below are pickled by value: Ray workers cannot import this test module.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def fake_train(task: RunTask) -> RunResult:
    """A stand-in for training: error = seed mod 97; the run id "crash*" kills its worker
    (once per marker file when one is named in the task's dataset options)."""
    if task.run_id.startswith("crash"):
        marker = task.dataset_options.get("marker")
        if marker is None or not os.path.exists(marker):
            if marker is not None:
                Path(marker).touch()
            os.kill(os.getpid(), 9)
    if task.run_id.startswith("slow"):
        time.sleep(60)
    error = float(task.seed % 97)
    return RunResult("ok", error, error, device=f"threads={task.schedule.threads}")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[str]:
    """One small local Ray instance for the module: 2 CPUs, no dashboard, logs in a tmp dir."""
    temp = tempfile.mkdtemp(prefix="edfray", dir="/tmp")  # short: Ray's socket paths are long
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=80 * 1024**2,
        _temp_dir=temp,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


def _runs(path: Path) -> list[tuple]:
    store = open_store(path, read_only=True)
    _, rows = store.fetch(
        "SELECT run_id, space, seed, status, error, best_error, flops, "
        "(SELECT count(*) FROM epochs e WHERE e.run_id = r.run_id) AS n_epochs "
        "FROM runs r ORDER BY run_id"
    )
    return rows


def _task(run_id: str, seed: int = 5, **options: str) -> RunTask:
    recipe = load_recipe(TINY)
    return RunTask(run_id, {}, seed, "digits", recipe.schedule, dataset_options=options)


def test_tasks_in_flight_counts_cpus_and_gpus() -> None:
    assert tasks_in_flight({"CPU": 8.0}, 2.0, 0.0) == 4
    assert tasks_in_flight({"CPU": 8.0, "GPU": 2.0}, 1.0, 0.5) == 4
    assert tasks_in_flight({"CPU": 8.0, "GPU": 2.0}, 1.0, 1.0) == 2
    assert tasks_in_flight({"CPU": 3.0}, 1.5, 0.0) == 2
    assert tasks_in_flight({"CPU": 1.0}, 4.0, 0.0) == 1  # queued by Ray, never zero
    assert tasks_in_flight({"CPU": 1.0}, 0.1, 0.0) == 10


def test_ray_error_message_is_one_line() -> None:
    class FakeError(Exception):
        pass

    assert ray_error_message(FakeError("first\n  second")) == "FakeError: first"
    assert ray_error_message(FakeError("")) == "FakeError"


def test_same_run_ids_and_errors_as_local_backend_and_resume(
    local_ray: str, tmp_path: Path
) -> None:
    recipe = load_recipe(TINY)
    plan = plan_sweep(recipe, n=2)
    local_path, ray_path = tmp_path / "local.duckdb", tmp_path / "ray.duckdb"
    with LocalProcessExecutor(1) as executor:
        execute_plan(plan, open_store(local_path), executor, progress=False)
    with RayExecutor.for_recipe(recipe) as executor:
        assert executor.capacity == 2
        first = execute_plan(plan_sweep(recipe, n=1), open_store(ray_path), executor, False)
        # Resume with a larger n: the stored run is skipped, only the new one trains.
        summary = execute_plan(plan, open_store(ray_path), executor, progress=False)
    assert (first.done, summary.skipped, summary.done, summary.statuses) == (1, 1, 1, {"ok": 1})
    local, on_ray = _runs(local_path), _runs(ray_path)
    assert [r[0] for r in on_ray] == sorted(r.run_id for r in plan.runs)
    assert on_ray == local  # same ids, seeds, statuses, errors, best errors, epoch counts
    assert all(r[3] == "ok" and r[7] == recipe.schedule.epochs for r in on_ray)


def _fake_recipe(retries: int, timeout_s: float | None = None) -> str:
    timeout = f"timeout_s = {timeout_s}\n" if timeout_s is not None else ""
    return (
        'name = "fake"\nn = 1\n[dataset]\nname = "digits"\n'
        f"[failure]\nretries = {retries}\nnum_cpus = 1\n{timeout}"
        '[[spaces]]\nname = "AnyNetX_E"\n[spaces.overrides]\npreset = "digits"\n'
    )


@pytest.mark.slow
def test_crashed_worker_is_failed_or_retried_never_lost(local_ray: str, tmp_path: Path) -> None:
    marker = str(tmp_path / "crashed-once")
    tasks = [_task("ok-1", 11), _task("crash-1", 12), _task("ok-2", 13)]
    with RayExecutor(num_cpus=1, task_fn=fake_train) as executor:
        for t in tasks:
            executor.submit(t)
        results = dict(
            (task.run_id, result) for task, result in (executor.next_result() for _ in tasks)
        )
        assert set(results) == {"ok-1", "crash-1", "ok-2"}
        crashed = results["crash-1"]
        assert crashed.status == "failed" and math.isnan(crashed.error)
        assert crashed.failure == "environment"
        assert crashed.message.startswith("WorkerCrashedError")
        assert results["ok-1"].error == 11.0 and results["ok-1"].device == "threads=1"
        # A task that crashes once, then succeeds: the executor hands back the failure, and
        # the re-submitted task runs on a fresh worker.
        for want in ("failed", "ok"):
            executor.submit(_task("crash-2", 14, marker=marker))
            task, result = executor.next_result()
            assert (task.run_id, result.status) == ("crash-2", want)

    # Through the sweep driver: retries = 0 stores the crash as failed; retries = 1 re-runs it.
    for retries, want in ((0, "failed"), (1, "ok")):
        recipe = parse_recipe(_fake_recipe(retries))
        plan = plan_sweep(recipe, n=2)
        crash_id = plan.runs[0].run_id
        flag = tmp_path / f"flag-{retries}"

        def crash_first(task: RunTask, crash_id: str = crash_id, flag: Path = flag) -> RunResult:
            if task.run_id == crash_id and not flag.exists():
                flag.touch()
                os.kill(os.getpid(), 9)
            return fake_train(task)

        path = tmp_path / f"retries{retries}.duckdb"
        with RayExecutor.for_recipe(recipe, task_fn=crash_first) as executor:
            summary = execute_plan(plan, open_store(path), executor, progress=False)
        rows = {r[0]: r for r in _runs(path)}
        assert set(rows) == {r.run_id for r in plan.runs}  # none lost
        assert rows[crash_id][3] == want
        assert summary.retried == retries
        _, msg = open_store(path, read_only=True).fetch(
            "SELECT message FROM runs WHERE run_id = ?", [crash_id]
        )
        if want == "failed":
            assert msg[0][0].startswith("WorkerCrashedError")


def test_timeout_cancels_the_task(local_ray: str) -> None:
    # the "slow" task sleeps 60 s: only the timeout can end it first, however busy the machine
    with RayExecutor(num_cpus=1, timeout_s=1.5, task_fn=fake_train) as executor:
        executor.submit(_task("slow-1"))
        task, result = executor.next_result()
    assert task.run_id == "slow-1" and result.status == "failed"
    assert result.failure == "environment" and "timed out after 1.5 s" in result.message


def test_the_recipe_threads_reach_the_task_unchanged(local_ray: str) -> None:
    task = _task("ok-3", 3)
    task = dataclasses.replace(task, schedule=dataclasses.replace(task.schedule, threads=2))
    with RayExecutor(num_cpus=1, task_fn=fake_train) as executor:
        executor.submit(task)
        _, result = executor.next_result()
    assert result.device == "threads=2"


def test_checks_run_on_the_cluster_and_fail_in_one_line(local_ray: str, tmp_path: Path) -> None:
    recipe = load_recipe(TINY)
    task = RunTask.from_plan(recipe, plan_sweep(recipe, n=1).runs[0])
    missing = dataclasses.replace(task, dataset="imagefolder", dataset_path=str(tmp_path / "no"))
    with (
        RayExecutor.for_recipe(recipe) as executor,
        pytest.raises(SweepError, match=r"^dataset 'imagefolder' cannot be read: .*no'"),
    ):
        executor.preflight(missing, "AnyNetX_E #0")


def test_bad_arguments_are_typed_errors(local_ray: str) -> None:
    with pytest.raises(EdftoolsError, match="num_cpus"):
        RayExecutor(num_cpus=0)
    with pytest.raises(EdftoolsError, match="max_in_flight"):
        RayExecutor(max_in_flight=0)
    cuda = parse_recipe(_fake_recipe(0).replace("n = 1\n", 'n = 1\ndevice = "cuda"\n', 1))
    with pytest.raises(EdftoolsError, match="num_gpus is 0"):
        RayExecutor.for_recipe(cuda)
    with RayExecutor(num_cpus=0.5, max_in_flight=3) as executor:
        assert executor.capacity == 3


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edftools", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=240,
    )


@pytest.mark.slow
def test_cli_sweep_joins_a_cluster_by_address(local_ray: str, tmp_path: Path) -> None:
    store = tmp_path / "cli.duckdb"
    args = ["sweep", str(TINY), "--n", "1", "--store", str(store), "--no-progress"]
    proc = _cli(*args, "--backend", "ray", "--address", local_ray)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "1 runs trained (1 ok)" in proc.stdout
    assert f"Ray at {local_ray}" in proc.stderr
    rows = _runs(store)
    assert [r[0] for r in rows] == sorted(r.run_id for r in plan_sweep(load_recipe(TINY), n=1).runs)
    assert all(r[3] == "ok" for r in rows)


def test_cli_without_ray_says_how_to_install(tmp_path: Path) -> None:
    store = tmp_path / "none.duckdb"
    code = (
        "import sys; sys.modules['ray'] = None\n"  # makes `import ray` raise ImportError
        "from edftools.cli import main\n"
        f"main(['sweep', {str(TINY)!r}, '--backend', 'ray', '--store', {str(store)!r}])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'edftools[ray]'" in lines[0], proc.stderr
    assert not store.exists()


def test_cli_address_needs_ray_backend(tmp_path: Path) -> None:
    proc = _cli("sweep", str(TINY), "--address", "auto", "--store", str(tmp_path / "x.duckdb"))
    assert proc.returncode == 2 and "--address needs --backend ray" in proc.stderr
    assert "Traceback" not in proc.stderr
