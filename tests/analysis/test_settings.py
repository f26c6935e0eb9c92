"""One settings object: each default defined once, read by the CLI's help, the recipe's
[sequential] table, a stored study and the library; bad values are one-line typed errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import edftools
from edftools.analysis.settings import ERROR_COLUMNS, Settings
from edftools.errors import StatsInputError

ROOT = Path(edftools.__file__).resolve().parent.parent

PROBE = """
import numpy as np, pandas as pd
from click.testing import CliRunner
import edftools
from edftools.cli import cli
from edftools.recipe import parse_recipe

helps = {c: CliRunner().invoke(cli, [c, "--help"], terminal_width=200).output
         for c in ("refine", "compare", "plan")}
recipe = parse_recipe('name = "t"\\nn = 3\\n[dataset]\\nname = "digits"\\n'
                      '[[spaces]]\\nname = "AnyNetX_A"\\n[[spaces]]\\nname = "AnyNetX_B"\\n'
                      '[sequential]\\n')
rng = np.random.default_rng(0)
df = pd.DataFrame({"space": np.repeat(["A", "B"], 40), "error": rng.normal(30, 3, 80),
                   "flops": rng.uniform(1, 2, 80)})
res = edftools.refine(df, ["A", "B"], complexity="flops", n_boot=20)
for c, text in helps.items():
    line = next(l for l in text.splitlines() if "--bins" in l)
    shown = line.split("[default: ")[1].split("]")[0] if "[default:" in line else "?"
    print(c, "help", shown.split(";")[0])
print("recipe", recipe.sequential.bins)
print("library", res.settings.bins, res.samples[0].rule.bins)
"""


def test_one_default_changed_in_one_place_shows_everywhere(tmp_path: Path) -> None:
    """Copy the package, change the bins default once in settings.py, and read it back from
    the CLI's help of refine, compare and plan, a recipe's [sequential] table and the
    library."""
    copy = tmp_path / "edftools"
    shutil.copytree(ROOT / "edftools", copy, ignore=shutil.ignore_patterns("__pycache__"))
    settings = copy / "analysis" / "settings.py"
    text = settings.read_text(encoding="utf-8")
    assert text.count("    bins: int = 8\n") == 1
    settings.write_text(text.replace("    bins: int = 8\n", "    bins: int = 5\n"), "utf-8")
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    ).stdout.split("\n")
    assert out[:5] == [
        "refine help 5",
        "compare help 5",
        "plan help 5",
        "recipe 5",
        "library 5 5",
    ], out


def test_no_setting_default_is_written_elsewhere() -> None:
    """The CLI commands and the recipe module take their defaults and choices from Settings:
    none of them writes a default of its own."""
    for path in ("commands/report.py", "commands/plan.py", "recipe/sequential.py"):
        text = (ROOT / "edftools" / path).read_text(encoding="utf-8")
        for literal in ("default=8", "default=0.05", '"0.1:0.5"', "[0.1, 0.5]", "ERROR_COLUMNS = "):
            code = "\n".join(
                line for line in text.splitlines() if not line.lstrip().startswith("#")
            )
            assert literal not in code.split('"""', 2)[-1], (path, literal)


def test_every_error_column_is_offered_everywhere() -> None:
    from edftools.commands.plan import plan_cmd
    from edftools.commands.report import compare_cmd, refine_cmd

    for command in (plan_cmd, refine_cmd, compare_cmd):
        (option,) = [p for p in command.params if p.name == "error_column"]
        assert tuple(option.type.choices) == ERROR_COLUMNS


def test_a_stored_study_builds_its_settings() -> None:
    design = {
        "margin": {"value": 2.0, "unit": "pp", "q_range": [0.2, 0.6]},
        "alpha": 0.1,
        "normalize": "params",
        "bins": 4,
        "error_column": "best_error",
    }
    s = Settings.from_design(design)
    assert (s.margin_value, s.margin_range, s.alpha, s.normalize, s.bins, s.error_column) == (
        2.0,
        (0.2, 0.6),
        0.1,
        "params",
        4,
        "best_error",
    )
    assert Settings.from_design({}) == Settings()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bins": 0}, "bins must be a positive integer"),
        ({"alpha": 1.5}, "alpha must be in"),
        ({"margin_unit": "percent"}, "margin unit must be"),
        ({"margin_range": (0.6, 0.2)}, "0 < a < b < 1"),
        ({"margin": -1.0}, "margin must be"),
        ({"n_boot": 0}, "n_boot must be"),
        ({"colour": 1}, "unknown setting"),
    ],
)
def test_bad_settings_are_one_line_typed_errors(changes, message) -> None:
    with pytest.raises(StatsInputError, match=message):
        Settings().updated(**changes)


def test_help_shows_each_option_with_its_meaning_and_default() -> None:
    from click.testing import CliRunner

    from edftools.cli import cli

    for command in ("refine", "compare", "plan"):
        text = CliRunner().invoke(cli, [command, "--help"], terminal_width=200).output
        for flag, default in (("--bins", "8"), ("--alpha", "0.05"), ("--margin-range", "0.1:0.5")):
            line = next(l for l in text.splitlines() if l.strip().startswith(flag))
            assert f"[default: {default}" in line and len(line.split()) > 4, line
        assert "flops|params|acts|none" in text and "ema_best_error" in text


def test_every_option_of_every_command_says_what_it_means() -> None:
    import importlib

    from edftools.cli import COMMANDS

    for name, (target, _) in COMMANDS.items():
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert getattr(param, "help", None), f"edftools {name} {param.opts[0]}: no help"
