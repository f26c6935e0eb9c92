"""Naive rejection sampling, one config at a time: the reference the fast sampler must equal.

Every parameter is drawn i.i.d. from its *unrestricted* base pmf; the config is built the way
pycls builds it (compatibility adjustment, RegNet generation); it is kept if every restriction,
the stage count and every band hold. Slow by design: tests and benchmarks use it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

from edftools.errors import ConfigError
from edftools.spaces.complexity import complexity
from edftools.spaces.config import NetConfig
from edftools.spaces.definition import SpaceDefinition
from edftools.spaces.params import plain_value
from edftools.spaces.regnet import generate_regnet
from edftools.spaces.restrictions import Band, Fixed, Monotone, Range, Shared


def sample_naive(
    space: SpaceDefinition,
    n: int,
    seed: int = 0,
    bands: Mapping[str, tuple[float, float]] | None = None,
    dist: str | None = None,
    max_draws: int | None = None,
) -> tuple[list[NetConfig], int]:
    """Naive rejection: draw every parameter i.i.d. from its *unrestricted* base pmf,
    build the config (pycls's path), compute its complexity one config at a time, keep it
    if every restriction and band holds. Returns ``(configs, draws)``. Slow: a reference
    for tests and benchmarks (``max_draws`` stops early and returns what was found).
    """
    rng = np.random.default_rng(seed)
    band_list = space.bands(bands)
    grids = {}
    for p in space.params:
        grids[p.name] = (np.asarray(p.values), np.cumsum(space.base_pmf(p.name, dist)))
    S = space.num_stages
    out: list[NetConfig] = []
    draws = 0
    while len(out) < n and (max_draws is None or draws < max_draws):
        draws += 1
        size = S if space.family == "anynet" else 1
        x = {}
        for name, (vals, cdf) in grids.items():
            idx = np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(vals) - 1)
            x[name] = [plain_value(v) for v in vals[idx]]
        if not _naive_ok(space, x):
            continue
        try:
            net = _naive_config(space, x)
        except (ConfigError, _Reject):
            continue
        cx = complexity(net)
        if all(band.lo <= getattr(cx, band.metric) <= band.hi for band in band_list):
            out.append(net)
    return out, draws


def _naive_ok(space: SpaceDefinition, x: dict[str, list]) -> bool:
    for r in space.restrictions:
        if isinstance(r, Band):
            continue
        v = x[r.param]
        if isinstance(r, Shared) and len(set(v)) > 1:
            return False
        if isinstance(r, Monotone):
            pairs = itertools.pairwise(v)
            if any((a < b) if r.decreasing else (a > b) for a, b in pairs):
                return False
        if isinstance(r, Fixed) and any(abs(a - r.value) > 1e-9 for a in v):
            return False
        if isinstance(r, Range) and any(
            (r.lo is not None and a < r.lo - 1e-9) or (r.hi is not None and a > r.hi + 1e-9)
            for a in v
        ):
            return False
    return True


def _naive_config(space: SpaceDefinition, x: dict[str, list]) -> NetConfig:
    kw = space.net_kwargs()
    if space.family == "anynet":
        return NetConfig.from_stages(
            x["depth"],
            x["width"],
            x["bottleneck_ratio"],
            x["group_width"],
            list(space.strides),
            **kw,
        )
    gen = generate_regnet(x["w0"][0], x["wa"][0], x["wm"][0], x["depth"][0])
    if gen.num_stages != space.num_stages or gen.total_stages != space.num_stages:
        raise _Reject
    return NetConfig.from_stages(
        gen.depths,
        gen.widths,
        x["bottleneck_ratio"][0],
        x["group_width"][0],
        list(space.strides),
        **kw,
    )


class _Reject(Exception):
    """Internal: a naive draw that is not a member (wrong stage count)."""
