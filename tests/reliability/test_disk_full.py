"""Disk full while a sweep writes: the store lives on a small tmpfs that a filler file has
filled. The sweep must stop with one clear error line (exit code 2), the store must stay
readable and consistent, and once space is freed a resume completes every planned run once."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_lib import (
    TALLY,
    assert_clean_error,
    consistency,
    run_cli,
    stored_runs,
    tiny_recipe,
)

from edftools.recipe import load_recipe
from edftools.store import open_store
from edftools.train.plan import plan_sweep

TMPFS_SIZE = "8m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 8 MiB mounted under tmp_path (skipped where mounting is not allowed)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    try:
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mount_point)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a tmpfs for the disk-full test: {exc}")
    if proc.returncode != 0:
        reason = proc.stderr.strip() or f"mount exited with {proc.returncode}"
        pytest.skip(f"cannot mount a tmpfs for the disk-full test (needs root): {reason}")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def fill(disk: Path, leave_bytes: int) -> Path:
    """Write a filler file until the disk is full, then give back ``leave_bytes``."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1 << 20, 64 << 10, 4 << 10, 512, 1):  # unbuffered, down to the last byte
            try:
                while True:
                    os.write(fd, bytes(size))
            except OSError:
                pass
        os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave_bytes))
    finally:
        os.close(fd)
    return filler


def test_disk_full_stops_the_sweep_cleanly_and_the_store_survives(small_disk: Path) -> None:
    recipe = small_disk.parent / "full.toml"
    recipe.write_text(tiny_recipe("diskfull", n=3, workers=1))
    store = small_disk / "store.duckdb"
    open_store(store)  # an empty store: the schema fits, then the disk is filled
    planned = {r.run_id for r in plan_sweep(load_recipe(recipe)).runs}
    args = ("sweep", str(recipe), "--store", str(store), "--no-progress")

    # 1: no byte left — the first write (registering the sweep) fails.
    # 2: ~200 KB left — some runs are written, then a commit fails mid-sweep.
    for leave in (0, 200 * 1024):
        filler = fill(small_disk, leave)
        proc = run_cli(*args, timeout=300)
        TALLY.faults_injected += 1
        line = assert_clean_error(proc.returncode, proc.stderr, f"disk full, {leave} B left")
        assert "No space left on device" in line, line
        filler.unlink()
        counts = consistency(store)  # readable, and no partial run
        assert counts["partial"] == counts["orphans"] == 0, counts
        assert counts["n_runs"] == counts["n_distinct"]
        assert set(stored_runs(store, "diskfull")) <= planned

    before = stored_runs(store, "diskfull")
    proc = run_cli(*args, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    after = stored_runs(store, "diskfull")
    lost = [rid for rid, row in before.items() if row[0] != "failed" and after.get(rid) != row]
    TALLY.runs_lost += len(lost)
    counts = consistency(store)
    TALLY.duplicates += counts["n_runs"] - counts["n_distinct"]
    assert not lost
    assert set(after) == planned and counts["n_runs"] == len(planned)
    assert counts["partial"] == counts["orphans"] == 0
