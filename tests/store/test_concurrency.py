"""A second process writes runs while `edftools sql` reads the same store.

The reader must never fail (it waits while the writer holds the file) and must never see a run
row without all of its epochs rows. A writer killed with SIGKILL leaves a consistent store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from edftools.store import open_store

HERE = Path(__file__).parent
CLI_READS = 2  # each `edftools sql` process takes about a second to start

# Each run i has 1 + i % 7 epochs, and runs.epochs says how many: a partial run shows up as a
# mismatch between runs.epochs and its number of epochs rows.
WRITER = """
import os, sys, time
sys.path.insert(0, {here!r})
from store_testlib import make_record
from edftools.store import open_store

store = open_store({path!r})
store.ensure_sweep("live", "recipe")
print("ready", flush=True)
costs = []
i = 0
while not os.path.exists({stop!r}):
    start = time.perf_counter()
    store.write_run(make_record(f"run{{i}}", sweep="live", n_epochs=1 + i % 7, seed=i))
    costs.append(time.perf_counter() - start)
    i += 1
    time.sleep(0.2)  # a sweep writes a run every few seconds; leave readers a gap
costs.sort()
print(f"write_run median {{1000 * costs[len(costs) // 2]:.1f}} ms", flush=True)
"""

CHECK = (
    "SELECT count(*) AS runs, "
    "count(*) FILTER (WHERE coalesce(e.n, 0) <> r.epochs) AS partial "
    "FROM runs r LEFT JOIN (SELECT run_id, count(*) AS n FROM epochs GROUP BY run_id) e "
    "USING (run_id)"
)


def _start_writer(path: Path) -> subprocess.Popen[str]:
    script = WRITER.format(here=str(HERE), path=str(path), stop=str(path) + ".stop")
    writer = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    return writer


def _sql_cli(path: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-m", "edftools", "sql", CHECK, "--store", str(path), "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    header, values = done.stdout.split()
    assert header == "runs,partial"
    runs, partial = map(int, values.split(","))
    return runs, partial


def test_sql_works_while_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "live.duckdb"
    writer = _start_writer(path)
    reader = open_store(path, read_only=True)
    seen = []
    try:
        for _ in range(CLI_READS):
            runs, partial = _sql_cli(path)
            assert partial == 0
            seen.append(runs)
            for _ in range(3):
                runs, partial = reader.fetch(CHECK)[1][0]
                assert partial == 0
                seen.append(runs)
        assert writer.poll() is None, "the writer stopped early"
    finally:
        Path(str(path) + ".stop").touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert seen == sorted(seen) and seen[-1] > seen[0], seen  # reads saw the sweep progress
    final, partial = _sql_cli(path)
    assert partial == 0 and final >= seen[-1]
    print(f"\n{len(seen)} reads during the sweep saw {seen}; {final} runs; {out.strip()}")


def test_writer_killed_mid_sweep_leaves_a_consistent_store(tmp_path: Path) -> None:
    path = tmp_path / "killed.duckdb"
    writer = _start_writer(path)
    reader = open_store(path, read_only=True)
    deadline = time.monotonic() + 20
    while reader.fetch(CHECK)[1][0][0] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    writer.communicate(timeout=30)
    runs, partial = open_store(path).fetch(CHECK)[1][0]
    assert runs >= 3 and partial == 0
    assert open_store(path).finished_run_ids("live") == {f"run{i}" for i in range(runs)}
