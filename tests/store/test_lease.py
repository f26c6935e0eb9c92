"""The sweep lease: a second sweep of one sweep on one store is refused up front, in one line;
a killed holder never leaves it stuck."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from edftools.errors import SweepError
from edftools.store.lease import SweepLease, lease_path

ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import sys
from edftools.store.lease import SweepLease
lease = SweepLease.acquire(sys.argv[1], sys.argv[2])
print("held", flush=True)
sys.stdin.readline()
"""


def test_a_second_lease_on_the_same_sweep_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    with SweepLease.acquire(store, "digits_tiny"):
        with pytest.raises(SweepError, match=r"already running on store .*\(pid \d+ on "):
            SweepLease.acquire(store, "digits_tiny")
        with SweepLease.acquire(store, "other_sweep"):  # another sweep: independent
            pass
        with SweepLease.acquire(tmp_path / "t.duckdb", "digits_tiny"):  # another store
            pass
    with SweepLease.acquire(store, "digits_tiny"):  # released: free again
        pass
    assert lease_path(store, "digits_tiny").parent == tmp_path.resolve()
    link = tmp_path / "link.duckdb"
    link.symlink_to(store)
    with (  # the same store under another name
        SweepLease.acquire(store, "digits_tiny"),
        pytest.raises(SweepError, match="already running"),
    ):
        SweepLease.acquire(link, "digits_tiny")


def test_a_killed_holder_leaves_no_stuck_lease(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store), "sw"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    with pytest.raises(SweepError, match=f"pid {proc.pid}"):
        SweepLease.acquire(store, "sw")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    with SweepLease.acquire(store, "sw"):  # the kernel released it with the process
        pass


def test_sweep_cli_refuses_a_second_sweep_before_training(tmp_path: Path, cli) -> None:
    store = tmp_path / "s.duckdb"
    recipe = ROOT / "recipes" / "digits_tiny.toml"
    with SweepLease.acquire(store, "digits_tiny"):
        code, out, err = cli("sweep", str(recipe), "--store", str(store), "--no-progress")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "sweep 'digits_tiny' is already running on store" in err
    from edftools.store import open_store

    # refused before the sweep opens its store (one opening, after the lease): no store, or
    # one without runs
    assert not store.exists() or open_store(store, read_only=True).fetch(
        "SELECT count(*) FROM runs"
    )[1] == [(0,)]
