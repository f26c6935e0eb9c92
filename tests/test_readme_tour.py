"""The README's CLI tour runs as written after ``edftools demo --out reports`` (what
``make demo`` runs): every command line of its first ``bash`` block, through a shell, in a
fresh folder that holds only ``recipes/`` (the demo finds the shipped reference data beside the
package). The tour's ``/tmp/...`` files go to this test's own folder, so the test writes
nothing outside it. Slow (about 40 s: the tour holds a sequential plan and a 4-model sweep);
``make test-full`` and CI run it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def tour_lines(readme: str) -> list[str]:
    """The command lines of the first ``bash`` block after the "A tour of the CLI" heading."""
    section = readme[readme.index("## A tour of the CLI") :]
    block = re.search(r"^```bash\n(.*?)^```", section, re.S | re.M)
    assert block is not None, "the tour has no bash block"
    return [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]


def test_tour_reader_keeps_every_command_and_drops_comments() -> None:
    readme = (
        "x\n## A tour of the CLI\n\n```bash\n# note\nedftools info   # c\n\n"
        "edftools spaces\n```\n```bash\nedftools other\n```\n"
    )
    assert tour_lines(readme) == ["edftools info   # c", "edftools spaces"]


@pytest.mark.slow
def test_readme_tour_runs_verbatim_after_the_demo(tmp_path: Path) -> None:
    lines = tour_lines((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(lines) >= 15 and all(ln.startswith("edftools ") for ln in lines), lines
    work, scratch = tmp_path / "clone", tmp_path / "scratch"
    work.mkdir()
    scratch.mkdir()
    shutil.copytree(ROOT / "recipes", work / "recipes")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDFTOOLS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True
        )

    demo = run(f"{sys.executable} -m edftools demo --out reports")
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert (work / "data" / "edftools.duckdb").exists()
    failed = []
    for line in lines:
        done = run(line.replace("/tmp/", f"{scratch}/"))
        if done.returncode != 0:
            failed.append(f"{line}\n  exit {done.returncode}: {done.stderr.strip()[-500:]}")
    assert not failed, "\n".join(failed)
    assert (work / "reports" / "compare.html").stat().st_size > 10_000
    assert (scratch / "tiny.duckdb").exists() and (scratch / "copy.duckdb").exists()
