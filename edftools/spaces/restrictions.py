"""Declarative restrictions on a design space.

A restriction is data, not code: the sampler conditions the base distribution on it and the
counter counts what it allows. Parameter names: ``depth`` (d), ``width`` (w),
``bottleneck_ratio`` (b), ``group_width`` (g) for AnyNet spaces (per stage); ``depth``, ``w0``,
``wa``, ``wm``, ``group_width``, ``bottleneck_ratio`` for RegNet spaces (scalars).

===========  ===============================  =====================================
kind         fields                           meaning
===========  ===============================  =====================================
``shared``   ``param``                        every stage has the same value
``monotone`` ``param``, ``decreasing=False``  ``x_{i+1} >= x_i`` (or ``<=``)
``fixed``    ``param``, ``value``             the parameter takes one value
``range``    ``param``, ``lo``, ``hi``        ``lo <= x <= hi`` (either bound optional)
``band``     ``metric``, ``lo``, ``hi``       ``lo <= flops|params|acts <= hi``
===========  ===============================  =====================================
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edftools.errors import SpaceError
from edftools.measures import format_number
from edftools.spaces.complexity import METRICS

ALIASES: dict[str, str] = {
    "d": "depth",
    "w": "width",
    "b": "bottleneck_ratio",
    "g": "group_width",
    "bot_mul": "bottleneck_ratio",
}
SYMBOL: dict[str, str] = {
    "depth": "d",
    "width": "w",
    "bottleneck_ratio": "b",
    "group_width": "g",
    "w0": "w0",
    "wa": "wa",
    "wm": "wm",
}


def canonical_param(name: str) -> str:
    """The canonical parameter name for ``name`` (``d`` -> ``depth``, ...)."""
    return ALIASES.get(name, name)


@dataclass(frozen=True)
class Shared:
    """Every stage takes the same value of ``param`` (``x_{i+1} = x_i``)."""

    param: str

    def text(self) -> str:
        s = SYMBOL.get(self.param, self.param)
        return f"{s}_{{i+1}} = {s}_i"


@dataclass(frozen=True)
class Monotone:
    """``param`` is non-decreasing over stages (non-increasing with ``decreasing=True``)."""

    param: str
    decreasing: bool = False

    def text(self) -> str:
        s = SYMBOL.get(self.param, self.param)
        return f"{s}_{{i+1}} {'<=' if self.decreasing else '>='} {s}_i"


@dataclass(frozen=True)
class Fixed:
    """``param`` takes exactly ``value``."""

    param: str
    value: float

    def text(self) -> str:
        return f"{SYMBOL.get(self.param, self.param)} = {self.value:g}"


@dataclass(frozen=True)
class Range:
    """``lo <= param <= hi`` (a bound of ``None`` is open)."""

    param: str
    lo: float | None = None
    hi: float | None = None

    def text(self) -> str:
        s = SYMBOL.get(self.param, self.param)
        if self.lo is None:
            return f"{s} <= {self.hi:g}"
        if self.hi is None:
            return f"{s} >= {self.lo:g}"
        return f"{self.lo:g} <= {s} <= {self.hi:g}"


@dataclass(frozen=True)
class Band:
    """Complexity band ``lo <= metric <= hi`` (metric: flops, params or acts; the bounds obey
    :func:`band_bounds`: finite, ``>= 0``, ``lo < hi``)."""

    metric: str
    lo: float
    hi: float

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise SpaceError(f"unknown band metric {self.metric!r}; known: {METRICS}")
        lo, hi = band_bounds(self.lo, self.hi)
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    def text(self) -> str:
        return f"{format_number(self.lo)} <= {self.metric} <= {format_number(self.hi)}"


Restriction = Shared | Monotone | Fixed | Range | Band
KINDS: dict[str, type] = {
    "shared": Shared,
    "monotone": Monotone,
    "fixed": Fixed,
    "range": Range,
    "band": Band,
}
_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "shared": {"param": (str,)},
    "monotone": {"param": (str,), "decreasing": (bool,)},
    "fixed": {"param": (str,), "value": (int, float)},
    "range": {"param": (str,), "lo": (int, float), "hi": (int, float)},
    "band": {"metric": (str,), "lo": (int, float, str), "hi": (int, float, str)},
}


QUANTITY_SUFFIXES: dict[str, float] = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "T": 1e12}
_QUANTITY_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([KMGBT]?)\s*$", re.I)


def parse_quantity(value: Any) -> float:
    """A complexity quantity as a float: ``"360M"`` -> 3.6e8 (the one parser of the package).

    The rule: a number (int or float, not bool), or a string of a plain decimal or scientific
    number with an optional suffix K = 1e3, M = 1e6, G = B = 1e9, T = 1e12 (case-insensitive,
    spaces around allowed): ``360M``, ``0.4G``, ``2.5e6``, ``1500k``. The value must be finite
    and ``>= 0``; ``inf``, a sign, ``_`` separators or other text are refused with
    :class:`SpaceError`. Recipe errors wrap it and name the key.
    """
    if isinstance(value, bool):
        raise SpaceError(f"expected a number like 4e6 or '4M', got {value!r}")
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str) and (m := _QUANTITY_RE.match(value)):
        x = float(m.group(1)) * QUANTITY_SUFFIXES[m.group(2).upper()]
    else:
        raise SpaceError(f"expected a number like 4e6 or '4M', got {value!r}")
    if not math.isfinite(x) or x < 0:
        raise SpaceError(f"expected a finite number >= 0, got {value!r}")
    return x


def band_bounds(lo: Any, hi: Any) -> tuple[float, float]:
    """``(lo, hi)`` of a complexity band, each parsed by :func:`parse_quantity`; ``lo < hi``.

    An empty or inverted band (``lo >= hi``) is a :class:`SpaceError`.
    """
    lo_value, hi_value = parse_quantity(lo), parse_quantity(hi)
    if not lo_value < hi_value:
        raise SpaceError(f"impossible band, lo {lo!r} must be < hi {hi!r}")
    return lo_value, hi_value


def restriction_from_dict(table: Mapping[str, Any]) -> Restriction:
    """Build a restriction from a TOML table such as ``{kind = "shared", param = "b"}``."""
    if not isinstance(table, Mapping):
        raise SpaceError(f"a restriction must be a table, got {table!r}")
    kind = table.get("kind")
    if kind not in KINDS:
        raise SpaceError(f"restriction kind must be one of {sorted(KINDS)}, got {kind!r}")
    fields = _FIELDS[kind]
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        if key == "kind":
            continue
        if key not in fields:
            raise SpaceError(f"unknown key {key!r} in {kind} restriction; allowed: {list(fields)}")
        if not isinstance(value, fields[key]) or (
            isinstance(value, bool) and bool not in fields[key]
        ):
            raise SpaceError(f"{kind} restriction: {key} has wrong type {type(value).__name__}")
        kwargs[key] = value
    if kind == "band":
        for key in ("lo", "hi"):
            if key not in kwargs:
                raise SpaceError(f"band restriction needs {key!r}")
        kwargs["lo"], kwargs["hi"] = band_bounds(kwargs["lo"], kwargs["hi"])
        if "metric" not in kwargs:
            raise SpaceError("band restriction needs 'metric'")
        return Band(**kwargs)
    if "param" not in kwargs:
        raise SpaceError(f"{kind} restriction needs 'param'")
    kwargs["param"] = canonical_param(kwargs["param"])
    if kind == "fixed" and "value" not in kwargs:
        raise SpaceError("fixed restriction needs 'value'")
    if kind == "range" and "lo" not in kwargs and "hi" not in kwargs:
        raise SpaceError("range restriction needs 'lo' and/or 'hi'")
    return KINDS[kind](**kwargs)


def parse_band(text: str) -> tuple[float, float]:
    """Parse ``LO:HI`` (``360M:400M``, ``0.36G:0.4G``) with :func:`band_bounds`: ``lo < hi``."""
    if not isinstance(text, str) or text.count(":") != 1:
        raise SpaceError(f"band must look like LO:HI (e.g. 360M:400M), got {text!r}")
    lo, hi = text.split(":")
    try:
        return band_bounds(lo, hi)
    except SpaceError as exc:
        raise SpaceError(f"band {text!r}: {exc}") from None
