"""kill -9 of a running sweep loses at most the runs in flight; resuming completes the plan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from edftools.errors import StoreError
from edftools.recipe import load_recipe
from edftools.store import open_store
from edftools.train.plan import plan_sweep

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "recipes" / "digits_tiny.toml"
N = 8


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _count(store: Path) -> int:
    try:
        with open_store(store, read_only=True, lock_timeout=5) as s:
            return int(s.query("SELECT count(*) AS n FROM runs").n[0])
    except StoreError:
        return 0


def test_kill_9_loses_only_runs_in_flight(tmp_path: Path) -> None:
    store = tmp_path / "k.duckdb"
    cmd = [
        sys.executable,
        "-m",
        "edftools",
        "sweep",
        str(TINY),
        "--store",
        str(store),
        "--n",
        str(N),
        "--workers",
        "2",
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 400  # generous: CI machines may be busy
        while _count(store) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no run stored in time"
            time.sleep(0.5)
        workers = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    before = _count(store)
    assert 2 <= before < N
    # orphaned workers notice the driver is gone and exit (after at most the run in flight)
    deadline = time.monotonic() + 60
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)
    assert _count(store) == before  # nothing written after the driver died
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{before} already stored" in done.stdout
    plan = plan_sweep(load_recipe(TINY), n=N)
    with open_store(store, read_only=True) as s:
        rows = s.query("SELECT run_id, status FROM runs")
        epochs = s.query("SELECT run_id, count(*) AS n FROM epochs GROUP BY run_id")
    assert sorted(rows.run_id) == sorted(r.run_id for r in plan.runs)  # each exactly once
    assert set(rows.status) == {"ok"}
    assert len(epochs) == N and set(epochs.n) == {1}
