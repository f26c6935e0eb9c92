"""Design spaces: a base sampling distribution plus declarative restrictions.

A :class:`Space` has a *family* (``anynet``: per-stage ``depth``, ``width``,
``bottleneck_ratio``, ``group_width``; ``regnet``: scalar ``depth``, ``w0``, ``wa``, ``wm``,
``group_width``, ``bottleneck_ratio``), a finite grid per parameter (:class:`ParamSpec`), the
network settings shared by all its members (stages, strides, block type, stem, resolution,
classes) and restrictions (:mod:`edftools.spaces.restrictions`).

Sampling semantics: the base distribution (``dist="log_uniform"``, the paper's: each
``ParamSpec`` with ``log=True`` is log-uniform on its grid, pycls-style, the others uniform;
``dist="uniform"``: every parameter uniform) **conditioned** on the restrictions, on the
stage count (RegNet) and on the complexity bands. :meth:`Space.sample` draws the conditioned
per-parameter distributions exactly and rejects on the bands in large vectorized batches,
which is the same distribution as naive per-config rejection (:meth:`Space.sample_naive`).

TOML recipe format (the dict passed to :func:`space_from_dict`; every key optional except
``base`` or ``family``)::

    name = "digits_AnyNetX_A"       # the space's name (default: base name)
    base = "AnyNetX_A"              # start from a catalog space (else give family)
    preset = "digits"               # 8x8x1 inputs, 10 classes, small stem, 3 stages, ...
    family = "anynet"               # "anynet" | "regnet" (only without base)
    dist = "log_uniform"            # "log_uniform" (paper) | "uniform"
    block_type = "X"                # X Y R V VR
    stem_type = "small"             # imagenet (3x3 s2) | small (3x3 s1)
    stem_width = 16
    resolution = 8
    in_channels = 1
    num_classes = 10
    num_stages = 3
    strides = [1, 2, 2]
    se_ratio = 0.25
    replace_restrictions = false    # true: drop the base space's restrictions

    [params]                        # grids: a table {lo, hi, step, log} or a list of choices
    depth = {lo = 1, hi = 4}                      # step 1; keeps the base's log flag
    width = {lo = 8, hi = 128, step = 8, log = true}
    group_width = [1, 2, 4, 8]                    # a list: choices, sampled uniformly

    [[restrictions]]                # appended to the base space's restrictions
    kind = "shared"                 # shared | monotone | fixed | range | band
    param = "bottleneck_ratio"
    [[restrictions]]
    kind = "band"
    metric = "flops"
    lo = "1M"
    hi = "3M"

A digits-scale RegNetX::

    base = "RegNetX"
    preset = "digits"
    [params]
    depth = {lo = 3, hi = 12}
    w0 = {lo = 8, hi = 48, step = 8, log = true}
    wa = {lo = 0.5, hi = 32, step = 0.1, log = true}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edftools.errors import SpaceError
from edftools.spaces.complexity import METRICS, complexity_batch
from edftools.spaces.config import BLOCK_TYPES, STEM_TYPES, NetConfig, StageConfig
from edftools.spaces.regnet import block_widths_batch
from edftools.spaces.restrictions import Band, Fixed, Monotone, Range, Restriction, Shared
from edftools.spaces.sampling import (
    adjust_compatibility_batch,
    draw_index,
    draw_sequence,
    grid_pmf,
    regnet_stages,
)

FAMILY_PARAMS: dict[str, tuple[str, ...]] = {
    "anynet": ("depth", "width", "bottleneck_ratio", "group_width"),
    "regnet": ("depth", "w0", "wa", "wm", "group_width", "bottleneck_ratio"),
}
DISTS = ("log_uniform", "uniform")


@dataclass(frozen=True)
class ParamSpec:
    """A parameter's grid (sorted values) and whether the paper samples it log-uniformly."""

    name: str
    values: tuple[float, ...]
    log: bool = False

    def __post_init__(self) -> None:
        arr = np.unique(np.round(np.asarray(self.values, dtype=np.float64), 6))
        vals = tuple(int(x) if x.is_integer() else x for x in arr.tolist())
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
        return self.values[1] - self.values[0] if len(self.values) > 1 else 1.0

    def describe(self) -> str:
        v = self.values
        if len(v) > 8:
            return f"{v[0]:g}..{v[-1]:g} step {self.step:g} ({len(v)} values)"
        return "{" + ", ".join(f"{x:g}" for x in v) + "}"


