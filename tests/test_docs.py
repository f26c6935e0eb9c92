"""The guides in docs/ run: each guide's Python blocks in order in one fresh folder (one
process), and each `edftools ...` line of its shell blocks as a command that must exit 0
(through the CLI's entry point, in that process). The README's CLI tour runs as written after
``edftools demo --out reports`` (what ``make demo`` runs): every command line of its first block,
through a shell, in a fresh folder that holds only ``recipes/`` (the demo finds the shipped
reference data beside the package), its ``/tmp/...`` files redirected into the test's own
folder. The tour is slow (about a minute: it holds a sequential plan and a 4-model sweep);
``make test-full`` and CI run it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDES = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(path: Path) -> list[tuple[str, str]]:
    """The fenced code blocks of a guide: (language, code), in order."""
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(path.read_text(encoding="utf-8"))]


def test_every_guide_has_code_and_the_index_lists_it() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    guides = [g for g in GUIDES if g.name != "README.md"]
    assert {g.name for g in guides} == {"library.md", "compare.md", "sql.md", "generalize.md"}
    for guide in guides:
        assert f"({guide.name})" in index
        assert any(lang == "python" for lang, _ in blocks(guide)), guide.name


def test_the_block_reader_finds_blocks_in_order() -> None:
    text = "a\n```python\nx = 1\n```\n```bash\nedftools info\n```\n"
    path = ROOT / "docs" / "README.md"
    found = [(m.group(1), m.group(2)) for m in BLOCK.finditer(text)]
    assert found == [("python", "x = 1\n"), ("bash", "edftools info\n")]
    assert blocks(path) == []


@pytest.mark.parametrize(
    "guide", [g for g in GUIDES if g.name != "README.md"], ids=lambda p: p.stem
)
def test_guide_runs(guide: Path, tmp_path: Path) -> None:
    script: list[str] = []
    for lang, code in blocks(guide):
        if lang == "python":
            script.append(code)
        elif lang in ("bash", "console", "sh"):
            for line in code.splitlines():
                if not line.startswith("edftools "):
                    continue
                words = shlex.split(line)
                out = None
                if ">" in words:  # `edftools ... > file`
                    at = words.index(">")
                    words, out = words[:at], words[at + 1]
                call = f"_run({words[1:]!r}, {out!r})"
                script.append(call + "\n")
    # The guide's commands run in the guide's process through the CLI's entry point (what
    # `python -m edftools` calls): a second interpreter per command would only re-pay imports.
    prelude = (
        "import contextlib, io\n"
        "from edftools.cli import main as _main\n"
        "def _run(args, out):\n"
        "    stdout, stderr = io.StringIO(), io.StringIO()\n"
        "    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):\n"
        "        try:\n"
        "            _main(list(args))\n"
        "            code = 0\n"
        "        except SystemExit as exc:\n"
        "            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)\n"
        "    assert code == 0, (args, stderr.getvalue())\n"
        "    if out:\n"
        "        open(out, 'w').write(stdout.getvalue())\n"
        "    print(stdout.getvalue()[:2000])\n"
    )
    (tmp_path / "guide.py").write_text(prelude + "\n".join(script), encoding="utf-8")
    res = subprocess.run([sys.executable, "guide.py"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]


def tour_lines(readme: str) -> list[str]:
    """The command lines of the first ``bash`` block after the "A tour of the CLI" heading."""
    section = readme[readme.index("## A tour of the CLI") :]
    block = next(m for m in BLOCK.finditer(section) if m.group(1) == "bash")
    return [ln for ln in block.group(2).splitlines() if ln.strip() and not ln.startswith("#")]


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
