"""Recipe parsing and strict validation (no training, no sampling)."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edftools.errors import RecipeError
from edftools.recipe import load_recipe, parse_recipe

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """
name = "t"
n = 3
[dataset]
name = "digits"
[[spaces]]
name = "AnyNetX_A"
"""

FULL = """
name = "full"
description = "every key"
seed = 7
n = 10
workers = 2
device = "cuda:0"
[dataset]
name = "imagefolder"
path = "/data/imagenet"
resolution = 224
[schedule]
epochs = 3
base_lr = 1
[band]
flops = ["2M", 4e6]
params = [1000, "0.5M"]
[failure]
retries = 2
timeout_s = 60
num_cpus = 2
num_gpus = 0.5
[[spaces]]
name = "A"
catalog = "AnyNetX_A"
n = 4
band = { flops = [1, 2] }
[spaces.overrides]
resolution = 8
depth = [1, 3]
[[spaces]]
name = "Mine"
[spaces.definition]
base = "RegNetX"
restrictions = [{ kind = "fixed", param = "b", value = 1 }]
"""


def test_minimal_defaults() -> None:
    r = parse_recipe(MINIMAL)
    assert (r.name, r.n, r.seed, r.workers, r.device) == ("t", 3, 0, 1, "cpu")
    assert r.dataset.name == "digits" and r.dataset.path is None
    assert len(r.spaces) == 1
    s = r.spaces[0]
    assert (s.label, s.catalog, s.n, dict(s.bands), s.definition) == (
        "AnyNetX_A",
        "AnyNetX_A",
        3,
        {},
        None,
    )
    assert r.failure.retries == 0 and r.failure.timeout_s is None
    assert r.text == MINIMAL


def test_full_recipe() -> None:
    r = parse_recipe(FULL)
    assert r.seed == 7 and r.workers == 2 and r.device == "cuda:0"
    assert r.dataset.path == "/data/imagenet" and dict(r.dataset.options) == {"resolution": 224}
    assert (
        r.schedule.epochs == 3
        and r.schedule.base_lr == 1.0
        and isinstance(r.schedule.base_lr, float)
    )
    a, mine = r.spaces
    assert a.n == 4 and dict(a.bands) == {"flops": (1.0, 2.0)}
    assert a.to_dict()["overrides"] == {"resolution": 8, "depth": [1, 3]}
    assert mine.n == 10 and dict(mine.bands) == {"flops": (2e6, 4e6), "params": (1e3, 5e5)}
    assert mine.catalog is None and mine.definition["base"] == "RegNetX"
    assert r.failure == type(r.failure)(2, 60.0, 2.0, 0.5)


def test_single_space_table() -> None:
    text = MINIMAL.replace("[[spaces]]", "[space]")
    assert parse_recipe(text).spaces[0].label == "AnyNetX_A"


def test_training_key_fills_schedule_defaults() -> None:
    r1 = parse_recipe(MINIMAL)
    defaults = dataclasses.asdict(r1.schedule)
    explicit = (
        MINIMAL
        + "[schedule]\n"
        + "".join(f"{k} = {_toml(v)}\n" for k, v in defaults.items() if v is not None)
    )
    r2 = parse_recipe(explicit)
    assert r1.training_key() == r2.training_key()
    r3 = parse_recipe(MINIMAL.replace('name = "t"', 'name = "u"'))
    assert r3.training_key() != r1.training_key()


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return repr(v)


BAD = [
    ("foo = 1\n" + MINIMAL, "foo: unknown key"),
    (MINIMAL + "foo = 1\n", "spaces[0].foo: unknown key"),
    (MINIMAL.replace("n = 3", "n = 0"), "n: must be >= 1"),
    (MINIMAL.replace("n = 3", 'n = "3"'), "n: expected an integer"),
    (MINIMAL.replace("n = 3", "n = 3.0"), "n: expected an integer"),
    (MINIMAL.replace('name = "t"', ""), "name: missing required key"),
    (MINIMAL.replace('name = "t"', 'name = "a b"'), "name: use letters"),
    (MINIMAL.replace('name = "digits"', 'name = "mnist"'), "dataset.name: unknown dataset"),
    (MINIMAL.replace('name = "digits"', 'name = "cifar10"'), "dataset.path: dataset 'cifar10'"),
    (MINIMAL + "[band]\nflops = [4e6, 2e6]\n", "band.flops: impossible band"),
    (MINIMAL + "[band]\nflops = [4e6, 4e6]\n", "band.flops: impossible band"),
    (MINIMAL + "[band]\nflops = [1]\n", "band.flops: expected [lo, hi]"),
    (MINIMAL + "[band]\nflops = [-1, 5]\n", "band.flops: expected a finite number"),
    (MINIMAL + '[band]\nflops = ["1_000K", "2M"]\n', "band.flops: expected a number like"),
    (MINIMAL + '[band]\nflops = ["1M", "inf"]\n', "band.flops: expected a number like"),
    (MINIMAL + '[band]\nflops = ["+2M", "3M"]\n', "band.flops: expected a number like"),
    (MINIMAL + "[band]\nflops = [1e6, inf]\n", "band.flops: expected a finite number"),
    (MINIMAL + "[band]\nlatency = [1, 5]\n", "band.latency: unknown band metric"),
    (MINIMAL + "[schedule]\nepochz = 1\n", "schedule.epochz: unknown schedule field"),
    (MINIMAL + "[schedule]\nepochs = 1.5\n", "schedule.epochs: expected an integer"),
    (MINIMAL + '[schedule]\nbase_lr = "fast"\n', "schedule.base_lr: expected a number"),
    (MINIMAL + "[schedule]\nbase_lr = 0\n", "schedule base_lr must be > 0"),
    (MINIMAL.replace("[dataset]", "[dataset]\ntest_fraction = 1.5"), "dataset.test_fraction"),
    (MINIMAL.replace("[dataset]", "[dataset]\nsplit_seed = 'a'"), "dataset.split_seed"),
    (MINIMAL + "[failure]\nretries = -1\n", "failure.retries: must be >= 0"),
    (MINIMAL + "[failure]\ntimeout_s = 0\n", "failure.timeout_s: must be > 0"),
    (MINIMAL + "[failure]\nnum_gpu = 1\n", "failure.num_gpu: unknown key"),
    (MINIMAL.replace('[[spaces]]\nname = "AnyNetX_A"', ""), "spaces: missing required key"),
    (MINIMAL + '[[spaces]]\nname = "AnyNetX_A"\n', "spaces: duplicate space name"),
    (MINIMAL + '[[spaces]]\nname = "B"\nwidth = 3\n', "spaces[1].width: unknown key"),
    (MINIMAL + '[[spaces]]\nname = "B"\nband = { flops = [2, 1] }\n', "spaces[1].band.flops"),
    (MINIMAL + '[[spaces]]\nname = "B"\noverrides = 3\n', "spaces[1].overrides: expected a"),
    (
        MINIMAL + '[[spaces]]\nname = "B"\ncatalog = "X"\ndefinition = {base = "X"}\n',
        "spaces[1].definition: give either",
    ),
    (MINIMAL.replace("[[spaces]]", "[space]") + "[[spaces]]\nname='x'\n", "spaces: write either"),
    ('device = "gpu"\n' + MINIMAL, "device: device 'gpu' is not supported"),
    ('device = "mps"\n' + MINIMAL, "device: device 'mps' is not supported"),
    ("workers = 0\n" + MINIMAL, "workers: must be >= 1"),
    ("seed = -1\n" + MINIMAL, "seed: must be >= 0"),
    ("n = 2\n" + MINIMAL, "invalid TOML"),
    (MINIMAL.replace("[dataset]", "[dataset]\nroot = 'x'"), "dataset.root: unknown key"),
    (MINIMAL + "[schedule]\nthreads = 0\n", "schedule threads must be an integer >= 1"),
    (
        MINIMAL + "[spaces.overrides]\nfoo = 1\n",
        "spaces[0].overrides.foo: unknown override; known: ",
    ),
    (MINIMAL + "[spaces.overrides]\nresolution = 'x'\n", "spaces[0].overrides: resolution"),
    (MINIMAL + '[[spaces]]\nname = "B"\n', "spaces[1].catalog: unknown space 'B'"),
    (
        MINIMAL + '[[spaces]]\nname = "B"\n[spaces.definition]\nbase = "RegNetX"\nbar = 2\n',
        "spaces[1].definition.bar: unknown override; known: ",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_invalid_recipes_name_the_key(text: str, message: str) -> None:
    with pytest.raises(RecipeError) as info:
        parse_recipe(text)
    line = str(info.value)
    assert message in line
    assert "\n" not in line.strip() or "invalid TOML" in line


def test_space_lookup() -> None:
    r = parse_recipe(MINIMAL)
    assert r.space("AnyNetX_A").label == "AnyNetX_A"
    with pytest.raises(RecipeError, match="has no space 'Z'"):
        r.space("Z")


def test_load_recipe_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "nope.toml")


@pytest.mark.parametrize("path", sorted((ROOT / "recipes").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_recipes_parse(path: Path) -> None:
    r = load_recipe(path)
    assert r.spaces and r.n >= 1


def test_cli_bad_recipe_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL + "[band]\nflops = [4e6, 2e6]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "edftools", "sweep", str(bad), "--store", str(tmp_path / "s.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "band.flops: impossible band" in lines[0]
    assert not (tmp_path / "s.db").exists()


def test_training_key_has_threads_only_when_not_1() -> None:
    default = parse_recipe(MINIMAL)
    one = parse_recipe(MINIMAL + "[schedule]\nthreads = 1\n")
    two = parse_recipe(MINIMAL + "[schedule]\nthreads = 2\n")
    assert default.schedule.threads == 1
    assert "threads" not in default.training_key()["schedule"]
    assert one.training_key() == default.training_key()
    assert two.training_key()["schedule"]["threads"] == 2
    assert two.identity_text() != default.identity_text()
    # Ray's num_cpus follows the threads unless the recipe says otherwise
    assert (default.failure.num_cpus, two.failure.num_cpus) == (1.0, 2.0)


def test_unknown_override_lists_the_known_keys() -> None:
    with pytest.raises(RecipeError) as info:
        parse_recipe(MINIMAL + "[spaces.overrides]\nfoo = 1\n")
    known = str(info.value).split("known: ")[1].split(", ")
    assert {"preset", "resolution", "depth"} <= set(known)


def test_public_api_of_the_recipe_package() -> None:
    import edftools.recipe as recipe
    from edftools.recipe import (  # noqa: F401  (the import is the test)
        DIGITS_SCHEDULE,
        DatasetSpec,
        FailurePolicy,
        Recipe,
        SpaceSpec,
        TrainSchedule,
        canonical_json,
        freeze,
        load_recipe,
        parse_recipe,
        recipe_from_dict,
        thaw,
    )

    assert set(recipe.__all__) <= set(dir(recipe))
    assert thaw(freeze({"x": [2]})) == {"x": [2]}
    assert canonical_json({"b": [1], "a": freeze({"x": [2]})}) == '{"a":{"x":[2]},"b":[1]}'
    for gone in ("edftools.recipe_fields", "edftools.train.schedule"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(gone)


def test_recipe_is_torch_free_and_never_imports_train() -> None:
    for path in (ROOT / "edftools" / "recipe").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            bad = [n for n in names if n.startswith(("edftools.train", "torch"))]
            assert not bad, f"{path.name} imports {bad}"
    code = (
        "import sys, edftools.recipe as r;"
        f"[r.load_recipe(p) for p in {[str(p) for p in (ROOT / 'recipes').glob('*.toml')]!r}];"
        "r.TrainSchedule();"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


TWO = MINIMAL + '[[spaces]]\nname = "AnyNetX_B"\n'


def test_sequential_table_parses_and_joins_the_identity() -> None:
    r = parse_recipe(TWO + "[sequential]\nlook_every = 20\nmax_n = 100\nmargin = 1.5\n")
    spec = r.sequential
    assert spec is not None and spec.design.looks == (20, 40, 60, 80, 100)
    assert spec.margin.value == 1.5 and spec.margin.unit == "pp" and spec.steps == ()
    assert r.identity()["sequential"]["max_n"] == 100
    assert "sequential" not in parse_recipe(TWO).identity()  # plain recipes keep their identity
    assert r.training_key() == parse_recipe(TWO).training_key()  # run ids do not change


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("spending = 'linear'", "sequential.spending: expected one of"),
        ("look_every = 0", "sequential.look_every: must be >= 1"),
        ("max_n = 10\nlook_every = 20", "max_n (10) must be at least look_every"),
        ("margin = -1", "sequential: margin must be"),
        ("normalize = 'latency'", "sequential.normalize: expected one of"),
        ("steps = [['AnyNetX_A', 'Nope']]", "sequential.steps[0]: unknown space 'Nope'"),
        ("steps = [['AnyNetX_A']]", "sequential.steps[0]: expected [parent, restricted]"),
        ("alpha_spent = 1", "sequential.alpha_spent: unknown key"),
    ],
)
def test_bad_sequential_tables_name_the_key(table: str, message: str) -> None:
    with pytest.raises(RecipeError, match=re.escape(message)):
        parse_recipe(TWO + "[sequential]\n" + table + "\n")


def _imagefolder_recipe(root: Path, overrides: str = "") -> str:
    for cls in ("a", "b", "c", "d"):
        (root / "train" / cls).mkdir(parents=True, exist_ok=True)
        (root / "val" / cls).mkdir(parents=True, exist_ok=True)
    return f"""
