"""The sweep driver's store traffic: a worker gets its next run before the finished one is
written, and a sweep that has just read its store does not read it again."""

from __future__ import annotations

from pathlib import Path

import pytest

from edftools.errors import StoreError
from edftools.recipe import load_recipe
from edftools.records import RunRecord, RunResult
from edftools.store import open_store
from edftools.train.executors import Executor, RunTask
from edftools.train.plan import plan_sweep
from edftools.train.sweep import execute_plan, pending_runs

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "recipes" / "digits_tiny.toml"


class Recorder(Executor):
    """One run in flight at a time; every call is logged in ``events`` (shared with the store)."""

    def __init__(self, events: list[tuple[str, str]]) -> None:
        self.capacity, self.events, self.flight = 1, events, []

    def submit(self, task: RunTask) -> None:
        self.events.append(("submit", task.run_id))
        self.flight.append(task)

    def next_result(self) -> tuple[RunTask, RunResult]:
        task = self.flight.pop(0)
        return task, RunResult(status="ok", error=30.0, best_error=29.0)


class LoggedStore:
    """A store that logs its writes; reading the sweep's runs again fails the test."""

    def __init__(self, events: list[tuple[str, str]], read: bool) -> None:
        self.events, self.read = events, read

    def ensure_sweep(self, name: str, text: str) -> bool:
        assert self.read, "the sweep's registration was read again"
        return True

    def run_outcomes(self, sweep: str) -> dict[str, tuple[str, str | None]]:
        assert self.read, "the sweep's stored runs were read again"
        return {}

    def write_run(self, record: RunRecord, wait: bool = True) -> None:
        self.events.append(("write", record.run_id))


def test_the_next_run_is_submitted_before_the_finished_one_is_written() -> None:
    plan = plan_sweep(load_recipe(TINY), n=3)
    events: list[tuple[str, str]] = []
    summary = execute_plan(plan, LoggedStore(events, read=True), Recorder(events), progress=False)
    ids = [r.run_id for r in plan.runs]
    assert summary.done == 3
    assert events == [
        ("submit", ids[0]),
        ("submit", ids[1]),
        ("write", ids[0]),
        ("submit", ids[2]),
        ("write", ids[1]),
        ("write", ids[2]),
    ]


def test_given_its_pending_runs_the_driver_does_not_read_the_store_again() -> None:
    plan = plan_sweep(load_recipe(TINY), n=2)
    events: list[tuple[str, str]] = []
    pending = pending_runs(plan, LoggedStore(events, read=True))
    store = LoggedStore(events, read=False)
    summary = execute_plan(plan, store, Recorder(events), progress=False, pending=pending)
    assert summary.done == 2 and [e for e in events if e[0] == "write"] == [
        ("write", r.run_id) for r in plan.runs
    ]


def test_start_sweep_registers_and_reads_in_one_opening(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.duckdb", lazy=True)
    assert store.start_sweep("sw", "recipe") == {}
    assert store.fetch("SELECT name FROM sweeps")[1] == [("sw",)]
    plan = plan_sweep(load_recipe(TINY), n=1)
    execute_plan(plan, store, Recorder([]), progress=False)
    stored = store.start_sweep(plan.recipe.name, plan.recipe.identity_text())
    assert stored == {plan.runs[0].run_id: ("ok", None)}
    with pytest.raises(StoreError, match="different recipe"):
        store.start_sweep("sw", "another recipe")
