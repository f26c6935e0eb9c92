"""``edftools export --out -``: the runs as CSV on stdout, the count on stderr; Parquet and
``--looks`` are files only; a reader that stops early and a full disk end it in one line."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from store_testlib import edftools_process

from edftools.store import import_file


def test_stdout_export_is_the_csv_file_export(
    filled_store: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"  # the export's temporary folder goes here, and is removed
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    code, out, err = cli("export", "--out", "-", "--store", str(filled_store))
    assert code == 0 and err == "exported 5 run(s) to stdout\n", err
    path = tmp_path / "runs.csv"
    assert cli("export", "--out", str(path), "--store", str(filled_store))[0] == 0
    assert out == path.read_text(encoding="utf-8") and out.startswith("run_id,")
    code, out, err = cli("export", "--out", "-", "--sweep", "sw", "--store", str(filled_store))
    assert code == 0 and out.count("\n") > 5 and err == "exported 5 run(s) to stdout\n"
    assert not list(scratch.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "parquet"],
            "edftools: --out - writes CSV only: name a file for --format parquet\n",
        ),
        (["--looks"], "edftools: --looks exports Parquet only: name the file .parquet (not '-')\n"),
        (["--sweep", "nope"], "edftools: no runs to export in sweep 'nope'\n"),
    ],
)
def test_stdout_export_refusals_are_one_line(
    filled_store: Path, cli, args: list[str], message: str
) -> None:
    code, out, err = cli("export", "--out", "-", *args, "--store", str(filled_store))
    assert (code, out, err) == (2, "", message)


@pytest.fixture(scope="module")
def large_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 imported runs with a 2 kB message each: an export of about 4 MB, more than a pipe
    holds (64 KiB by default, at most /proc/sys/fs/pipe-max-size, 1 MiB by default)."""
    folder = tmp_path_factory.mktemp("large")
    csv = folder / "runs.csv"
    note = "x" * 2000
    rows = "".join(f"AnyNetX_A,{5 + i % 50 / 10},{100_000 + i},{note}\n" for i in range(2000))
    csv.write_text("space,error,params,message\n" + rows, encoding="utf-8")
    import_file(folder / "large.duckdb", csv)
    return folder / "large.duckdb"


def _export_process(store: Path, stdout) -> subprocess.Popen:
    return edftools_process("export", "--out", "-", "--store", str(store), stdout=stdout)


def test_a_reader_that_stops_early_ends_the_export_quietly(large_store: Path) -> None:
    """`edftools export --out - | head -1`: exit 0, nothing on stderr, no temporary file."""
    proc = _export_process(large_store, subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().startswith(b"run_id,sweep,")
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and err == b"", err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_an_export_to_a_full_stdout_is_one_line(large_store: Path) -> None:
    with open("/dev/full", "wb") as full:
        proc = _export_process(large_store, full)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and err == b"edftools: [Errno 28] No space left on device\n"
