"""The definition of a design space: its fields, their validation and the views samplers read.

:class:`SpaceDefinition` is the data of a design space (the format is described in
:mod:`edftools.spaces.space`); the samplers (:mod:`edftools.spaces.band_sampler`,
:mod:`edftools.spaces.naive`) and counters take one. :class:`edftools.spaces.space.Space`
subclasses it with the sampling methods, so the samplers never import the class that calls
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edftools.errors import SpaceError
from edftools.spaces.config import BLOCK_TYPES, STEM_TYPES
from edftools.spaces.params import DISTS, FAMILY_PARAMS, ParamSpec
from edftools.spaces.restrictions import Band, Fixed, Monotone, Range, Restriction, Shared
from edftools.spaces.sampling import GROUP_WIDTH_SAMPLERS, grid_pmf, power2_or_log_uniform_pmf

__all__ = ["SpaceDefinition"]


@dataclass(frozen=True)
class SpaceDefinition:
    """A design space's definition: family, parameter grids, network settings, restrictions.

    Validated on construction; the views (:meth:`allowed`, :meth:`order`, :meth:`pmf`,
    :meth:`bands`, :meth:`net_kwargs`) are what the samplers and counters read.
    :class:`edftools.spaces.space.Space` adds sampling.
    """

    name: str
    family: str
    params: tuple[ParamSpec, ...]
    restrictions: tuple[Restriction, ...] = ()
    dist: str = "log_uniform"
    num_stages: int = 4
    strides: tuple[int, ...] = (2, 2, 2, 2)
    block_type: str = "X"
    stem_type: str = "imagenet"
    stem_width: int = 32
    resolution: int = 224
    num_classes: int = 1000
    in_channels: int = 3
    se_ratio: float = 0.25
    group_width_sampler: str = "paper"
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.family not in FAMILY_PARAMS:
            raise SpaceError(f"unknown family {self.family!r}; known: {sorted(FAMILY_PARAMS)}")
        names = [p.name for p in self.params]
        if sorted(names) != sorted(FAMILY_PARAMS[self.family]):
            raise SpaceError(f"{self.family} space needs params {FAMILY_PARAMS[self.family]}")
        if self.dist not in DISTS:
            raise SpaceError(f"dist must be one of {DISTS}, got {self.dist!r}")
        if self.group_width_sampler not in GROUP_WIDTH_SAMPLERS:
            raise SpaceError(
                f"group_width_sampler must be one of {GROUP_WIDTH_SAMPLERS}, "
                f"got {self.group_width_sampler!r}"
            )
        strides = tuple(self.strides)
        if len(strides) == 1:
            strides = strides * self.num_stages
        if self.num_stages < 1 or len(strides) != self.num_stages:
            raise SpaceError(f"need {self.num_stages} strides, got {list(strides)}")
        object.__setattr__(self, "strides", tuple(int(s) for s in strides))
        if self.block_type not in BLOCK_TYPES or self.stem_type not in STEM_TYPES:
            raise SpaceError(f"bad block/stem type {self.block_type!r}/{self.stem_type!r}")
        for r in self.restrictions:
            if isinstance(r, Band):
                continue
            if r.param not in names:
                raise SpaceError(f"restriction on unknown parameter {r.param!r}; known: {names}")
            if isinstance(r, Shared | Monotone) and self.family != "anynet":
                raise SpaceError(f"{type(r).__name__.lower()} applies to per-stage parameters")
        self._check_grids()
        for p in self.params:  # fail early when a restriction leaves no value
            self.allowed(p.name)

    def _check_grids(self) -> None:
        g = {p.name: np.asarray(p.values) for p in self.params}
        for name in ("depth", "group_width", "width", "w0"):
            if name in g and ((g[name] < 1).any() or (g[name] != np.round(g[name])).any()):
                raise SpaceError(f"{name} values must be integers >= 1")
        for name in ("width", "w0"):
            if name in g and (g[name] % 8).any():
                raise SpaceError(f"{name} values must be multiples of 8")
        if (g["bottleneck_ratio"] <= 0).any():
            raise SpaceError("bottleneck ratios must be > 0")
        inverse = 1.0 / g["bottleneck_ratio"][g["bottleneck_ratio"] < 1]
        if (np.abs(inverse - np.round(inverse)) > 1e-9).any():
            raise SpaceError("bottleneck ratios below 1 must be 1/k for an integer k (pycls)")
        if "wm" in g and (g["wm"] <= 1).any():
            raise SpaceError("wm values must be > 1")
        if "wa" in g and (g["wa"] < 0).any():
            raise SpaceError("wa values must be >= 0")
        if self.group_width_sampler == "pycls":
            gw = g["group_width"]
            support = power2_or_log_uniform_pmf(int(gw[0]), int(gw[-1]))[0]
            if gw.size != support.size or (gw != support).any():
                raise SpaceError(
                    "the pycls group-width sampler draws from "
                    f"{[int(x) for x in support]}, not the grid {[int(x) for x in gw]}"
                )

    # --- views ------------------------------------------------------------------------------
    def param(self, name: str) -> ParamSpec:
        """The :class:`ParamSpec` named ``name``."""
        return next(p for p in self.params if p.name == name)

    def allowed(self, name: str) -> np.ndarray:
        """Boolean mask over ``param(name).values``: the values the fixed/range rules allow."""
        v = np.asarray(self.param(name).values, dtype=np.float64)
        mask = np.ones(v.size, dtype=bool)
        for r in self.restrictions:
            if isinstance(r, Fixed) and r.param == name:
                mask &= np.isclose(v, r.value, rtol=0, atol=1e-9)
            elif isinstance(r, Range) and r.param == name:
                if r.lo is not None:
                    mask &= v >= r.lo - 1e-9
                if r.hi is not None:
                    mask &= v <= r.hi + 1e-9
        if not mask.any():
            raise SpaceError(f"space {self.name}: no value of {name} satisfies the restrictions")
        return mask

    def order(self, name: str) -> str:
        """``none``, ``shared``, ``increasing`` or ``decreasing`` for a per-stage parameter."""
        kinds = set()
        for r in self.restrictions:
            if isinstance(r, Shared) and r.param == name:
                kinds.add("shared")
            elif isinstance(r, Monotone) and r.param == name:
                kinds.add("decreasing" if r.decreasing else "increasing")
        if "shared" in kinds:
            return "shared"
        if len(kinds) > 1:
            return "shared"  # non-decreasing and non-increasing: constant
        return kinds.pop() if kinds else "none"

    def base_pmf(self, name: str, dist: str | None = None) -> np.ndarray:
        """The unrestricted base pmf over ``param(name).values``.

        Log-uniform or uniform on the grid (:func:`~edftools.spaces.sampling.grid_pmf`); the
        group width with ``group_width_sampler = "pycls"`` follows pycls's sweep sampler
        (:func:`~edftools.spaces.sampling.power2_or_log_uniform_pmf` over the grid's range).
        """
        values = np.asarray(self.param(name).values, dtype=np.float64)
        if name == "group_width" and self.group_width_sampler == "pycls":
            return power2_or_log_uniform_pmf(int(values[0]), int(values[-1]))[1]
        log = self.param(name).log and (dist or self.dist) == "log_uniform"
        return grid_pmf(values, log)

    def pmf(self, name: str, dist: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(allowed values, their conditional probabilities) under the base distribution."""
        spec = self.param(name)
        p = self.base_pmf(name, dist)
        mask = self.allowed(name)
        vals, p = np.asarray(spec.values, dtype=np.float64)[mask], p[mask]
        return vals, p / p.sum()

    def bands(self, extra: Mapping[str, tuple[float, float]] | None = None) -> list[Band]:
        """The space's band restrictions plus ``extra`` (``{metric: (lo, hi)}``) as bands."""
        out = [r for r in self.restrictions if isinstance(r, Band)]
        for metric, (lo, hi) in (extra or {}).items():
            out.append(Band(metric, float(lo), float(hi)))
        return out

    def net_kwargs(self) -> dict[str, Any]:
        """The settings every member shares, as :class:`NetConfig` keyword arguments."""
        return dict(
            block_type=self.block_type,
            stem_type=self.stem_type,
            stem_width=self.stem_width,
            resolution=self.resolution,
            num_classes=self.num_classes,
            in_channels=self.in_channels,
            se_ratio=self.se_ratio,
        )
