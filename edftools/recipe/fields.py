"""Typed field validation for TOML recipes: the helpers :mod:`edftools.recipe` parses with.

:class:`RecipeTable` wraps one TOML table and reads its keys with typed getters whose errors
name the full key (``schedule.lr``, ``spaces[2].band.flops``);
:meth:`RecipeTable.check_unknown` rejects keys nobody read. :func:`parse_bands` reads
complexity bands with the one quantity parser of the package
(:func:`edftools.spaces.restrictions.parse_quantity`, ``"360M"``); :func:`parse_schedule`
reads the ``[schedule]`` table, checking each value with :func:`coerce_like` against the
dataclass field's default. :func:`freeze`, :func:`thaw` and :func:`canonical_json` convert
between TOML values, read-only recipe values and canonical JSON. Every problem raises
:class:`~edftools.errors.RecipeError` with a one-line message.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from edftools.errors import RecipeError, SpaceError
from edftools.recipe.schedule import TrainSchedule
from edftools.spaces.restrictions import METRICS, band_bounds


def parse_bands(t: RecipeTable) -> dict[str, tuple[float, float]]:
    """A ``[band]`` table as ``{metric: (lo, hi)}``; metrics are :data:`METRICS`.

    Each bound follows the one quantity rule of
    :func:`edftools.spaces.restrictions.parse_quantity` and the pair
    :func:`~edftools.spaces.restrictions.band_bounds` (``lo < hi``); its errors are wrapped
    with the key (``band.flops: impossible band, ...``).
    """
    bands: dict[str, tuple[float, float]] = {}
    for key, value in t.items():
        where = t.where(key)
        if key not in METRICS:
            raise RecipeError(f"{where}: unknown band metric; known: {', '.join(METRICS)}")
        if not isinstance(value, list) or len(value) != 2:
            raise RecipeError(f"{where}: expected [lo, hi], got {value!r}")
        try:
            bands[key] = band_bounds(value[0], value[1])
        except SpaceError as exc:
            raise RecipeError(f"{where}: {exc}") from None
    return bands


def parse_schedule(t: RecipeTable) -> TrainSchedule:
    """The ``[schedule]`` table as a :class:`~edftools.recipe.schedule.TrainSchedule`.

    Keys are the dataclass's fields; each value must have its default's type.
    """
    fields = {f.name: f for f in dataclasses.fields(TrainSchedule)}
    kwargs: dict[str, Any] = {}
    for key, value in t.items():
        if key not in fields:
            raise RecipeError(
                f"{t.where(key)}: unknown schedule field; known: {', '.join(sorted(fields))}"
            )
        kwargs[key] = coerce_like(t.where(key), value, default_of(fields[key]))
    try:
        return TrainSchedule(**kwargs)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"schedule: {exc}") from None


def default_of(f: dataclasses.Field[Any]) -> Any:
    """A dataclass field's default value (calling its factory), or ``None`` if it has none."""
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def coerce_like(key: str, value: Any, default: Any) -> Any:
    """Check ``value`` has the type of the field's default (ints are accepted for floats)."""
    if default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise RecipeError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{key}: expected an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RecipeError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise RecipeError(f"{key}: expected a string, got {value!r}")
        return value
    if isinstance(default, tuple | list):
        if not isinstance(value, list):
            raise RecipeError(f"{key}: expected a list, got {value!r}")
        return tuple(value)
    return value


class RecipeTable:
    """A TOML table being validated: typed getters that name the key, and unknown-key check."""

    def __init__(self, table: Mapping[str, Any], prefix: str) -> None:
        self._t = dict(table)
        self._prefix = prefix
        self._seen: set[str] = set()

    def where(self, key: str) -> str:
        """The full dotted name of ``key`` in the recipe (``spaces[0].band.flops``)."""
        return f"{self._prefix}.{key}" if self._prefix else key

    def __contains__(self, key: str) -> bool:
        return key in self._t

    def items(self) -> list[tuple[str, Any]]:
        """Every ``(key, value)`` of the table, all marked as read."""
        self._seen.update(self._t)
        return list(self._t.items())

    def get(self, key: str, default: Any = None, required: bool = False, kind: type = object):
        """The value of ``key`` (``default`` when absent), checked to be a ``kind``."""
        self._seen.add(key)
        if key not in self._t:
            if required:
                raise RecipeError(f"{self.where(key)}: missing required key")
            return default
        value = self._t[key]
        if not isinstance(value, kind):
            raise RecipeError(f"{self.where(key)}: expected a {_KIND[kind]}, got {value!r}")
        return value

    def string(self, key: str, default: Any = None, required: bool = False) -> Any:
        """A string value (``default`` when absent)."""
        return self.get(key, default, required, kind=str)

    def integer(self, key: str, default: Any = None, required: bool = False, minimum: int = 0):
        """An integer value ``>= minimum`` (``default`` when absent; booleans are refused)."""
        value = self.get(key, default, required, kind=object)
        if value is default and key not in self._t:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{self.where(key)}: expected an integer, got {value!r}")
        if value < minimum:
            raise RecipeError(f"{self.where(key)}: must be >= {minimum}, got {value}")
        return value

    def number(self, key: str, default: Any = None) -> Any:
        """A number as a float (``default`` when absent; booleans are refused)."""
        value = self.get(key, default)
        if key not in self._t:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RecipeError(f"{self.where(key)}: expected a number, got {value!r}")
        return float(value)

    def sub(self, key: str, required: bool) -> RecipeTable:
        """The sub-table ``key`` (empty when absent and not required)."""
        value = self.get(key, {}, required, kind=dict)
        return RecipeTable(value, self.where(key))

    def check_unknown(self) -> None:
        """Raise :class:`RecipeError` naming the first key no getter has read."""
        unknown = sorted(set(self._t) - self._seen)
        if unknown:
            raise RecipeError(f"{self.where(unknown[0])}: unknown key")


_KIND = {str: "string", dict: "table", list: "list", object: "value"}


def freeze(value: Any) -> Any:
    """Deep read-only copy: dicts become mapping proxies, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Inverse of :func:`freeze`: plain dicts and lists (JSON-serializable TOML values)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces) of a frozen or plain value: equal in, equal out."""
    return json.dumps(thaw(value), sort_keys=True, separators=(",", ":"), default=str)
