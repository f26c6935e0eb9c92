"""A sweep is a library call: run_sweep plans before it opens the store, so a bad request is a
typed one-line error and leaves no file; the click command calls it (tests/train/test_sweep.py
runs real sweeps through the command)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edftools.errors import EdftoolsError
from edftools.recipe import load_recipe
from edftools.sweeping import run_sweep

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"spaces": ["NoSuchSpace"]}, "NoSuchSpace"),
        ({"until_decided": True}, "no [sequential] table"),
        ({"backend": "slurm"}, "unknown backend 'slurm'"),
    ],
)
def test_a_bad_request_fails_before_the_store_exists(tmp_path: Path, kwargs, message) -> None:
    recipe = load_recipe(ROOT / "recipes" / "digits_tiny.toml")
    store = tmp_path / "s.duckdb"
    with pytest.raises(EdftoolsError, match=re.escape(message)) as info:
        run_sweep(recipe, store, progress=False, echo=lambda _text: None, **kwargs)
    assert "\n" not in str(info.value)
    assert not store.exists()


def test_the_click_command_calls_the_library() -> None:
    import inspect

    from edftools.commands import sweep

    source = inspect.getsource(sweep.sweep_cmd.callback)
    assert "run_sweep(" in source and "execute_plan" not in source


def test_a_regimes_recipe_runs_each_regime_as_its_own_resumable_sweep(tmp_path: Path) -> None:
    from edftools.recipe import parse_recipe
    from edftools.store import open_store

    text = (ROOT / "recipes" / "digits_tiny.toml").read_text()
    text += '\n[[regimes]]\nname = "base"\n'
    text += '[[regimes]]\nname = "wide"\nband = { flops = ["0.1M", "0.2M"] }\n'
    recipe = parse_recipe(text)
    store = tmp_path / "s.duckdb"
    lines: list[str] = []
    first = run_sweep(recipe, store, n=2, workers=2, progress=False, echo=lines.append)
    assert [name for name, _ in first.regimes] == ["digits_tiny.base", "digits_tiny.wide"]
    assert "digits_tiny.base: 2 runs trained" in first.line()
    again = run_sweep(recipe, store, n=2, progress=False, echo=lines.append, regimes=["wide"])
    assert [name for name, _ in again.regimes] == ["digits_tiny.wide"]
    assert "0 runs trained" in again.line()
    with open_store(store, read_only=True) as s:
        rows = s.query("SELECT sweep, count(*) AS n, min(flops) AS lo FROM runs GROUP BY sweep")
        recipes = s.query("SELECT name, recipe FROM sweeps ORDER BY name")
    assert dict(zip(rows["sweep"], rows["n"], strict=True)) == {
        "digits_tiny.base": 2,
        "digits_tiny.wide": 2,
    }
    assert rows.set_index("sweep").loc["digits_tiny.wide", "lo"] >= 100_000
    assert ['"study": "digits_tiny"' in r for r in recipes["recipe"]] == [True, True]


def test_runs_left_in_the_journal_are_stored_and_not_trained_again(tmp_path: Path) -> None:
    """The sweep's one reading of its store (register + stored runs) is read again after a
    journal replay: the replayed run counts as stored, so nothing is left to train."""
    from edftools.records import RunResult
    from edftools.store.journal import RunJournal
    from edftools.train.plan import plan_sweep
    from edftools.train.sweep import to_record

    recipe = load_recipe(ROOT / "recipes" / "digits_tiny.toml")
    plan = plan_sweep(recipe, n=1)
    store = tmp_path / "s.duckdb"
    result = RunResult(status="ok", error=30.0, best_error=29.0)
    RunJournal(store, recipe.name).keep([to_record(plan, plan.runs[0], result)])
    lines: list[str] = []
    outcome = run_sweep(recipe, store, n=1, progress=False, echo=lines.append)
    assert outcome.summary is not None
    assert (outcome.summary.done, outcome.summary.skipped) == (0, 1)
    assert any("1 finished run(s) stored" in line for line in lines)
    assert not RunJournal(store, recipe.name).path.exists()
