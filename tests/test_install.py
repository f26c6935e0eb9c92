"""The stats-only install: core dependencies without training, the library without torch, and
`edftools sweep` naming the extra when training is not installed."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_core_dependencies_leave_training_to_an_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = {d.split(">")[0].split("=")[0].strip().lower() for d in project["dependencies"]}
    assert core == {
        "numpy",
        "scipy",
        "pandas",
        "statsmodels",
        "matplotlib",
        "seaborn",
        "duckdb",
        "pyarrow",
        "click",
        "tqdm",
    }
    train = {d.split(">")[0].lower() for d in project["optional-dependencies"]["train"]}
    assert train == {"torch", "scikit-learn", "pillow"}
    assert "train" in (ROOT / "Makefile").read_text(encoding="utf-8").split(".[dev,ray,")[1][:6]
    assert (ROOT / "edftools" / "py.typed").exists()


def test_the_ci_stats_only_script_runs_without_loading_torch() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "stats_only.py")],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    assert "stats-only install ok" in out


def test_sweep_without_the_training_extra_names_it_in_one_line(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # as if torch were not installed\n"
        "from edftools.cli import main\n"
        f"main(['sweep', {str(ROOT / 'recipes' / 'digits_tiny.toml')!r}, '--store', "
        f"{str(tmp_path / 's.duckdb')!r}])\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "pip install 'edftools[train]'" in res.stderr and "torch" in res.stderr
    assert not (tmp_path / "s.duckdb").exists()
