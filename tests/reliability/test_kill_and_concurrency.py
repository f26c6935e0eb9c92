"""Faults while a sweep runs: ``kill -9`` of the driver at random points, then resume; and a
reader running ``edftools sql`` in a loop while a sweep writes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_lib import (
    CONSISTENCY_SQL,
    ROOT,
    TALLY,
    cli_command,
    cli_env,
    consistency,
    run_cli,
    stored_runs,
    tiny_recipe,
)

from edftools.recipe import load_recipe
from edftools.train.plan import plan_sweep

KILL_SEEDS = (11, 22, 33, 44)  # one kill -9 per seed, at a seeded random point
PLANNED_MARK = "runs planned"


STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_sweep_left_behind() -> Iterator[None]:
    """A failing test must not leave its sweep (and the sweep's workers) running."""
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        wait_group_gone(proc.pid, timeout=10)


class Sweep:
    """A ``edftools sweep`` subprocess in its own session; stderr is drained by a thread."""

    def __init__(self, recipe: Path, store: Path) -> None:
        self.proc = subprocess.Popen(
            cli_command("sweep", str(recipe), "--store", str(store), "--no-progress"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=cli_env(),
            start_new_session=True,
        )
        STARTED.append(self.proc)
        self.planned = threading.Event()
        self.stderr: list[str] = []
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            if PLANNED_MARK in line:
                self.planned.set()
        self.planned.set()  # the process ended (maybe before planning): stop waiting

    def wait_planned(self, timeout: float = 120) -> None:
        assert self.planned.wait(timeout), "the sweep did not start"
        assert self.proc.poll() in (None, 0), "".join(self.stderr)[-2000:]

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        out, _ = self.proc.communicate(timeout=timeout)
        self._thread.join(timeout=10)
        return self.proc.returncode, out, "".join(self.stderr)


def live_group_members(pgid: int) -> list[int]:
    """Pids of live (not zombie) processes in process group ``pgid``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def wait_group_gone(pgid: int, timeout: float = 30) -> list[int]:
    """Wait for a killed driver's workers to exit on their own; kill any left and return them."""
    deadline = time.monotonic() + timeout
    while (left := live_group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


def test_kill_9_at_random_points_then_resume(tmp_path: Path) -> None:
    recipe = tmp_path / "kill.toml"
    recipe.write_text(tiny_recipe("kill9", n=8, workers=2))
    store = tmp_path / "kill.duckdb"
    planned = {r.run_id for r in plan_sweep(load_recipe(recipe)).runs}
    finished: dict[str, tuple] = {}  # first sighting of every finished run
    kills = 0
    for seed in KILL_SEEDS:
        rng = random.Random(seed)
        sweep = Sweep(recipe, store)
        sweep.wait_planned()
        # The kill point: after 0 or 1 more runs are stored, plus a random 0-1.5 s.
        target = len(finished) + rng.randint(0, 1)
        while sweep.proc.poll() is None and len(stored_runs(store, "kill9")) < target:
            time.sleep(0.2)
        time.sleep(rng.uniform(0.0, 1.5))
        if sweep.proc.poll() is None:
            os.kill(sweep.proc.pid, signal.SIGKILL)
            kills += 1
            TALLY.faults_injected += 1
        code, _, err = sweep.finish()
        assert code in (0, -signal.SIGKILL), err[-2000:]
        orphans = wait_group_gone(sweep.proc.pid)
        assert not orphans, f"workers outlived their killed driver: {orphans}"
        now = stored_runs(store, "kill9")
        lost = [rid for rid, row in finished.items() if now.get(rid) != row]
        TALLY.runs_lost += len(lost)
        assert not lost, f"finished runs lost or re-trained after kill (seed {seed}): {lost}"
        assert set(now) <= planned
        counts = consistency(store)
        TALLY.duplicates += counts["n_runs"] - counts["n_distinct"]
        assert counts["partial"] == counts["orphans"] == 0, counts
        for rid, row in now.items():
            if row[0] != "failed":
                finished.setdefault(rid, row)
    assert kills >= 2, f"only {kills} of {len(KILL_SEEDS)} kills hit a running sweep"

    proc = run_cli("sweep", str(recipe), "--store", str(store), "--no-progress", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{len(finished)} already stored" in proc.stdout, proc.stdout
    final = stored_runs(store, "kill9")
    lost = [rid for rid, row in finished.items() if final.get(rid) != row]
    TALLY.runs_lost += len(lost)
    counts = consistency(store)
    TALLY.duplicates += counts["n_runs"] - counts["n_distinct"]
    assert not lost
    assert set(final) == planned and counts["n_runs"] == len(planned)
    assert counts["partial"] == counts["orphans"] == 0
    assert all(row[0] == "ok" for row in final.values())


READER_SQL = CONSISTENCY_SQL.strip()


def test_sql_reader_never_fails_nor_sees_a_partial_run(tmp_path: Path) -> None:
    recipe = tmp_path / "read.toml"
    # two workers of one torch thread each: a 2-thread worker crawls while the reader runs
    recipe.write_text(tiny_recipe("reader", n=4, workers=2))
    store = tmp_path / "read.duckdb"
    sweep = Sweep(recipe, store)
    sweep.wait_planned()
    reads_during, seen_runs = 0, []
    while True:
        running = sweep.proc.poll() is None
        proc = run_cli("sql", READER_SQL, "--store", str(store), "--format", "json", timeout=120)
        TALLY.concurrent_reads += 1
        assert proc.returncode == 0, proc.stderr[-2000:]
        row = json.loads(proc.stdout)[0]
        assert row["partial"] == 0 and row["orphans"] == 0, row
        assert row["n_runs"] == row["n_distinct"]
        seen_runs.append(row["n_runs"])
        reads_during += running
        if not running:
            break
    code, _, err = sweep.finish()
    assert code == 0, err[-2000:]
    assert seen_runs == sorted(seen_runs), "the run count went down"
    assert seen_runs[-1] == 4
    assert reads_during >= 3, f"only {reads_during} reads overlapped the sweep"
