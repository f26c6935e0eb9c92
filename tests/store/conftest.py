"""Shared fixtures for the store tests: stores, a filled store, the CLI run in-process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from store_testlib import make_record

from edftools.cli import main
from edftools.store import open_store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture(scope="session")
def _filled_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: sweep 'sw' with 3 ok runs of two spaces, one diverged, one failed."""
    path = tmp_path_factory.mktemp("template") / "filled.duckdb"
    store = open_store(path)
    store.ensure_sweep("sw", "[sweep]\nname = 'sw'\n")
    store.write_run(make_record("a1", error=10.0))
    store.write_run(make_record("a2", error=14.0, seed=1))
    store.write_run(make_record("b1", space="AnyNetX_B", error=12.5, seed=2))
    store.write_run(make_record("b2", space="AnyNetX_B", error=100.0, status="diverged", seed=3))
    store.write_run(make_record("b3", space="AnyNetX_B", error=float("nan"), status="failed"))
    return path


@pytest.fixture
def filled_store(_filled_store_template: Path, store_path: Path) -> Path:
    """A private copy of the filled store template."""
    shutil.copyfile(_filled_store_template, store_path)
    return store_path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run
