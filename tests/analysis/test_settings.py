"""One settings object: each default defined once, read by the CLI's help, the recipe's
[sequential] table, a stored study and the library; bad values are one-line typed errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import edftools
from edftools.analysis.settings import ERROR_COLUMNS, Settings
from edftools.errors import StatsInputError

ROOT = Path(edftools.__file__).resolve().parent.parent

#: A distinct valid value for every default of edftools/stats/defaults.py (the test writes them
#: into a copy of the package and reads each one back from every place that should follow it).
CHANGED: dict[str, object] = {
    "DEFAULT_BINS": 5,
    "DEFAULT_MARGIN_PP": 2.0,
    "DEFAULT_MARGIN_EDF": 0.07,
    "DEFAULT_Q_RANGE": (0.2, 0.6),
    "DEFAULT_ALPHA": 0.07,
    "DEFAULT_SEED": 11,
    "DEFAULT_N_BOOT": 333,
    "DEFAULT_LEVEL": 0.9,
    "DEFAULT_GOOD_RANGE_N_BOOT": 4444,
    "DEFAULT_N_PERM": 555,
    "DEFAULT_MAX_PERM": 5555,
    "DEFAULT_QUANTILES": (0.2, 0.3),
    "DEFAULT_BEST_OF": (1, 2, 3),
}

PROBE = """
import importlib, inspect, json, pkgutil
import numpy as np, pandas as pd
from click.testing import CliRunner
import edftools, edftools.stats
from edftools.analysis.settings import DEFAULT_MARGIN, Settings
from edftools.cli import cli
from edftools.recipe import parse_recipe
from edftools.stats import defaults as d

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
    shown = []
    for flag in ("--bins", "--alpha", "--margin-range"):
        line = next(l for l in text.splitlines() if l.strip().startswith(flag))
        shown.append(line.split("[default: ")[1].split("]")[0] if "[default:" in line else "?")
    print(c, "help", " ".join(s.split(";")[0] for s in shown))
seq = recipe.sequential
print("recipe", seq.bins, seq.design.alpha, seq.margin.q_range)
print("library", res.settings.bins, res.samples[0].rule.bins, res.settings.alpha)

# every parameter of a stats function, class or method with one of these names takes its
# default (unless None: derived) from edftools.stats.defaults; SPECIAL: (module, callable,
# parameter) -> another constant, or None: a default of its own
PARAMETERS = {"bins": "DEFAULT_BINS", "q_range": "DEFAULT_Q_RANGE", "alpha": "DEFAULT_ALPHA",
              "seed": "DEFAULT_SEED", "n_boot": "DEFAULT_N_BOOT", "level": "DEFAULT_LEVEL",
              "margin_unit": "DEFAULT_MARGIN_UNIT", "unit": "DEFAULT_MARGIN_UNIT",
              "n_perm": "DEFAULT_N_PERM", "max_perm": "DEFAULT_MAX_PERM",
              "quantiles": "DEFAULT_QUANTILES", "best_of": "DEFAULT_BEST_OF"}
SPECIAL = {("good_range", "good_range", "n_boot"): "DEFAULT_GOOD_RANGE_N_BOOT",
           ("noloss", "Margin", "value"): "DEFAULT_MARGIN_PP",
           ("pairtest", "PairTest", "n_perm"): None,  # a result field: 0 = scipy, no permutations
           ("sequential", "pilot_study", "n_perm"): None,  # simulated studies: fewer, for speed
           ("trend", "trend", "quantiles"): None}  # regression quantiles, not a summary's
checked, wrong = 0, []
for info in pkgutil.iter_modules(edftools.stats.__path__):
    module = importlib.import_module("edftools.stats." + info.name)
    for owner_name, owner in vars(module).items():
        if getattr(owner, "__module__", None) != module.__name__ or not callable(owner):
            continue
        members = [(owner_name, owner)]
        if inspect.isclass(owner):
            members += [(owner_name + "." + k, v) for k, v in vars(owner).items()
                        if inspect.isfunction(v) and not k.startswith("__")]
        for name, member in members:
            try:
                params = inspect.signature(member).parameters.values()
            except (TypeError, ValueError):
                continue
            for p in params:
                key = (info.name, name, p.name)
                const = SPECIAL[key] if key in SPECIAL else PARAMETERS.get(p.name)
                if const is None or p.default in (inspect.Parameter.empty, None):
                    continue
                checked += 1
                if p.default != getattr(d, const):
                    wrong.append(".".join(key) + " = " + repr(p.default))
fields = {f: getattr(Settings(), f) for f in ("bins", "margin_range", "alpha", "seed", "n_boot")}
print("stats", checked, json.dumps(wrong))
print("settings", json.dumps(fields), json.dumps(DEFAULT_MARGIN))
"""


def _copy_with_defaults(tmp_path: Path, changed: dict[str, object]) -> Path:
    """A copy of the package whose edftools/stats/defaults.py assigns ``changed``."""
    copy = tmp_path / "edftools"
    shutil.copytree(ROOT / "edftools", copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / "stats" / "defaults.py"
    text = path.read_text(encoding="utf-8")
    for name, value in changed.items():
        line = re.compile(rf"^({name}: .+ = ).+$", re.M)
        assert len(line.findall(text)) == 1, name
        text = line.sub(lambda m, v=value: f"{m.group(1)}{v!r}", text)
    path.write_text(text, "utf-8")
    return tmp_path


def _probe(root: Path) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.split("\n")


def test_one_default_changed_in_one_place_shows_everywhere(tmp_path: Path) -> None:
    """Copy the package, change every default once in stats/defaults.py, and read it back from
    the CLI's help of refine, compare and plan, a recipe's [sequential] table, the library,
    Settings and every signature of edftools.stats that takes such a parameter."""
    out = _probe(_copy_with_defaults(tmp_path, CHANGED))
    assert out[:5] == [
        "refine help 5 0.07 0.2:0.6",
        "compare help 5 0.07 0.2:0.6",
        "plan help 5 0.07 0.2:0.6",
        "recipe 5 0.07 (0.2, 0.6)",
        "library 5 5 0.07",
    ], out
    _, checked, wrong = out[5].split(" ", 2)
    assert int(checked) >= 40 and json.loads(wrong) == [], out[5]
    assert out[6] == (
        'settings {"bins": 5, "margin_range": [0.2, 0.6], "alpha": 0.07, "seed": 11, '
        '"n_boot": 333} {"pp": 2.0, "edf": 0.07}'
    ), out[6]


def test_the_unchanged_package_passes_the_same_probe(tmp_path: Path) -> None:
    """The probe itself: on the package as it is, it reads today's defaults (so the test above
    fails if the probe stops seeing a change, not only if a copy drifts)."""
    out = _probe(ROOT)
    assert out[0] == "refine help 8 0.05 0.1:0.5", out
    assert out[5].startswith("stats ") and out[5].endswith(" []"), out[5]


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
