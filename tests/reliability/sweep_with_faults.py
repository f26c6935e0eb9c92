"""``edftools sweep ...`` with a fault at a deterministic point, for the reliability tests.

Run as a script: ``python sweep_with_faults.py FAULT K [SYNC_DIR] -- SWEEP ARGS...`` where
FAULT is

* ``kill-after-commit``: ``kill -9`` of the driver right after its K-th ``write_run`` of this
  invocation committed (the K-th run is stored, the runs in flight are lost);
* ``kill-in-transaction``: ``kill -9`` inside the K-th write transaction, after the run's
  ``runs`` and ``epochs`` rows were inserted and before COMMIT (the K-th run must vanish);
* ``pause``: after each of the first K stored runs, create ``SYNC_DIR/stored-<i>`` and wait
  until ``SYNC_DIR/go-<i>`` exists (so a reader can act while the sweep is known to be live).

The fault points are counted writes, not wall-clock times, so a busy machine changes nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

PAUSE_LIMIT_S = 600  # hang guard: a test that never says "go" does not leave a sweep behind


def install(fault: str, k: int, sync: Path | None) -> None:
    """Patch the store writer of this process with the fault."""
    import edftools.store.store as store_module

    written = 0
    write_run = store_module.Store.write_run
    insert_rows = store_module.insert_rows

    def die() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def insert_then_maybe_die(con, runs, epochs) -> None:  # type: ignore[no-untyped-def]
        insert_rows(con, runs, epochs)
        if fault == "kill-in-transaction" and written + 1 == k:
            die()

    def write_with_fault(self, record, **options) -> None:  # type: ignore[no-untyped-def]
        nonlocal written
        write_run(self, record, **options)
        written += 1
        if fault == "kill-after-commit" and written == k:
            die()
        if fault == "pause" and written <= k:
            assert sync is not None
            (sync / f"stored-{written}").touch()
            deadline = time.monotonic() + PAUSE_LIMIT_S
            while not (sync / f"go-{written}").exists():
                if time.monotonic() > deadline:
                    die()
                time.sleep(0.02)

    store_module.insert_rows = insert_then_maybe_die
    store_module.Store.write_run = write_with_fault


def main(argv: list[str]) -> None:
    split = argv.index("--")
    fault, k, *rest = argv[:split]
    if fault not in ("kill-after-commit", "kill-in-transaction", "pause"):
        raise SystemExit(f"unknown fault {fault!r}")
    install(fault, int(k), Path(rest[0]) if rest else None)
    from edftools.cli import main as cli_main

    cli_main(["sweep", *argv[split + 1 :]])


if __name__ == "__main__":  # spawned workers import this file too: they must not run a sweep
    main(sys.argv[1:])
