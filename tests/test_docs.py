"""The guides in docs/ run: each guide's Python blocks in order in one fresh folder (one
process), and each `edftools ...` line of its shell blocks as a command that must exit 0
(through the CLI's entry point, in that process)."""

from __future__ import annotations

import re
import shlex
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