name = "folder"
n = 2
[dataset]
name = "imagefolder"
path = "{root}"
resolution = 128
[band]
flops = ["1M", "400M"]
[[spaces]]
name = "RegNetX"
{overrides}
"""


def test_dataset_defines_the_input_of_a_catalog_space(tmp_path: Path) -> None:
    """An imagefolder of 4 classes at 128 px: the catalog space's configs have 4 classes,
    128 px and 3 channels without any [spaces.overrides]."""
    from edftools.train.plan import plan_sweep

    recipe = parse_recipe(_imagefolder_recipe(tmp_path))
    cfg = plan_sweep(recipe).runs[0].config
    assert (cfg.num_classes, cfg.resolution, cfg.in_channels) == (4, 128, 3)
    spec = recipe.spaces[0]
    assert "dataset_input" not in spec.to_dict()  # the dataset is in the recipe already


def test_explicit_overrides_win_over_the_dataset(tmp_path: Path) -> None:
    from edftools.train.plan import plan_sweep

    text = _imagefolder_recipe(tmp_path, "[spaces.overrides]\nnum_classes = 7\n")
    cfg = plan_sweep(parse_recipe(text)).runs[0].config
    assert (cfg.num_classes, cfg.resolution) == (7, 128)


def test_the_dataset_wins_over_a_preset() -> None:
    """preset = "digits" says 8 px, 1 channel, 10 classes; a CIFAR-100 dataset says otherwise."""
    text = MINIMAL.replace('name = "digits"', 'name = "cifar100"\npath = "/nowhere"')
    text += '[spaces.overrides]\npreset = "digits"\n'
    space = parse_recipe(text).spaces[0].build()
    assert (space.num_classes, space.resolution, space.in_channels) == (100, 32, 3)


def test_a_remaining_mismatch_names_the_key_to_set() -> None:
    import torch

    from edftools.errors import ConfigError
    from edftools.spaces import get_space
    from edftools.train.data import LoadedDataset
    from edftools.train.loop import check_compatible

    cfg = get_space("RegNetX", preset="digits").sample(1, seed=0)[0]
    data = LoadedDataset("digits", torch.zeros(1, 1, 8, 8), torch.zeros(1, dtype=torch.int64),
                         torch.zeros(1, 1, 8, 8), torch.zeros(1, dtype=torch.int64),
                         num_classes=4, in_channels=1, resolution=8)  # fmt: skip
    with pytest.raises(
        ConfigError, match=r"set num_classes = 4 in the space's \[spaces.overrides\]"
    ):
        check_compatible(cfg, data)


def test_reruns_option_parses_and_stays_out_of_the_identity() -> None:
    top = MINIMAL.replace("n = 3\n", "n = 3\nreruns = { fraction = 0.1, seeds = 2 }\n")
    r = parse_recipe(top)
    assert r.reruns is not None and (r.reruns.fraction, r.reruns.seeds) == (0.1, 2)
    assert r.reruns.to_dict() == {"fraction": 0.1, "seeds": 2}
    plain = parse_recipe(MINIMAL)
    assert plain.reruns is None
    assert r.identity_text() == plain.identity_text()  # adding reruns resumes the sweep
    assert r.training_key() == plain.training_key()
    one = parse_recipe(MINIMAL.replace("n = 3\n", "n = 3\n[reruns]\nfraction = 1\n"))
    assert one.reruns is not None and one.reruns.seeds == 1


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("{ seeds = 2 }", "reruns.fraction: missing required key"),
        ("{ fraction = 0 }", "reruns.fraction: must be in (0, 1]"),
        ("{ fraction = 1.5 }", "reruns.fraction: must be in (0, 1]"),
        ("{ fraction = 0.1, seeds = 0 }", "reruns.seeds: must be >= 1"),
        ("{ fraction = 0.1, n = 3 }", "reruns.n: unknown key"),
        ("0.1", "reruns: expected a table"),
    ],
)
def test_bad_reruns_name_the_key(table: str, message: str) -> None:
    text = MINIMAL.replace("n = 3\n", f"n = 3\nreruns = {table}\n")
    with pytest.raises(RecipeError, match=re.escape(message)):
        parse_recipe(text)
