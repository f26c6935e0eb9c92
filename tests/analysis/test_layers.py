"""The package's import graph: analysis/ sits between stats/ and everything that presents
results (report/, plot/, study.py, commands/), with no arrow back up; study.py no longer
imports report/."""

from __future__ import annotations

import ast
from pathlib import Path

import edftools

ROOT = Path(edftools.__file__).parent

#: What each part may import (besides itself, the package root and the two leaves every part
#: may use: ``edftools.errors`` and ``edftools.measures``, the complexity measures' names and
#: number format, which import nothing of edftools).
ALLOWED: dict[str, set[str]] = {
    "files": set(),
    "stats": set(),
    "spaces": set(),
    "analysis": {"stats", "spaces", "store"},
    "plot": {"analysis", "stats", "spaces"},
    "report": {"analysis", "plot", "stats", "spaces", "store", "files"},
    "study": {"analysis", "stats", "recipe", "records", "store", "train"},
    "recipe": {"analysis", "stats", "spaces", "records", "registry"},
}


def _part(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def parts_imported(tree: ast.Module, part: str) -> set[str]:
    """The other parts of edftools a module of ``part`` imports (anywhere: functions too)."""
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "edftools":
                names += [f"edftools.{a.name}" for a in node.names]
        for name in names:
            bits = name.split(".")
            if bits[0] == "edftools" and len(bits) > 1 and bits[1] != part:
                found.add(bits[1])
    return found


def imports_by_part() -> dict[str, set[str]]:
    """Part → the parts its modules import."""
    out: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        part = _part(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out.setdefault(part, set()).update(parts_imported(tree, part))
    return out


def test_each_layer_imports_only_the_layers_below_it() -> None:
    graph = imports_by_part()
    for part, allowed in ALLOWED.items():
        extra = graph[part] - allowed - {"errors", "measures"}
        assert not extra, f"{part} imports {sorted(extra)}"
    assert not graph["errors"] and not graph["measures"]  # the leaves


def test_nothing_below_presentation_imports_report_plot_or_commands() -> None:
    graph = imports_by_part()
    for part in ("stats", "spaces", "analysis", "store", "recipe", "study", "train", "models"):
        up = graph.get(part, set()) & {"report", "plot", "commands", "cli"}
        assert not up, f"{part} imports {sorted(up)}"
    assert "report" not in graph["study"]


def test_the_checker_sees_function_level_and_package_imports() -> None:
    tree = ast.parse(
        "import edftools.stats\n"
        "def f():\n    from edftools.report import writers\n"
        "if X:\n    from edftools import plot\n"
        "from edftools.analysis.settings import Settings\n"
    )
    assert parts_imported(tree, "analysis") == {"stats", "report", "plot"}
