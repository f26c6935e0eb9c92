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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edftools.errors import SpaceError
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


def format_number(x: float) -> str:
    """Human form of a count or complexity: 360000000 -> '360M', 1.5e9 -> '1.5G'."""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= scale:
            return f"{x / scale:.4g}{suffix}"
    return f"{x:.4g}"


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
    """Complexity band ``lo <= metric <= hi`` (metric: flops, params or acts)."""

    metric: str
    lo: float
    hi: float

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise SpaceError(f"unknown band metric {self.metric!r}; known: {METRICS}")
        if not 0 <= self.lo <= self.hi:
            raise SpaceError(f"band {self.metric} needs 0 <= lo <= hi, got {self.lo}:{self.hi}")

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


def parse_quantity(text: Any) -> float:
    """Parse ``360M``, ``0.4G``, ``2.5e6``, ``1500K`` or a number into a float."""
    if isinstance(text, bool):
        raise SpaceError(f"not a quantity: {text!r}")
    if isinstance(text, int | float):
        return float(text)
    s = str(text).strip().upper()
    scale = {"K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "T": 1e12}.get(s[-1:], 1.0)
    if scale != 1.0:
        s = s[:-1]
    try:
        return float(s) * scale
    except ValueError:
        raise SpaceError(f"not a quantity: {text!r} (use e.g. 360M, 0.4G, 2e6)") from None


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
            kwargs[key] = parse_quantity(kwargs[key])
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
    """Parse ``LO:HI`` with human suffixes (``360M:400M``, ``0.36G:0.4G``) into floats."""
    if not isinstance(text, str) or text.count(":") != 1:
        raise SpaceError(f"band must look like LO:HI (e.g. 360M:400M), got {text!r}")
    lo, hi = (parse_quantity(t) for t in text.split(":"))
    if not 0 <= lo <= hi:
        raise SpaceError(f"band needs 0 <= LO <= HI, got {text!r}")
    return lo, hi
