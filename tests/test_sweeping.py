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
