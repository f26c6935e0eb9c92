"""The spaces package: every import at module top, an acyclic module graph, no lazy shims,
and a light import (no scipy, pandas or torch: `edftools sample` starts fast)."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import edftools.spaces

PACKAGE = "edftools.spaces"
FOLDER = Path(edftools.spaces.__file__).parent
MODULES = {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in FOLDER.glob("*.py")}


def _target(module: str | None, level: int, name: str | None, here: str) -> str | None:
    """The module of the spaces package an import statement names (None: outside it)."""
    if level:  # relative import: resolve against the package
        base = PACKAGE if here != "__init__" or level == 1 else PACKAGE.rsplit(".", 1)[0]
        module = f"{base}.{module}" if module else base
    if module is None:
        return None
    if module == PACKAGE:
        return name if name in MODULES else "__init__"
    if module.startswith(PACKAGE + "."):
        return module[len(PACKAGE) + 1 :].split(".")[0]
    return None


def _imports(tree: ast.Module, here: str) -> list[tuple[ast.stmt, str]]:
    """Every import of a spaces module anywhere in ``tree`` (functions and ``if`` blocks
    included), with the spaces module it names."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _target(alias.name, 0, None, here)
                if target is not None:
                    out.append((node, target))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                target = _target(node.module, node.level, alias.name, here)
                if target is not None:
                    out.append((node, target))
    return out


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, tree in MODULES.items():
        for _, target in _imports(tree, name):
            if target != name:
                graph[name].add(target)
    return graph


def test_the_module_graph_is_acyclic() -> None:
    graph = _graph()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle in {PACKAGE}: {' -> '.join(exc.args[1])}") from None
    assert order[-1] == "__init__"
    assert graph["band_sampler"] >= {"definition"} and "space" not in graph["band_sampler"]
    assert "space" not in graph["naive"] and "catalog" not in graph["space"]
    assert "regnet_fit" not in graph["regnet"]


def test_every_import_is_at_module_top() -> None:
    for name, tree in MODULES.items():
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top:
                raise AssertionError(f"{name}.py line {node.lineno}: import not at module top")


def test_no_lazy_import_shims() -> None:
    for name, tree in MODULES.items():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                assert node.name != "__getattr__", f"{name}.py has a module __getattr__"
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.Attribute):
                ident = node.id if isinstance(node, ast.Name) else node.attr
                assert ident not in ("import_module", "__import__"), f"{name}.py imports lazily"


def test_public_names_and_a_light_import() -> None:
    code = (
        "import sys\n"
        "from edftools.spaces import *\n"
        "import edftools.spaces as s\n"
        "missing = [n for n in s.__all__ if not hasattr(s, n)]\n"
        "assert not missing, missing\n"
        "heavy = [m for m in ('scipy', 'pandas', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    for name in ("fit_regnet", "fit_regnet_batch", "RegNetFit", "space_table", "Space"):
        assert name in edftools.spaces.__all__


def test_the_checker_sees_function_level_imports_and_cycles() -> None:
    tree = ast.parse(
        "def f():\n    from edftools.spaces.catalog import get_space\n"
        "if X:\n    from edftools.spaces import band_sampler, Space\n"
    )
    assert [t for _, t in _imports(tree, "space")] == ["catalog", "band_sampler", "__init__"]
    graph = {"a": {"b"}, "b": {"a"}}
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError:
        pass
    else:
        raise AssertionError("a cycle was not found")
