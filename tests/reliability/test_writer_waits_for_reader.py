"""A reader holding the store for longer than the writer's timeout never stops a sweep.

Deterministic: a helper process opens the store read-only when the test says ``hold`` and
closes it when the test says ``release`` — never after a sleep. The sweep's store has a lock
timeout of 0.2 s, so without the waiting writer the first blocked write would end the sweep
("store … is busy"). Here the sweep keeps training while the reader holds the store (every
run finishes during the hold), reports "waiting for a reader since …" once, and the reader
is released only after that report: every run is then stored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from reliability_lib import TALLY, tiny_recipe

from edftools.errors import StoreBusyError
from edftools.recipe import parse_recipe
from edftools.records import RunResult
from edftools.store import open_store
from edftools.train.executors import InlineExecutor
from edftools.train.plan import plan_sweep
from edftools.train.sweep import execute_plan

HOLDER = """
import sys, duckdb
for line in sys.stdin:
    if line.strip() == "hold":
        con = duckdb.connect(sys.argv[1], read_only=True)
        con.execute("SELECT count(*) FROM runs").fetchall()
        print("held", flush=True)
    elif line.strip() == "release":
        con.close()
        print("released", flush=True)
"""


class Holder:
    """A reader in another process that holds the store exactly when told to."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.held = False

    def tell(self, word: str, answer: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == answer

    def hold(self) -> None:
        self.tell("hold", "held")
        self.held = True

    def release(self) -> None:
        if self.held:
            self.tell("release", "released")
            self.held = False

    def close(self) -> None:
        self.release()
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def holder(tmp_path: Path):
    path = tmp_path / "held.duckdb"
    h = Holder(path)
    try:
        yield path, h
    finally:
        h.close()


def test_a_reader_that_outlasts_the_timeout_loses_no_run(holder) -> None:
    path, reader = holder
    recipe = parse_recipe(tiny_recipe("held", n=6))
    plan = plan_sweep(recipe)
    events: list[str] = []

    def on_wait(line: str) -> None:
        events.append(line)
        if "waiting for a reader" in line:
            reader.release()  # only now: the writer has already outwaited its old timeout

    def train(task):
        events.append(f"trained {task.run_id}")
        if len(events) == 2:  # the first run is stored; a reader takes the store
            reader.hold()
        return RunResult(status="ok", error=20.0, best_error=19.0)

    store = open_store(path, lock_timeout=0.2, on_wait=on_wait)
    summary = execute_plan(plan, store, InlineExecutor(train), progress=False)
    TALLY.faults_injected += 1
    stored = open_store(path, read_only=True).finished_run_ids("held")
    assert stored == {r.run_id for r in plan.runs}, events
    assert summary.done == len(plan.runs) == 6
    waits = [e for e in events if e.startswith("store ")]
    assert len(waits) == 2 and "waiting for a reader since" in waits[0], events
    assert "let go" in waits[1]
    # every run trained while the reader held the store: training never stopped for it
    assert all(e.startswith("trained") for e in events[: events.index(waits[0])])
    assert events.index(waits[0]) == len(plan.runs)


def test_without_on_wait_a_writer_still_gives_way(holder) -> None:
    """The store's old contract for other writers: busy after lock_timeout, one typed error."""
    path, reader = holder
    store = open_store(path, lock_timeout=0.2)
    store.ensure_sweep("x", "recipe")
    reader.hold()
    with pytest.raises(StoreBusyError, match="is busy"):
        store.ensure_sweep("y", "recipe")


@pytest.mark.slow
def test_edftools_sweep_outwaits_a_reader_end_to_end(holder, tmp_path: Path) -> None:
    """The issue's probe with the real command: `edftools sweep` trains while a reader holds
    the store past the 30 s timeout that used to end it (exit 2, runs lost); the reader lets
    go only when the sweep has said it waits. Every run is stored, exit 0. (About 30 s: the
    sweep's real lock timeout.)"""
    import os
    import threading
    import time

    from reliability_lib import ROOT, cli_env

    path, reader = holder
    recipe = tmp_path / "outwait.toml"
    recipe.write_text(tiny_recipe("outwait", n=3, workers=1))
    sync = tmp_path / "sync"
    sync.mkdir()
    faults = Path(__file__).with_name("sweep_with_faults.py")
    args = [str(recipe), "--store", str(path), "--no-progress"]
    proc = subprocess.Popen(
        [sys.executable, str(faults), "pause", "1", str(sync), "--", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=cli_env(),
        start_new_session=True,
    )
    lines: list[str] = []
    drain = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    drain.start()
    guard = time.monotonic() + 600  # hang guard only, never a pass/fail criterion
    try:
        while not (sync / "stored-1").exists():
            assert proc.poll() is None and time.monotonic() < guard, "".join(lines)
            time.sleep(0.05)
        reader.hold()  # the first run is stored: a reader now holds the store
        (sync / "go-1").touch()
        while not any("waiting for a reader since" in line for line in lines):
            assert proc.poll() is None and time.monotonic() < guard, "".join(lines)
            time.sleep(0.05)
        reader.release()
        assert proc.stdout is not None
        out = proc.stdout.read()  # stderr stays with the drain thread
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=30)
    drain.join(timeout=10)
    err = "".join(lines)
    TALLY.faults_injected += 1
    assert proc.returncode == 0, err[-2000:]
    assert "let go" in err and "busy" not in err
    stored = open_store(path, read_only=True).finished_run_ids("outwait")
    assert len(stored) == 3, (out, err[-2000:])


class _Killed(BaseException):
    """Stands for a kill -9 of the driver (raised from a training call)."""


def test_runs_kept_for_a_reader_survive_a_kill_in_the_journal(holder) -> None:
    """Runs finished while a reader holds the store go to the journal; the driver dies; the
    next sweep stores them from the journal and trains only the runs that were in flight."""
    from edftools.store.journal import RunJournal

    path, reader = holder
    recipe = parse_recipe(tiny_recipe("held", n=6))
    plan = plan_sweep(recipe)
    trained: list[str] = []

    def train(task):
        trained.append(task.run_id)
        if first_life and len(trained) == 2:
            reader.hold()  # run 1 is stored; runs 2 and 3 will be kept
        if first_life and len(trained) == 4:
            raise _Killed  # run 4 is in flight: lost, as with kill -9
        return RunResult(status="ok", error=20.0, best_error=19.0)

    first_life = True

    store = open_store(path, lock_timeout=0.2, on_wait=lambda line: None)
    journal = RunJournal(path, "held")
    with pytest.raises(_Killed):
        execute_plan(plan, store, InlineExecutor(train), progress=False, journal=journal)
    reader.release()
    ids = [r.run_id for r in plan.runs]
    assert open_store(path, read_only=True).finished_run_ids("held") == {ids[0]}
    lines = journal.path.read_text().splitlines()
    assert [__import__("json").loads(x)["run"]["run_id"] for x in lines] == ids[1:3]
    # a kill while appending leaves a cut line: ignored (that run was in flight)
    journal.path.write_text("\n".join(lines) + "\n" + lines[0][:40])
    # the next invocation: replay the journal, then train what is pending
    again = RunJournal(path, "held")
    messages: list[str] = []
    assert again.replay(store, messages.append) == 2 and not again.path.exists()
    assert "2 finished run(s) stored" in messages[0]
    trained.clear()
    first_life = False
    summary = execute_plan(plan, store, InlineExecutor(train), progress=False, journal=again)
    assert summary.skipped == 3 and summary.done == 3 and trained == ids[3:]
    assert open_store(path, read_only=True).finished_run_ids("held") == set(ids)
    # a journal replayed after a kill between a commit and its removal skips stored runs
    again.path.write_text("\n".join(lines) + "\n")
    assert RunJournal(path, "held").replay(store) == 0
