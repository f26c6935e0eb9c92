"""Faults while a sweep runs: ``kill -9`` of the driver at seeded points, then resume; and a
reader running ``edftools sql`` in a loop while a sweep writes.

Fault points are counted store writes (``sweep_with_faults.py``), never wall-clock times: every
kill hits a running sweep at exactly the planned point, however busy the machine is."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
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
from edftools.store import open_store
from edftools.train.plan import plan_sweep

# One kill -9 per seed, at a seeded point (see kill_point): 11 dies inside its 2nd write
# transaction, 22 right after its 1st commit, 33 after its 1st commit, 44 inside its 1st write.
# `make test` kills once, inside the second write's transaction (seed 11: the first run is
# committed, the second rolled back); `make test-full` adds the after-commit kills.
QUICK_KILLS = (11,)
TWO_KILLS = (11, 22)
ALL_KILLS = (11, 22, 33, 44)
FAULTS = Path(__file__).with_name("sweep_with_faults.py")
WAIT_LIMIT_S = 600  # hang guard for waiting on a sweep's events, never a pass/fail criterion


def kill_point(seed: int) -> tuple[str, int]:
    """The seeded fault of one invocation: after the k-th commit, or inside the k-th write."""
    rng = random.Random(seed)
    return rng.choice(("kill-after-commit", "kill-in-transaction")), rng.randint(1, 2)


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
    """A ``edftools sweep`` subprocess in its own session; stderr is drained by a thread.

    ``fault`` (``(name, k, *sync dir)``) runs it through ``sweep_with_faults.py``.
    """

    def __init__(self, recipe: Path, store: Path, fault: tuple = ()) -> None:
        args = ["sweep", str(recipe), "--store", str(store), "--no-progress"]
        if fault:
            command = [sys.executable, str(FAULTS), *map(str, fault), "--", *args[1:]]
        else:
            command = cli_command(*args)
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=cli_env(),
            start_new_session=True,
        )
        STARTED.append(self.proc)
        self.stderr: list[str] = []
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

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


@pytest.mark.parametrize(
    "seeds",
    [
        pytest.param(QUICK_KILLS, id="1-kill"),
        pytest.param(TWO_KILLS, id="2-kills", marks=pytest.mark.slow),
        pytest.param(ALL_KILLS, id="4-kills", marks=pytest.mark.slow),
    ],
)
def test_kill_9_at_seeded_points_then_resume(tmp_path: Path, seeds: tuple[int, ...]) -> None:
    recipe = tmp_path / "kill.toml"
    # at most 2 new runs per kill: 2 runs more than the kills can store never run out
    recipe.write_text(tiny_recipe("kill9", n=2 * len(seeds) + 2, workers=2))
    store = tmp_path / "kill.duckdb"
    planned = {r.run_id for r in plan_sweep(load_recipe(recipe)).runs}
    finished: dict[str, tuple] = {}  # first sighting of every finished run
    for seed in seeds:
        fault, k = kill_point(seed)
        sweep = Sweep(recipe, store, (fault, k))
        code, _, err = sweep.finish(timeout=WAIT_LIMIT_S)
        assert code == -signal.SIGKILL, f"{fault} {k} (seed {seed}) did not kill: {err[-2000:]}"
        TALLY.faults_injected += 1
        orphans = wait_group_gone(sweep.proc.pid)
        assert not orphans, f"workers outlived their killed driver: {orphans}"
        now = stored_runs(store, "kill9")  # read after the workers are gone
        lost = [rid for rid, row in finished.items() if now.get(rid) != row]
        TALLY.runs_lost += len(lost)
        assert not lost, f"finished runs lost or re-trained after kill (seed {seed}): {lost}"
        assert set(now) <= planned
        # exactly the committed writes are stored: k after a commit, k - 1 when the k-th
        # write was killed before its COMMIT; nothing was written after the driver died
        new = len(now) - len(finished)
        assert new == (k if fault == "kill-after-commit" else k - 1), (seed, fault, k, new)
        counts = consistency(store)
        TALLY.duplicates += counts["n_runs"] - counts["n_distinct"]
        assert counts["partial"] == counts["orphans"] == 0, counts
        for rid, row in now.items():
            assert row[0] == "ok", row
            finished.setdefault(rid, row)

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
    with open_store(store, read_only=True) as s:
        epochs = s.fetch("SELECT count(*), count(DISTINCT run_id) FROM epochs")[1][0]
    assert epochs == (len(planned), len(planned))  # one epoch each, each run once


READER_SQL = CONSISTENCY_SQL.strip()


def read_store(store: Path) -> int:
    """One ``edftools sql`` consistency read; returns the number of runs it saw."""
    proc = run_cli("sql", READER_SQL, "--store", str(store), "--format", "json", timeout=120)
    TALLY.concurrent_reads += 1
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = json.loads(proc.stdout)[0]
    assert row["partial"] == 0 and row["orphans"] == 0, row
    assert row["n_runs"] == row["n_distinct"]
    return int(row["n_runs"])


def wait_for(path: Path, sweep: Sweep) -> None:
    """Wait until the sweep creates ``path`` (an event, not a time); fail if it exits first."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not path.exists():
        assert sweep.proc.poll() is None, "".join(sweep.stderr)[-2000:]
        assert time.monotonic() < deadline, f"hang guard: no {path.name} from the sweep"
        time.sleep(0.05)


PAUSES = 3  # the sweep waits for a read after each of its first 3 stored runs


def test_sql_reader_never_fails_nor_sees_a_partial_run(tmp_path: Path) -> None:
    recipe = tmp_path / "read.toml"
    recipe.write_text(tiny_recipe("reader", n=4, workers=2))
    store = tmp_path / "read.duckdb"
    sync = tmp_path / "sync"
    sync.mkdir()
    sweep = Sweep(recipe, store, ("pause", PAUSES, sync))
    seen_runs = []
    for i in range(1, PAUSES + 1):  # reads while the sweep is certainly alive, workers busy
        wait_for(sync / f"stored-{i}", sweep)
        seen_runs.append(read_store(store))
        assert seen_runs[-1] == i
        (sync / f"go-{i}").touch()
    while sweep.proc.poll() is None:  # and free-running reads racing the last writes
        seen_runs.append(read_store(store))
    code, _, err = sweep.finish()
    assert code == 0, err[-2000:]
    seen_runs.append(read_store(store))
    assert seen_runs == sorted(seen_runs), "the run count went down"
    assert seen_runs[-1] == 4
