"""The top-level package: dir(edftools) lists the public API, and every listed name loads."""

from __future__ import annotations

import subprocess
import sys

import edftools


def test_dir_lists_the_public_api_and_nothing_else() -> None:
    names = dir(edftools)
    assert names == sorted(names)
    for name in ("edf", "normalize_weights", "edf_band", "compare", "good_range", "trend"):
        assert name in names
    assert {"spaces", "stats", "store", "report", "__version__"} <= set(names)
    assert not {"Any", "annotations", "importlib"} & set(names)
    assert [n for n in names if n.startswith("_") and n != "__version__"] == []


def test_every_listed_name_loads() -> None:
    for name in dir(edftools):
        assert getattr(edftools, name) is not None
    assert edftools.edf is edftools.stats.edf
    assert set(edftools.__all__) - {"__version__"} <= set(dir(edftools))


def test_import_is_lazy_and_unknown_names_fail() -> None:
    code = (
        "import sys, edftools\n"
        "names = dir(edftools)\n"
        "assert 'edftools.stats' not in sys.modules and 'numpy' not in sys.modules\n"
        "try:\n"
        "    edftools.nope\n"
        "except AttributeError as exc:\n"
        "    assert \"no attribute 'nope'\" in str(exc)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
        "from edftools import *\n"
        "assert callable(edf) and callable(power)\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_and_readme_show_every_command_and_the_api() -> None:
    from pathlib import Path

    from click.testing import CliRunner

    from edftools.cli import COMMANDS, cli

    text = CliRunner().invoke(cli, ["--help"]).output
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"  {name} " in text, name
        assert f"edftools {name}" in readme, name
    for name in edftools.__all__:
        if not name.startswith("_"):
            assert f"edftools.{name}" in text, name
            assert f"`{name}(" in readme, name
