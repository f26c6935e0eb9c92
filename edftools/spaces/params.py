"""Parameter grids of a design space: the per-family parameter names and :class:`ParamSpec`.

An AnyNet space has per-stage ``depth``, ``width``, ``bottleneck_ratio`` and ``group_width``;
a RegNet space has scalar ``depth``, ``w0``, ``wa``, ``wm``, ``group_width`` and
``bottleneck_ratio``. :data:`FAMILY_PARAMS` lists them in the order the sampler draws them
(the order is part of what a seed means: changing it changes every sampled config).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edftools.errors import SpaceError

FAMILY_PARAMS: dict[str, tuple[str, ...]] = {
    "anynet": ("depth", "width", "bottleneck_ratio", "group_width"),
    "regnet": ("depth", "w0", "wa", "wm", "group_width", "bottleneck_ratio"),
}
DISTS = ("log_uniform", "uniform")
#: Decimals a grid value keeps (grids like 0.1 steps are exact to this precision).
VALUE_DECIMALS = 6


def plain_value(v: float) -> int | float:
    """A parameter value as a plain Python number: ``round(v, 6)``, an ``int`` when integral
    (``2.0`` -> ``2``, ``0.30000000000000004`` -> ``0.3``), so configs and grids print and
    hash the same whichever float arithmetic produced them."""
    x = round(float(v), VALUE_DECIMALS)
    return int(x) if x.is_integer() else x


@dataclass(frozen=True)
class ParamSpec:
    """A parameter's grid (sorted values) and whether the paper samples it log-uniformly."""

    name: str
    values: tuple[float, ...]
    log: bool = False

    def __post_init__(self) -> None:
        arr = np.unique(np.round(np.asarray(self.values, dtype=np.float64), VALUE_DECIMALS))
        vals = tuple(plain_value(x) for x in arr.tolist())
        if not vals:
            raise SpaceError(f"parameter {self.name!r} has an empty grid")
        object.__setattr__(self, "values", vals)

    @classmethod
    def grid(cls, name: str, lo: float, hi: float, step: float = 1, log: bool = False):
        """The grid ``lo, lo + step, ..., <= hi``."""
        if not (step > 0 and lo <= hi):
            raise SpaceError(f"parameter {name!r}: need lo <= hi and step > 0 ({lo}, {hi}, {step})")
        n = math.floor((hi - lo) / step + 1e-9) + 1
        return cls(name, tuple(lo + step * np.arange(n)), log)

    @property
    def step(self) -> float:
        """The spacing of the first two grid values (1.0 for a one-value grid)."""
        return self.values[1] - self.values[0] if len(self.values) > 1 else 1.0

    def describe(self) -> str:
        """Short human form: ``8..128 step 8 (16 values)`` or ``{1, 2, 4}``."""
        v = self.values
        if len(v) > 8:
            return f"{v[0]:g}..{v[-1]:g} step {self.step:g} ({len(v)} values)"
        return "{" + ", ".join(f"{x:g}" for x in v) + "}"
