"""Click options derived from :class:`edftools.analysis.settings.Settings`: each option's help,
default and choices come from the one definition of its setting, and
:func:`settings_from` turns the parsed values back into a ``Settings``.

Light: imports only click and the settings module (``--help`` never loads pandas or scipy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from edftools.analysis.settings import (
    ERROR_COLUMNS,
    MARGIN_UNITS,
    NORMALIZE_CHOICES,
    SETTINGS_HELP,
    Settings,
    default,
)

STORE_HELP = "Result store (default: $EDFTOOLS_STORE or data/edftools.duckdb)."

#: The settings every analysis command takes, in help order.
ANALYSIS_SETTINGS: tuple[str, ...] = (
    "normalize",
    "bins",
    "margin",
    "margin_unit",
    "margin_range",
    "alpha",
    "error_column",
    "seed",
)


def _range_text(value: tuple[float, float]) -> str:
    return f"{value[0]:g}:{value[1]:g}"


def setting_option(name: str) -> Callable[[Any], Any]:
    """The click option of setting ``name`` (``--margin-range`` for ``margin_range``)."""
    flag = "--" + name.replace("_", "-")
    help_text = SETTINGS_HELP[name]
    kinds: dict[str, dict[str, Any]] = {
        "normalize": {"type": click.Choice(NORMALIZE_CHOICES)},
        "bins": {"type": click.IntRange(min=1)},
        "margin": {"type": click.FloatRange(0, min_open=True)},
        "margin_unit": {"type": click.Choice(MARGIN_UNITS)},
        "margin_range": {"type": str, "metavar": "A:B"},
        "alpha": {"type": click.FloatRange(0, 1, min_open=True, max_open=True)},
        "error_column": {"type": click.Choice(ERROR_COLUMNS)},
        "seed": {"type": int},
        "n_boot": {"type": click.IntRange(min=1)},
    }
    value = default(name)
    if name == "margin_range":
        value = _range_text(value)
    return click.option(
        flag,
        name,
        default=value,
        show_default=value is not None,
        help=help_text,
        **kinds[name],
    )


def setting_options(*names: str) -> Callable[[Any], Any]:
    """A decorator adding the options of ``names`` (default: :data:`ANALYSIS_SETTINGS`)."""
    chosen = names or ANALYSIS_SETTINGS

    def decorate(func: Any) -> Any:
        for name in reversed(chosen):
            func = setting_option(name)(func)
        return func

    return decorate


def pop_settings(values: dict[str, Any]) -> Settings:
    """The :class:`Settings` of the parsed options in ``values`` (removed from it); a bad
    value is a one-line usage error naming its option."""
    from edftools.errors import EdftoolsError

    given = {k: values.pop(k) for k in list(values) if k in Settings.__dataclass_fields__}
    text = given.get("margin_range")
    if isinstance(text, str):
        try:
            lo, hi = (float(x) for x in text.split(":"))
        except ValueError:
            raise click.BadParameter(
                f"expected A:B with 0 < A < B < 1, got {text!r}", param_hint="--margin-range"
            ) from None
        given["margin_range"] = (lo, hi)
    try:
        return Settings().updated(**given)
    except EdftoolsError as exc:
        raise click.UsageError(str(exc)) from None