def _clean(v: Any) -> float | int:
    x = round(float(v), 6)
    return int(x) if x.is_integer() else x


@dataclass(frozen=True)
class SampleBatch:
    """Sampled configs with their complexity arrays and raw parameters (one row per config)."""

    configs: list[NetConfig]
    flops: np.ndarray
    params: np.ndarray
    acts: np.ndarray
    raw: dict[str, np.ndarray]
    draws: int


@dataclass(frozen=True)
class Space:
    """A design space: family, parameter grids, network settings and restrictions."""

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
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.family not in FAMILY_PARAMS:
            raise SpaceError(f"unknown family {self.family!r}; known: {sorted(FAMILY_PARAMS)}")
        names = [p.name for p in self.params]
        if sorted(names) != sorted(FAMILY_PARAMS[self.family]):
            raise SpaceError(f"{self.family} space needs params {FAMILY_PARAMS[self.family]}")
        if self.dist not in DISTS:
            raise SpaceError(f"dist must be one of {DISTS}, got {self.dist!r}")
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
        if "wm" in g and (g["wm"] <= 1).any():
            raise SpaceError("wm values must be > 1")
        if "wa" in g and (g["wa"] < 0).any():
            raise SpaceError("wa values must be >= 0")

    # --- views ------------------------------------------------------------------------------
    def param(self, name: str) -> ParamSpec:
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

    def pmf(self, name: str, dist: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(allowed values, their conditional probabilities) under the base distribution."""
        spec = self.param(name)
        log = spec.log and (dist or self.dist) == "log_uniform"
        p = grid_pmf(np.asarray(spec.values, dtype=np.float64), log)
        mask = self.allowed(name)
        vals, p = np.asarray(spec.values, dtype=np.float64)[mask], p[mask]
        return vals, p / p.sum()

    def bands(self, extra: Mapping[str, tuple[float, float]] | None = None) -> list[Band]:
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

    def with_overrides(self, **overrides: Any) -> Space:
        """A copy with settings, restrictions or parameter grids replaced (see ``catalog``)."""
        from edftools.spaces.catalog import apply_overrides

        return apply_overrides(self, overrides)

    # --- sampling ---------------------------------------------------------------------------
    def _draw(self, rng: np.random.Generator, n: int, dist: str | None) -> dict[str, np.ndarray]:
        """One batch of ``n`` raw draws plus final stage arrays, complexity and a keep mask."""
        S = self.num_stages
        raw: dict[str, np.ndarray] = {}
        if self.family == "anynet":
            for name in FAMILY_PARAMS["anynet"]:
                vals, p = self.pmf(name, dist)
                raw[name] = vals[draw_sequence(rng, p, n, S, self.order(name))]
            d = raw["depth"].astype(np.int64)
            w, g = adjust_compatibility_batch(
                raw["width"].astype(np.int64), raw["bottleneck_ratio"], raw["group_width"]
            )
            b = raw["bottleneck_ratio"]
            keep = np.ones(n, dtype=bool)
        else:
            for name in FAMILY_PARAMS["regnet"]:
                vals, p = self.pmf(name, dist)
                raw[name] = vals[draw_index(rng, p, n)]
            # cheap pre-filter on the last block alone: max(k) + 1 must equal S
            last = raw["depth"] - 1
            k_last = np.round(
                np.log((last * raw["wa"] + raw["w0"]) / raw["w0"]) / np.log(raw["wm"])
            )
            rows = np.flatnonzero(k_last == S - 1)
            keep = np.zeros(n, dtype=bool)
            d = np.ones((n, S), dtype=np.int64)
            w = np.full((n, S), 8, dtype=np.int64)
            if rows.size:
                sub = {k: raw[k][rows] for k in ("w0", "wa", "wm", "depth")}
                ws, ks, valid = block_widths_batch(sub["w0"], sub["wa"], sub["wm"], sub["depth"])
                ok, d_sub, w_sub = regnet_stages(ws, ks, valid, S)
                keep[rows], d[rows], w[rows] = ok, d_sub, w_sub
            b = np.repeat(raw["bottleneck_ratio"][:, None], S, axis=1)
            g0 = np.repeat(raw["group_width"][:, None].astype(np.int64), S, axis=1)
            w = np.where(keep[:, None], w, 8)
            d = np.where(keep[:, None], d, 1)
            w, g = adjust_compatibility_batch(w, b, g0)
        cx = complexity_batch(d, w, b, g, self.strides, **self.net_kwargs())
        return {"raw": raw, "d": d, "w": w, "b": b, "g": g, "cx": cx, "keep": keep}

    def sample_batch(
        self,
        n: int,
        seed: int = 0,
        bands: Mapping[str, tuple[float, float]] | None = None,
        dist: str | None = None,
        max_draws: int = 10_000_000,
    ) -> SampleBatch:
        """``n`` configs from the conditioned distribution, with complexity and raw params.

        Draws batches of the exactly-conditioned parameter distribution and keeps, in draw
        order, those in every band (and, for RegNet, with ``num_stages`` stages). Raises
        :class:`SpaceError` when fewer than ``n`` are found within ``max_draws`` draws.
        """
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise SpaceError(f"n must be an integer >= 0, got {n!r}")
        if dist is not None and dist not in DISTS:
            raise SpaceError(f"dist must be one of {DISTS}, got {dist!r}")
        band_list = self.bands(bands)
        rng = np.random.default_rng(seed)
        parts: list[dict[str, Any]] = []
        found, drawn, batch = 0, 0, 4096
        self._check_reachable(band_list)
        while found < n:
            if drawn >= max_draws or (found == 0 and drawn >= max_draws // 10):
                where = "; ".join(b.text() for b in band_list) or "its restrictions"
                raise SpaceError(
                    f"space {self.name}: only {found} of {n} configs satisfy {where} "
                    f"after {drawn} draws (band unreachable or too narrow)"
                )
            out = self._draw(rng, batch, dist)
            mask = out["keep"]
            for band in band_list:
                m = out["cx"][band.metric]
                mask = mask & (m >= band.lo) & (m <= band.hi)
            idx = np.flatnonzero(mask)[: n - found]
            parts.append(_take(out, idx))
            found += idx.size
            drawn += batch
            rate = max(found, 1) / drawn
            batch = int(min(65_536, max(4096, 1.3 * (n - found) / rate)))
        return self._assemble(parts, drawn)

    def complexity_bounds(self) -> tuple[Any, Any]:
        """Complexity of two corner networks bracketing every member (up to compatibility
        rounding): all stages at minimal depth and width with the largest ``b`` and smallest
        ``g``, and all at maximal depth and width with the smallest ``b`` and largest ``g``."""
        from edftools.spaces.complexity import complexity_batch as cb

        vals = {p.name: self.pmf(p.name)[0] for p in self.params}
        S = self.num_stages
        if self.family == "anynet":
            w_lo, w_hi = vals["width"][0], vals["width"][-1]
            d_lo, d_hi = vals["depth"][0], vals["depth"][-1]
        else:
            w_lo = vals["w0"][0]
            w_hi = 8 * np.ceil(vals["w0"][-1] * vals["wm"][-1] ** (S - 1) / 8)
            w_hi = min(w_hi, 8 * np.ceil((vals["w0"][-1] + vals["wa"][-1] * vals["depth"][-1]) / 8))
            d_lo, d_hi = 1, vals["depth"][-1]
        out = []
        for d, w, b, g in (
            (d_lo, w_lo, vals["bottleneck_ratio"][-1], vals["group_width"][0]),
            (d_hi, w_hi, vals["bottleneck_ratio"][0], vals["group_width"][-1]),
        ):
            wa, ga = adjust_compatibility_batch(
                np.full((1, S), int(w)), np.full((1, S), b), np.full((1, S), int(g))
            )
            out.append(cb(np.full((1, S), int(d)), wa, b, ga, self.strides, **self.net_kwargs()))
        return out[0], out[1]

    def _check_reachable(self, band_list: list[Band]) -> None:
        """Raise :class:`SpaceError` for a band far outside :meth:`complexity_bounds`."""
        if not band_list:
            return
        lo, hi = self.complexity_bounds()
        for band in band_list:
            if band.lo > 1.5 * hi[band.metric][0] or band.hi < lo[band.metric][0] / 1.5:
                raise SpaceError(
                    f"space {self.name}: no config can reach {band.text()} (members span about "
                    f"{lo[band.metric][0]:.3g} to {hi[band.metric][0]:.3g} {band.metric})"
                )

    def sample(
        self,
        n: int,
        seed: int = 0,
        bands: Mapping[str, tuple[float, float]] | None = None,
        dist: str | None = None,
    ) -> list[NetConfig]:
        """``n`` configs from the base distribution conditioned on restrictions and bands.

        ``bands`` maps a metric (``flops``, ``params``, ``acts``) to ``(lo, hi)``, inclusive.
        Same seed, same configs. Each config's ``extra`` holds the space name and, for
        RegNet spaces, the sampled ``d, w0, wa, wm, g, b``.
        """
        return self.sample_batch(n, seed, bands, dist).configs

    def _assemble(self, parts: list[dict[str, Any]], drawn: int) -> SampleBatch:
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            raw = {name: np.zeros(0) for name in FAMILY_PARAMS[self.family]}
            return SampleBatch([], empty, empty.copy(), empty.copy(), raw, drawn)
        cat = {k: np.concatenate([p[k] for p in parts]) for k in ("d", "w", "b", "g", *METRICS)}
        raw = {k: np.concatenate([p["raw"][k] for p in parts]) for k in parts[0]["raw"]}
        kw = self.net_kwargs()
        configs = []
        for i in range(cat["d"].shape[0]):
            stages = tuple(
                StageConfig(int(d), int(w), float(b), int(g), s)
                for d, w, b, g, s in zip(
                    cat["d"][i], cat["w"][i], cat["b"][i], cat["g"][i], self.strides, strict=True
                )
            )
            extra: list[tuple[str, Any]] = [("space", self.name)]
            if self.family == "regnet":
                extra += [
                    ("d", int(raw["depth"][i])),
                    ("w0", int(raw["w0"][i])),
                    ("wa", float(raw["wa"][i])),
                    ("wm", float(raw["wm"][i])),
                    ("g", int(raw["group_width"][i])),
                    ("b", _clean(raw["bottleneck_ratio"][i])),
                ]
            configs.append(NetConfig(stages=stages, extra=tuple(extra), **kw))
        return SampleBatch(configs, cat["flops"], cat["params"], cat["acts"], raw, drawn)

    def sample_naive(
        self,
        n: int,
        seed: int = 0,
        bands: Mapping[str, tuple[float, float]] | None = None,
        dist: str | None = None,
        max_draws: int | None = None,
    ) -> tuple[list[NetConfig], int]:
        """Naive rejection (reference, slow): see :func:`edftools.spaces.naive.sample_naive`."""
        from edftools.spaces.naive import sample_naive

        return sample_naive(self, n, seed, bands, dist, max_draws)


def _take(out: dict[str, Any], idx: np.ndarray) -> dict[str, Any]:
    part = {k: out[k][idx] for k in ("d", "w", "b", "g")}
    part["raw"] = {k: v[idx] for k, v in out["raw"].items()}
    for m in METRICS:
        part[m] = out["cx"][m][idx]
    return part


def parse_band(text: str) -> tuple[float, float]:
    """Parse ``LO:HI`` with human suffixes (``360M:400M``, ``0.36G:0.4G``) into floats."""
    from edftools.spaces.restrictions import parse_quantity

    if not isinstance(text, str) or text.count(":") != 1:
        raise SpaceError(f"band must look like LO:HI (e.g. 360M:400M), got {text!r}")
    lo, hi = (parse_quantity(t) for t in text.split(":"))
    if not 0 <= lo <= hi:
        raise SpaceError(f"band needs 0 <= LO <= HI, got {text!r}")
    return lo, hi
