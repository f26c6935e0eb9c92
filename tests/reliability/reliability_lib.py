"""Helpers for the reliability suite: the CLI in a subprocess or in-process, checksums, a tiny
recipe, store consistency checks, and the session's tally of faults and bad inputs."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Tally:
    """What the suite did to the code: printed at the end of the session."""

    faults_injected: int = 0  # kill -9, disk full
    bad_inputs_tried: int = 0  # corrupt stores, bad recipes, bad import files, fuzzed JSON
    concurrent_reads: int = 0  # `edftools sql` calls while a sweep wrote
    runs_lost: int = 0  # finished runs missing after resume (must stay 0)
    duplicates: int = 0  # run ids stored more than once (must stay 0)

    def line(self) -> str:
        return (
            f"reliability: {self.faults_injected} faults injected, {self.bad_inputs_tried} bad "
            f"inputs tried, {self.concurrent_reads} concurrent reads, {self.runs_lost} runs "
            f"lost, {self.duplicates} duplicates"
        )


TALLY = Tally()


def tiny_recipe(name: str, n: int, workers: int = 2, extra: str = "") -> str:
    """A digits recipe of tiny AnyNetX_E networks trained for one epoch (seconds per run)."""
    return f"""
name = "{name}"
seed = 3
n = {n}
workers = {workers}
[dataset]
name = "digits"
[schedule]
epochs = 1
batch_size = 128
base_lr = 0.2
[band]
flops = ["0.05M", "0.15M"]
[[spaces]]
name = "AnyNetX_E"
[spaces.overrides]
preset = "digits"
{extra}"""


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "EDFTOOLS_STORE"}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "edftools", *args]


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``python -m edftools ARGS`` in a subprocess (text output captured)."""
    return subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=cli_env(),
        timeout=timeout,
    )


def run_cli_inprocess(*args: str) -> tuple[int, str, str]:
    """``edftools.cli.main(ARGS)`` in this process: ``(exit code, stdout, stderr)``.

    An exception other than SystemExit escapes: that is a traceback the user would see.
    """
    from edftools.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def assert_clean_error(code: int, stderr: str, what: str) -> str:
    """Exit code 2, no traceback, and the error is ONE ``edftools: ...`` line, the last on
    stderr (a sweep may print its plan line before the error)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, f"{what}: exit code {code}, stderr: {stderr[-1500:]}"
    assert "Traceback" not in stderr, f"{what}: traceback on stderr:\n{stderr[-3000:]}"
    errors = [line for line in lines if line.startswith("edftools: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], f"{what}: stderr:\n{stderr[-1500:]}"
    assert len(lines) <= 2, f"{what}: expected one error line on stderr, got:\n{stderr[-1500:]}"
    return errors[0]


def sha256(path: Path) -> str:
    """Checksum of a file and of its DuckDB write-ahead log, if any."""
    digest = hashlib.sha256(path.read_bytes())
    wal = Path(str(path) + ".wal")
    if wal.exists():
        digest.update(b"wal:" + wal.read_bytes())
    return digest.hexdigest()


CONSISTENCY_SQL = """
SELECT
  (SELECT count(*) FROM runs) AS n_runs,
  (SELECT count(DISTINCT run_id) FROM runs) AS n_distinct,
  (SELECT count(*) FROM runs r WHERE status = 'ok'
      AND epochs <> (SELECT count(*) FROM epochs e WHERE e.run_id = r.run_id)) AS partial,
  (SELECT count(*) FROM epochs WHERE run_id NOT IN (SELECT run_id FROM runs)) AS orphans
"""


def stored_runs(path: Path, sweep: str) -> dict[str, tuple[Any, ...]]:
    """``run_id -> (status, error, created_at)`` of one sweep (read-only, in-process)."""
    from edftools.store import open_store

    store = open_store(path, read_only=True)
    _, rows = store.fetch(
        "SELECT run_id, status, error, created_at FROM runs WHERE sweep = ?", [sweep]
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def consistency(path: Path) -> dict[str, int]:
    """Counts that must be: n_runs == n_distinct, partial == 0, orphans == 0."""
    from edftools.store import open_store

    store = open_store(path, read_only=True)
    columns, rows = store.fetch(CONSISTENCY_SQL)
    return dict(zip(columns, rows[0], strict=True))
