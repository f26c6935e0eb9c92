"""The one atomic writer (``edftools.files``, used by reports and exports): no temporary file
survives a failure; reports get the file mode of exports (0o666 minus the umask)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edftools import files as writers
from edftools.errors import StoreError
from edftools.report.writers import load_reference


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    """Set the process umask for one test, restoring it afterwards."""
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_success_writes_the_text_and_leaves_only_the_target(tmp_path: Path) -> None:
    path = writers.write_text(tmp_path / "sub" / "c.html", "héllo\n")
    assert path.read_text(encoding="utf-8") == "héllo\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["c.html"]


def test_failed_rename_removes_the_temp_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "refinement.md"
    target.write_text("old report")

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writers.os, "replace", full_disk)
    with pytest.raises(StoreError, match=r"cannot write .*refinement\.md: No space left on device"):
        writers.write_text(target, "new report")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refinement.md"]
    assert target.read_text() == "old report"


def test_failed_write_removes_the_temp_file(tmp_path: Path, monkeypatch) -> None:
    real_fdopen = os.fdopen

    class FullFile:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, text):
            self.fh.write(text[:10])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writers.os, "fdopen", lambda *a, **k: FullFile(real_fdopen(*a, **k)))
    with pytest.raises(StoreError, match="No space left on device"):
        writers.write_text(tmp_path / "c.html", "x" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_an_error_that_is_not_an_os_error_also_cleans_up(tmp_path: Path) -> None:
    # a lone surrogate (an undecodable command-line byte) cannot be encoded as UTF-8
    with pytest.raises(UnicodeEncodeError):
        writers.write_text(tmp_path / "c.html", "bad \udcff name")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002])
def test_reports_get_the_mode_of_exports(
    mask: int, umask, reference_dir: Path, tmp_path: Path
) -> None:
    from edftools.store.importers import export_runs
    from edftools.store.store import open_store

    store_path = tmp_path / "runs.duckdb"
    load_reference(store_path, reference_dir)
    umask(mask)
    report = writers.write_text(tmp_path / "report.html", "<p>x</p>")
    export = tmp_path / "runs.csv"
    export_runs(open_store(store_path, read_only=True), export)
    assert _mode(report) == 0o666 & ~mask
    assert _mode(report) == _mode(export)


def test_exports_of_runs_and_looks_use_the_same_writer(
    tmp_path: Path, reference_dir: Path, monkeypatch
) -> None:
    from edftools.store.importers import export_runs
    from edftools.store.store import open_store

    store_path = tmp_path / "runs.duckdb"
    load_reference(store_path, reference_dir)

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writers.os, "replace", full_disk)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StoreError, match="No space left on device"):
        export_runs(open_store(store_path, read_only=True), out / "runs.parquet")
    assert list(out.iterdir()) == []
