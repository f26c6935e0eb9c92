"""Corrupt stores, bad recipes, bad import files and fuzzed pycls JSON: each is one clear line on
stderr, exit code 2, no traceback, and the store file is unchanged (sha256 before and after)."""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_lib import (
    TALLY,
    assert_clean_error,
    run_cli,
    run_cli_inprocess,
    sha256,
    tiny_recipe,
)

from edftools.store import import_file, load_import_file, open_store

GOOD_CSV = "run_id,space,error,best_error,flops,epochs\nr1,A,12.5,11.0,1000,2\nr2,A,20,19,2000,2\n"


@pytest.fixture(scope="module")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with two imported runs (sweep 'good') and a registered recipe sweep."""
    root = tmp_path_factory.mktemp("bad-inputs")
    csv = root / "good.csv"
    csv.write_text(GOOD_CSV)
    path = root / "template.duckdb"
    store = open_store(path)
    import_file(store, csv)
    return path


@pytest.fixture
def store(template_store: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    shutil.copyfile(template_store, path)
    return path


def expect_rejected(store: Path, *args: str, what: str) -> str:
    """Run the CLI in-process on ``store``; it must fail cleanly and leave the store as it was."""
    before = sha256(store)
    code, _, err = run_cli_inprocess(*args, "--store", str(store))
    TALLY.bad_inputs_tried += 1
    line = assert_clean_error(code, err, what)
    assert sha256(store) == before, f"{what}: the store changed"
    return line


# Corrupt store files ----------------------------------------------------------------------------
def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _garbage(data: bytes) -> bytes:
    import random

    return random.Random(7).randbytes(len(data) // 4)


def _header_only(data: bytes) -> bytes:
    return data[:100]


def _zero_header(data: bytes) -> bytes:
    return bytes(8192) + data[8192:]


def _flip_blocks(data: bytes) -> bytes:
    """Garbage in place of every block after the headers (the file keeps its size)."""
    import random

    body = random.Random(9).randbytes(len(data) - 12288)
    return data[:12288] + body


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "truncated": _truncate,
    "garbage": _garbage,
    "header only": _header_only,
    "zeroed header": _zero_header,
    "garbage blocks": _flip_blocks,
}
READ_ALL = "SELECT * FROM runs JOIN epochs USING (run_id) ORDER BY run_id"


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupt_store_is_a_clean_error(
    corruption: str, store: Path, tmp_path: Path, template_store: Path
) -> None:
    store.write_bytes(CORRUPTIONS[corruption](store.read_bytes()))
    good = tmp_path / "more.csv"
    good.write_text(GOOD_CSV.replace("r1,", "r3,").replace("r2,", "r4,"))
    recipe = tmp_path / "r.toml"
    recipe.write_text(tiny_recipe("corrupt", n=1))
    commands = {
        "sql": ("sql", READ_ALL),
        "import": ("import", str(good)),
        "export": ("export", "--out", str(tmp_path / "out.csv")),
        "sweep": ("sweep", str(recipe), "--no-progress"),
    }
    for name, args in commands.items():
        expect_rejected(store, *args, what=f"{corruption} store, {name}")


def test_corrupt_store_exit_code_end_to_end(store: Path) -> None:
    """The same through a real process: exit status 2, one stderr line."""
    store.write_bytes(_truncate(store.read_bytes()))
    before = sha256(store)
    proc = run_cli("sql", READ_ALL, "--store", str(store), timeout=60)
    TALLY.bad_inputs_tried += 1
    assert_clean_error(proc.returncode, proc.stderr, "truncated store, sql subprocess")
    assert sha256(store) == before


# Bad recipes -------------------------------------------------------------------------------------
BASE = tiny_recipe("bad", n=2)


def _sub(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


BAD_RECIPES: dict[str, str] = {
    # wrong types
    "n is text": _sub("n = 2", 'n = "ten"'),
    "n is zero": _sub("n = 2", "n = 0"),
    "seed negative": _sub("seed = 3", "seed = -1"),
    "workers float": _sub("workers = 2", "workers = 1.5"),
    "epochs text": _sub("epochs = 1", 'epochs = "one"'),
    "base_lr bool": _sub("base_lr = 0.2", "base_lr = true"),
    "base_lr negative": _sub("base_lr = 0.2", "base_lr = -0.1"),
    "batch size float": _sub("batch_size = 128", "batch_size = 12.5"),
    "dataset name int": _sub('name = "digits"', "name = 7"),
    "unknown dataset": _sub('name = "digits"', 'name = "mnist"'),
    "device": BASE.replace("workers = 2", 'workers = 2\ndevice = "tpu"'),
    "retries text": BASE + '[failure]\nretries = "2"\n',
    "num_cpus zero": BASE + "[failure]\nnum_cpus = 0\n",
    "timeout negative": BASE + "[failure]\ntimeout_s = -5\n",
    "spaces not a list": 'spaces = "AnyNetX_E"\n' + BASE.split("[[spaces]]")[0],
    "no spaces": BASE.split("[[spaces]]")[0],
    # unknown keys
    "unknown top-level key": BASE.replace("n = 2", "n = 2\nnn = 3"),
    "unknown schedule field": _sub("epochs = 1", "epochz = 1"),
    "unknown failure key": BASE + "[failure]\nretry = 1\n",
    "unknown dataset key": _sub('name = "digits"', 'name = "digits"\npth = "/x"'),
    "unknown space key": _sub("[spaces.overrides]", "overide = 1\n[spaces.overrides]"),
    "unknown band metric": _sub('flops = ["0.05M", "0.15M"]', "gflops = [1, 2]"),
    "unknown catalog space": _sub('name = "AnyNetX_E"', 'name = "NoSuchNet"'),
    "unknown override": _sub('preset = "digits"', 'preset = "digits"\ncolour = 1'),
    # impossible bands (a well-formed band no network reaches is not here: the sampler gives
    # up only after ~20M draws, ~35 s; see the report)
    "band reversed": _sub('["0.05M", "0.15M"]', '["5M", "1M"]'),
    "band empty": _sub('["0.05M", "0.15M"]', '["1M", "1M"]'),
    "band negative": _sub('["0.05M", "0.15M"]', "[-1, 2]"),
    "band not a number": _sub('["0.05M", "0.15M"]', '["abc", "1M"]'),
    "band one bound": _sub('["0.05M", "0.15M"]', "[1]"),
    # not a recipe
    "invalid TOML": BASE.replace("n = 2", "n = = 2"),
    "empty file": "",
}


def test_bad_recipes_are_clean_errors(store: Path, tmp_path: Path) -> None:
    for label, text in BAD_RECIPES.items():
        recipe = tmp_path / "bad.toml"
        recipe.write_text(text)
        expect_rejected(store, "sweep", str(recipe), "--no-progress", what=f"recipe: {label}")
    expect_rejected(store, "sweep", str(tmp_path / "missing.toml"), what="recipe: missing file")


# Bad import files --------------------------------------------------------------------------------
BAD_CSVS: dict[str, str] = {
    "missing error column": "run_id,space,flops\nx1,A,10\n",
    "missing space column": "run_id,error,flops\nx1,5,10\n",
    "no complexity column": "run_id,space,error\nx1,A,5\n",
    "unknown column": "run_id,space,error,flops,colour\nx1,A,5,10,red\n",
    "error is text": "run_id,space,error,flops\nx1,A,5,10\nx2,A,abc,10\n",
    "flops is text": "run_id,space,error,flops\nx1,A,5,big\n",
    "error NaN": "run_id,space,error,flops\nx1,A,nan,10\n",
    "error negative": "run_id,space,error,flops\nx1,A,-5,10\n",
    "error above 100": "run_id,space,error,flops\nx1,A,150,10\n",
    "best error above error": "run_id,space,error,best_error,flops\nx1,A,5,9,10\n",
    "flops negative": "run_id,space,error,flops\nx1,A,5,-10\n",
    "status unknown": "run_id,space,error,flops,status\nx1,A,5,10,great\n",
    "duplicated run ids": "run_id,space,error,flops\nx1,A,5,10\nx1,A,6,11\n",
    "run id already stored": "run_id,space,error,flops\nr1,A,5,10\n",
    "epoch_log not JSON": "run_id,space,error,flops,epoch_log\nx1,A,5,10,{oops\n",
    "epoch_log negative epoch": (
        'run_id,space,error,flops,epoch_log\nx1,A,5,10,"[{""epoch"": -1}]"\n'
    ),
    "config not a config": 'run_id,space,error,flops,config\nx1,A,5,10,"{""a"": 1}"\n',
    # issue 17: nesting deep enough to overflow the JSON parser's recursion, in every JSON cell
    "config nested 10^5 deep": "run_id,space,error,flops,config\nx1,A,5,10,"
    + '"'
    + '{""a"":' * 100_000
    + "1"
    + "}" * 100_000
    + '"\n',
    "epoch_log nested 10^5 deep": "run_id,space,error,flops,epoch_log\nx1,A,5,10,"
    + "[" * 100_000
    + "]" * 100_000
    + "\n",
    "versions nested 100 deep": "run_id,space,error,flops,versions\nx1,A,5,10,"
    + '"'
    + '{""a"":' * 100
    + "1"
    + "}" * 100
    + '"\n',
    "sweep_recipe with two recipes": "run_id,space,error,flops,sweep,sweep_recipe\n"
    "x1,A,5,10,s,one\nx2,A,6,10,s,two\n",
    "header only": "run_id,space,error,flops\n",
    "empty file": "",
    "binary garbage": "\x00\x01\x02\xff\xfe" * 40,
}


def _parquet(rows: dict[str, list[Any]], path: Path) -> None:
    pq.write_table(pa.table(rows), path)


BAD_PARQUETS: dict[str, dict[str, list[Any]]] = {
    "error as text": {"run_id": ["p1"], "space": ["A"], "error": ["five"], "flops": [10]},
    "error NaN": {"run_id": ["p1"], "space": ["A"], "error": [math.nan], "flops": [10]},
    # issue 17: a NaN ema_error was stored as NULL while a NaN error was refused
    "ema_error NaN": {
        "run_id": ["p1"],
        "space": ["A"],
        "error": [1.0],
        "ema_error": [math.nan],
        "flops": [10],
    },
    "error negative": {"run_id": ["p1"], "space": ["A"], "error": [-1.0], "flops": [10]},
    "error infinite": {"run_id": ["p1"], "space": ["A"], "error": [math.inf], "flops": [10]},
    "flops float": {"run_id": ["p1"], "space": ["A"], "error": [1.0], "flops": [10.5]},
    "duplicated run ids": {
        "run_id": ["p1", "p1"],
        "space": ["A", "A"],
        "error": [1.0, 2.0],
        "flops": [10, 20],
    },
    "missing error": {"run_id": ["p1"], "space": ["A"], "flops": [10]},
    "space null": {"run_id": ["p1"], "space": [None], "error": [1.0], "flops": [10]},
    "train_seconds negative": {
        "run_id": ["p1"],
        "space": ["A"],
        "error": [1.0],
        "flops": [10],
        "train_seconds": [-3.0],
    },
}


def valid_pycls_job(seed: int = 1) -> dict[str, Any]:
    """One well-formed pycls job record (tiny AnyNet on 8x8 images, two epochs)."""
    return {
        "cfg": {
            "MODEL": {"TYPE": "anynet", "NUM_CLASSES": 10},
            "ANYNET": {
                "DEPTHS": [1, 2],
                "WIDTHS": [16, 32],
                "STRIDES": [1, 2],
                "BOT_MULS": [1.0, 1.0],
                "GROUP_WS": [8, 8],
                "STEM_W": 16,
                "STEM_TYPE": "res_stem_cifar",
                "BLOCK_TYPE": "res_bottleneck_block",
            },
            "TRAIN": {"DATASET": "digits", "IM_SIZE": 8},
            "OPTIM": {"MAX_EPOCH": 2},
            "RNG_SEED": seed,
        },
        "complexity": {"flops": 100000, "params": 5000, "acts": 900},
        "train_epoch": {
            "epoch": ["1/2", "2/2"],
            "loss": [2.0, 1.0],
            "top1_err": [50.0, 30.0],
            "lr": [0.1, 0.05],
            "time_epoch": [1.0, 1.0],
        },
        "test_epoch": {
            "epoch": ["1/2", "2/2"],
            "top1_err": [40.0, 35.0],
            "min_top1_err": [40.0, 35.0],
        },
    }


def _set(job: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    job = copy.deepcopy(job)
    *parents, last = path.split(".")
    node = job
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return job


_DELETE = object()
JOB = valid_pycls_job()
BAD_PYCLS: dict[str, str] = {
    "not a list": json.dumps(JOB),
    "empty list": "[]",
    "truncated JSON": json.dumps([JOB])[:200],
    "not JSON": "pycls? no",
    "missing cfg": json.dumps([_set(JOB, "cfg", _DELETE)]),
    # a missing test_epoch (a crashed job) or complexity (computed from the cfg) is no longer
    # an error: real sweeps have them (issue 11; tests/store/test_import_pycls_sweeps.py)
    "test_epoch not an object": json.dumps([_set(JOB, "test_epoch", [40.0])]),
    "complexity not an object": json.dumps([_set(JOB, "complexity", "large")]),
    "top1_err NaN": json.dumps([_set(JOB, "test_epoch.top1_err", [40.0, math.nan])]),
    "top1_err negative": json.dumps([_set(JOB, "test_epoch.top1_err", [40.0, -3.0])]),
    "top1_err text": json.dumps([_set(JOB, "test_epoch.top1_err", "low")]),
    "flops text": json.dumps([_set(JOB, "complexity.flops", "100K")]),
    "flops negative": json.dumps([_set(JOB, "complexity.flops", -5)]),
    "depths not a list": json.dumps([_set(JOB, "cfg.ANYNET.DEPTHS", 3)]),
    "widths too short": json.dumps([_set(JOB, "cfg.ANYNET.WIDTHS", [16])]),
    "epochs mismatch": json.dumps([_set(JOB, "train_epoch.loss", [2.0])]),
    "duplicated records": json.dumps([JOB, JOB]),
    "record not an object": json.dumps([JOB, 5]),
    # found by the fuzzer or by hand: each once escaped as a traceback
    "stem type a list": json.dumps([_set(JOB, "cfg.ANYNET.STEM_TYPE", ["simple_stem_in"])]),
    "epoch number infinite": json.dumps([_set(JOB, "test_epoch.epoch", ["inf", "2/2"])]),
    "width beyond int64": json.dumps([_set(JOB, "cfg.ANYNET.WIDTHS", [16, 2**62])]),
    "flops beyond int64": json.dumps([_set(JOB, "complexity.flops", 2**70)]),
    # issue 17: RecursionError in the JSON parser
    "[ x 10^5": "[" * 100_000,
    "cfg nested 10^3 deep": json.dumps([_set(JOB, "cfg.EXTRA", 0)]).replace(
        '"EXTRA": 0', '"EXTRA": ' + "[" * 1000 + "]" * 1000
    ),
}


def test_bad_import_files_are_clean_errors(store: Path, tmp_path: Path) -> None:
    for label, text in BAD_CSVS.items():
        path = tmp_path / "bad.csv"
        path.write_text(text)
        expect_rejected(store, "import", str(path), what=f"csv: {label}")
    for label, rows in BAD_PARQUETS.items():
        path = tmp_path / "bad.parquet"
        _parquet(rows, path)
        expect_rejected(store, "import", str(path), what=f"parquet: {label}")
    for label, blob in (("garbage", b"PAR1" + bytes(range(256))), ("truncated", None)):
        path = tmp_path / "broken.parquet"
        if blob is None:
            _parquet(BAD_PARQUETS["error NaN"], path)
            blob = path.read_bytes()[:-20]
        path.write_bytes(blob)
        expect_rejected(store, "import", str(path), what=f"parquet: {label}")
    for label, text in BAD_PYCLS.items():
        path = tmp_path / "bad.json"
        path.write_text(text)
        expect_rejected(store, "import", str(path), what=f"pycls: {label}")


def test_the_good_inputs_are_accepted(store: Path, tmp_path: Path) -> None:
    """Control: the unmutated pycls record and CSV import (so the cases above can fail)."""
    path = tmp_path / "good.json"
    path.write_text(json.dumps([valid_pycls_job(1), valid_pycls_job(2)]))
    code, _, err = run_cli_inprocess("import", str(path), "--store", str(store))
    assert code == 0, err
    assert len(load_import_file(path).runs) == 2


# Fuzzed pycls JSON (hypothesis) ------------------------------------------------------------------
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


@st.composite
def mutated_jobs(draw: st.DrawFn) -> Any:
    """A list of valid pycls jobs with 1-3 random edits (replace a value, or delete a key)."""
    jobs = [valid_pycls_job(s) for s in range(draw(st.integers(1, 2)))]
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(jobs)
        path = draw(st.sampled_from(paths))
        node: Any = jobs
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, dict) and draw(st.booleans()):
            del node[path[-1]]
        else:
            node[path[-1]] = draw(json_values)
    return jobs


FUZZ_EXAMPLES = int(os.environ.get("EDFTOOLS_FUZZ_EXAMPLES", "250"))


@pytest.fixture(scope="module")
def fuzz_dir(template_store: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix="edffuzz", dir=template_store.parent))


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("EDFTOOLS_FUZZ_RANDOM") is None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=st.one_of(mutated_jobs(), json_values) | st.text(max_size=40))
def test_fuzzed_pycls_json_never_crashes(
    document: Any, template_store: Path, fuzz_dir: Path
) -> None:
    store = fuzz_dir / "store.duckdb"
    if not store.exists():
        shutil.copyfile(template_store, store)
    path = fuzz_dir / "fuzz.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    before = sha256(store)
    code, _, err = run_cli_inprocess("import", str(path), "--store", str(store))
    TALLY.bad_inputs_tried += 1
    if code == 0:  # a mutation that kept the record valid: start again from the template
        shutil.copyfile(template_store, store)
        return
    assert_clean_error(code, err, f"fuzzed pycls JSON {path.read_text()[:300]!r}")
    assert sha256(store) == before
