"""The refine/compare/demo commands end to end through the CLI (store from Parquet)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edftools.cli import main


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def store(reference_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from edftools.report.writers import load_reference

    path = tmp_path_factory.mktemp("store") / "runs.duckdb"
    load_reference(path, reference_dir)
    return path


def test_refine_json(store: Path, tmp_path: Path, capsys) -> None:
    code, out, _ = _cli(
        [
            "refine",
            "--store",
            str(store),
            "--chain",
            "A,B,RegNetX",
            "--json",
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 0
    data = json.loads(out)
    rows = data["rows"]
    assert [r["space"] for r in rows] == ["AnyNetX_A", "AnyNetX_B", "RegNetX"]
    assert rows[2]["verdict"] == "improves"
    # everything the HTML report shows: bands, each step's error window, good ranges, e_fit
    assert set(data["bands"]["spaces"]) == {"AnyNetX_A", "AnyNetX_B", "RegNetX"}
    assert len(data["bands"]["grid"]) == len(data["bands"]["spaces"]["RegNetX"]["upper"])
    assert [s["restricted"] for s in data["steps"]] == ["AnyNetX_B", "RegNetX"]
    assert all(s["window"]["high"] > s["window"]["low"] for s in data["steps"])
    assert {g["parameter"] for g in data["good_ranges"]} >= {"AnyNetX_B", "RegNetX"}
    assert data["settings"]["bins"] == 8 and data["settings"]["normalize"] == "flops"
    assert (tmp_path / "refinement.md").exists() and (tmp_path / "refinement.html").exists()


def test_compare_markdown_json_and_html(store: Path, tmp_path: Path, capsys) -> None:
    out_html = tmp_path / "c.html"
    code, out, _ = _cli(
        [
            "compare",
            "AnyNetX_A",
            "RegNetX",
            "--store",
            str(store),
            "--out",
            str(out_html),
            "--params",
            "d,wm",
        ],
        capsys,
    )
    assert code == 0
    assert "| AnyNetX_A | RegNetX |" in out and "RegNetX better" in out
    assert out_html.read_text().startswith("<!DOCTYPE html>")
    code, out, _ = _cli(
        ["compare", "A", "D", "--store", str(store), "--json", "--normalize", "none"], capsys
    )
    data = json.loads(out)
    assert code == 0 and {s["space"] for s in data["spaces"]} == {"AnyNetX_A", "AnyNetX_D"}
    assert data["tests"][0]["p_two_sided"] < 0.05
    # the numbers behind every figure of the HTML report
    assert [b["normalized"] for b in data["bands"]] == [False]
    assert data["window"]["high"] > data["window"]["low"]
    assert {(g["space"], g["parameter"]) for g in data["good_ranges"]} >= {("AnyNetX_A", "d")}
    assert data["trends"] and all("slope" in t for t in data["trends"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "NoSuchSpace"], "unknown space 'NoSuchSpace'"),
        (["compare", "A", "--sweep", "nope"], "no runs in sweep 'nope'"),
        (["compare", "A", "B", "--bins", "500"], "complexity bins are empty"),
        (["compare", "A", "--out", "x.html", "--params", "zz"], "unknown parameter 'zz'"),
    ],
)
def test_bad_input_is_one_line_exit_2(store, capsys, args, message, tmp_path) -> None:
    args = [a if a != "x.html" else str(tmp_path / "x.html") for a in args]
    code, _, err = _cli([*args, "--store", str(store)], capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()


def test_commands_do_not_import_torch() -> None:
    code = (
        "import sys, edftools.report.writers, edftools.commands.report, "
        "edftools.report.refine_html, edftools.report.compare_html; "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_drawing_helper_does_not_import_the_design_spaces() -> None:
    """What the reports' helper process imports before it draws (pandas, then its preload)
    leaves out the design spaces (the K/M/G format and the metric names live outside them):
    0.05 s less on the path every report waits for."""
    code = (
        "import importlib, sys, pandas\n"
        "from edftools.commands.report import COMPARE_DRAWING, REFINE_DRAWING\n"
        "for name in (*REFINE_DRAWING, *COMPARE_DRAWING):\n"
        "    importlib.import_module(name)\n"
        "assert 'edftools.spaces' not in sys.modules, 'edftools.spaces imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_refine_as_a_program_ends_without_teardown_and_loses_no_output(
    store: Path, tmp_path: Path
) -> None:
    """``python -m edftools refine`` ends with os._exit (cli.EXITS_WITHOUT_TEARDOWN): its whole
    stdout still reaches a pipe, its files are complete, and a reader that stops after the
    first line gets no traceback (exit 0, as with a BrokenPipeError)."""
    from edftools.cli import EXITS_WITHOUT_TEARDOWN, _command_name

    assert {"refine", "compare"} <= EXITS_WITHOUT_TEARDOWN and "sweep" not in EXITS_WITHOUT_TEARDOWN
    assert _command_name(["--version"]) is None
    assert _command_name(["refine", "--store", "x"]) == "refine"
    quick = ["--chain", "A,B", "--beside", ""]  # one step: the exit is what is tested
    args = [sys.executable, "-m", "edftools", "refine", *quick, "--store", str(store), "--out"]
    done = subprocess.run([*args, str(tmp_path / "a")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    markdown = (tmp_path / "a" / "refinement.md").read_text(encoding="utf-8")
    assert done.stdout == markdown and markdown.endswith("\n")
    html = (tmp_path / "a" / "refinement.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</body></html>")
    assert "wrote " in done.stderr and "Traceback" not in done.stderr
    with subprocess.Popen(
        [*args, str(tmp_path / "b")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as reader:
        assert reader.stdout is not None and reader.stderr is not None
        first = reader.stdout.readline()
        reader.stdout.close()  # the reader stops early, as `| head -1` does
        err = reader.stderr.read()
        assert reader.wait() == 0
    assert first == markdown.splitlines(keepends=True)[0]
    assert "Traceback" not in err and "Exception ignored" not in err
    refine = ["refine", *quick, "--out", str(tmp_path / "c")]
    export = ["export", "--format", "csv", "--out", str(tmp_path / "runs.csv")]
    for command, tears_down in (refine, False), (["info"], False), (export, True):
        mark = tmp_path / f"teardown-{command[0]}"
        code = (
            "import atexit, sys\n"
            f"atexit.register(lambda: open({str(mark)!r}, 'w').close())\n"
            f"sys.argv = ['edftools', *{command!r}, '--store', {str(store)!r}]\n"
            "from edftools.cli import main\n"
            "main()\n"
        )
        ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert ran.returncode == 0, ran.stderr
        assert mark.exists() is tears_down  # refine and info skip the teardown, export does not


def test_a_profiled_command_keeps_its_teardown(tmp_path: Path) -> None:
    """Under a profiler (or coverage's tracer) the commands exit as usual: cProfile writes its
    results at exit."""
    out = tmp_path / "spaces.prof"
    profile = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "edftools", "spaces"]
    subprocess.run(profile, check=True, capture_output=True)
    assert out.stat().st_size > 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("command", [["info"], ["refine", "--chain", "A,B", "--beside", ""]])
def test_stdout_on_a_full_disk_is_one_line_and_exit_1(
    store: Path, tmp_path: Path, command: list[str]
) -> None:
    args = [sys.executable, "-m", "edftools", *command, "--store", str(store)]
    if command[0] == "refine":
        args += ["--out", str(tmp_path)]
    with open("/dev/full", "w") as full:
        done = subprocess.run(args, stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "edftools: [Errno 28] No space left on device"
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_sequential_plan_shows_its_progress_on_stderr(store: Path, capsys) -> None:
    args = ["plan", "AnyNetX_A", "--store", str(store), "--normalize", "none", "--sequential"]
    args += ["--steps", "1", "--look-every", "50", "--max-n", "100", "--simulations", "10"]
    code, out, err = _cli(args, capsys)
    assert code == 0 and "sequential study of 1 step(s)" in out
    assert "simulated studies" in err and "20/20" in err
    code, out, err = _cli([*args, "--no-progress"], capsys)
    assert code == 0 and "simulated studies" not in err


def test_report_commands_freeze_the_imports_only_while_they_run() -> None:
    import gc

    from edftools.commands.report import _shared_imports

    gc.unfreeze()  # a known start, whatever ran before in this process
    assert gc.isenabled()
    with _shared_imports():
        assert gc.get_freeze_count() > 0  # the imports are not rescanned by each collection
        assert gc.isenabled()
    assert gc.get_freeze_count() == 0 and gc.isenabled()  # the caller's state, restored
    gc.disable()
    try:
        with _shared_imports():
            assert not gc.isenabled()
        assert not gc.isenabled()
        gc.freeze()  # a caller that froze objects itself keeps them frozen
        frozen = gc.get_freeze_count()
        with _shared_imports():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        gc.enable()
