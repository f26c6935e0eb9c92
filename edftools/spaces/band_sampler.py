"""The sampler behind :meth:`Space.sample_batch`: vectorized draws, band rejection, assembly.

:func:`draw_batch` draws one batch of the exactly-conditioned parameter distribution (the
per-parameter pieces are in :mod:`edftools.spaces.sampling`) and computes every draw's
complexity; :func:`sample_batch` keeps, in draw order, the draws inside every complexity band
until it has ``n``; :func:`assemble` turns the kept rows into :class:`NetConfig` objects.
:func:`complexity_bounds` and :func:`check_reachable` reject bands no member can reach before
any draw; :func:`sample_batch` also stops as soon as its draws show that ``n`` in-band configs
cannot be found within ``max_draws`` (see :func:`cannot_finish`), so an unreachable or
hopelessly narrow band fails in a fraction of a second instead of exhausting ``max_draws``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from edftools.errors import SpaceError
from edftools.measures import format_number
from edftools.spaces.complexity import METRICS, ComplexityBatch, complexity_batch
from edftools.spaces.config import NetConfig, StageConfig
from edftools.spaces.definition import SpaceDefinition
from edftools.spaces.params import DISTS, FAMILY_PARAMS, plain_value
from edftools.spaces.regnet import QUANTUM, block_widths_batch, stage_index
from edftools.spaces.restrictions import Band
from edftools.spaces.sampling import (
    adjust_compatibility_batch,
    draw_index,
    draw_sequence,
    regnet_stages,
)


@dataclass(frozen=True)
class SampleBatch:
    """Sampled configs with their complexity arrays and raw parameters (one row per config)."""

    configs: list[NetConfig]
    flops: np.ndarray
    params: np.ndarray
    acts: np.ndarray
    raw: dict[str, np.ndarray]
    draws: int


class Draws(TypedDict):
    """One batch of :func:`draw_batch`: raw draws, stage arrays, complexity, keep mask."""

    raw: dict[str, np.ndarray]
    d: np.ndarray
    w: np.ndarray
    b: np.ndarray
    g: np.ndarray
    cx: ComplexityBatch
    keep: np.ndarray


def draw_batch(space: SpaceDefinition, rng: np.random.Generator, n: int, dist: str | None) -> Draws:
    """One batch of ``n`` raw draws plus final stage arrays, complexity and a keep mask.

    Returns ``{"raw", "d", "w", "b", "g", "cx", "keep"}``: the raw parameter draws, the
    ``(n, num_stages)`` depth/width/bottleneck/group arrays after compatibility adjustment,
    their :class:`ComplexityBatch` and, for RegNet, which rows have ``num_stages`` stages.
    """
    S = space.num_stages
    raw: dict[str, np.ndarray] = {}
    if space.family == "anynet":
        for name in FAMILY_PARAMS["anynet"]:
            vals, p = space.pmf(name, dist)
            raw[name] = vals[draw_sequence(rng, p, n, S, space.order(name))]
        d = raw["depth"].astype(np.int64)
        w, g = adjust_compatibility_batch(
            raw["width"].astype(np.int64), raw["bottleneck_ratio"], raw["group_width"]
        )
        b = raw["bottleneck_ratio"]
        keep = np.ones(n, dtype=bool)
    else:
        for name in FAMILY_PARAMS["regnet"]:
            vals, p = space.pmf(name, dist)
            raw[name] = vals[draw_index(rng, p, n)]
        # cheap pre-filter on the last block alone: max(k) + 1 must equal S
        last = raw["depth"] - 1
        k_last = stage_index(last, raw["w0"], raw["wa"], raw["wm"])
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
    cx = complexity_batch(d, w, b, g, space.strides, **space.net_kwargs())
    return {"raw": raw, "d": d, "w": w, "b": b, "g": g, "cx": cx, "keep": keep}


def sample_batch(
    space: SpaceDefinition,
    n: int,
    seed: int = 0,
    bands: Mapping[str, tuple[float, float]] | None = None,
    dist: str | None = None,
    max_draws: int = 10_000_000,
) -> SampleBatch:
    """``n`` configs of ``space`` from the conditioned distribution (:meth:`Space.sample_batch`).

    Draws batches of the exactly-conditioned parameter distribution and keeps, in draw order,
    those in every band (and, for RegNet, with ``num_stages`` stages). Raises
    :class:`SpaceError` when fewer than ``n`` are found within ``max_draws`` draws.
    """
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise SpaceError(f"n must be an integer >= 0, got {n!r}")
    if dist is not None and dist not in DISTS:
        raise SpaceError(f"dist must be one of {DISTS}, got {dist!r}")
    band_list = space.bands(bands)
    rng = np.random.default_rng(seed)
    parts: list[dict[str, Any]] = []
    found, drawn, batch = 0, 0, 4096
    check_reachable(space, band_list)
    seen = {band.metric: [math.inf, -math.inf] for band in band_list}  # sampled members' range
    while found < n:
        if (
            drawn >= max_draws
            or (found == 0 and drawn >= max_draws // 10)
            or cannot_finish(found, n, drawn, max_draws)
        ):
            raise _short_error(space, band_list, found, n, drawn, max_draws, seen)
        out = draw_batch(space, rng, batch, dist)
        mask = out["keep"]
        for band in band_list:
            m = out["cx"][band.metric]
            if (members := m[out["keep"]]).size:
                seen[band.metric] = [
                    min(seen[band.metric][0], members.min()),
                    max(seen[band.metric][1], members.max()),
                ]
            mask = mask & (m >= band.lo) & (m <= band.hi)
        idx = np.flatnonzero(mask)[: n - found]
        parts.append(_take(out, idx))
        found += idx.size
        drawn += batch
        rate = max(found, 1) / drawn
        batch = int(min(65_536, max(4096, 1.3 * (n - found) / rate)))
    return assemble(space, parts, drawn)


def cannot_finish(found: int, n: int, drawn: int, max_draws: int) -> bool:
    """Whether the draws so far show that ``n`` in-band configs need over ``max_draws`` draws.

    True when even an optimistic acceptance rate, ``(found + 3 sqrt(found) + 9) / drawn`` (about
    three standard deviations above the observed one; 9/drawn when nothing was found), would
    need more than ``max_draws`` draws in all to reach ``n``. A band whose sampler would have
    succeeded is stopped only when it would have needed nearly all of ``max_draws`` anyway.
    """
    if drawn <= 0 or found >= n:
        return False
    optimistic_rate = (found + 3.0 * math.sqrt(found) + 9.0) / drawn
    return drawn + (n - found) / optimistic_rate > max_draws


def complexity_bounds(space: SpaceDefinition) -> tuple[ComplexityBatch, ComplexityBatch]:
    """Complexity of corner networks bracketing every member of ``space``: ``(low, high)``.

    Up to compatibility rounding and projection shortcuts. AnyNet: all stages at minimal depth
    and width with the largest ``b`` and smallest ``g`` (low), and all at maximal depth and
    width with the smallest ``b`` and largest ``g`` (high). RegNet: stage ``s`` has width
    ``w0 * wm^s`` (quantized) and the stages hold ``depth`` blocks in all; each bound takes
    the cheapest (dearest) way to place the blocks beyond one per stage, with the smallest
    (largest) ``w0``, ``wm`` and depth. Two one-row :class:`ComplexityBatch` objects.
    """
    vals = {p.name: space.pmf(p.name)[0] for p in space.params}
    S = space.num_stages
    b_lo, b_hi = vals["bottleneck_ratio"][0], vals["bottleneck_ratio"][-1]
    g_lo, g_hi = vals["group_width"][0], vals["group_width"][-1]
    if space.family == "anynet":
        low = _corners(space, [[vals["depth"][0]] * S], [[vals["width"][0]] * S], b_hi, g_lo)
        high = _corners(space, [[vals["depth"][-1]] * S], [[vals["width"][-1]] * S], b_lo, g_hi)
        return low, high
    w0, wa, wm, depth = vals["w0"], vals["wa"], vals["wm"], vals["depth"]
    stage = np.arange(S)
    w_lo = np.round(w0[0] * wm[0] ** stage / QUANTUM) * QUANTUM
    # block widths are w0 * wm^k <= u * sqrt(wm), u = w0 + wa * j the linear width of block j
    u_max = (w0[-1] + wa[-1] * (depth[-1] - 1)) * math.sqrt(wm[-1])
    w_hi = np.round(np.minimum(w0[-1] * wm[-1] ** stage, u_max) / QUANTUM) * QUANTUM
    w_hi = np.maximum(w_hi, w_lo)
    low = _corners(space, _depth_vertices(depth[0], S), [w_lo] * S, b_hi, g_lo, pick=np.min)
    high = _corners(space, _depth_vertices(depth[-1], S), [w_hi] * S, b_lo, g_hi, pick=np.max)
    return low, high


def _depth_vertices(total: float, num_stages: int) -> np.ndarray:
    """``(S, S)`` stage depths: one block per stage, the other ``total - S`` all in stage ``i``.

    A network's complexity is linear in its stage depths, so its extremes over the depths
    summing to ``total`` are at these vertices.
    """
    extra = max(int(total), num_stages) - num_stages
    return 1 + extra * np.eye(num_stages, dtype=np.int64)


def _corners(space: SpaceDefinition, d, w, b: float, g: int, pick=np.max) -> ComplexityBatch:
    """Complexity of corner networks (rows of ``d``, ``w``), reduced over rows by ``pick``."""
    d, w = np.asarray(d, dtype=np.int64), np.asarray(w, dtype=np.int64)
    wa, ga = adjust_compatibility_batch(w, np.full(w.shape, b), np.full(w.shape, int(g)))
    cx = complexity_batch(d, wa, b, ga, space.strides, **space.net_kwargs())
    return ComplexityBatch(*(np.array([pick(cx[m])], dtype=np.int64) for m in METRICS))


def check_reachable(space: SpaceDefinition, band_list: list[Band]) -> None:
    """Raise :class:`SpaceError` for a band far (1.5x) outside :func:`complexity_bounds`."""
    if not band_list:
        return
    lo, hi = complexity_bounds(space)
    for band in band_list:
        if band.lo > 1.5 * hi[band.metric][0] or band.hi < lo[band.metric][0] / 1.5:
            raise SpaceError(
                f"space {space.name}: no config can reach {band.text()} (members span about "
                f"{_span(lo[band.metric][0], hi[band.metric][0])} {band.metric})"
            )


def _short_error(
    space: SpaceDefinition,
    band_list: list[Band],
    found: int,
    n: int,
    drawn: int,
    max_draws: int,
    seen: dict[str, list[float]],
) -> SpaceError:
    """The one-line error of a sampler that cannot find ``n`` configs within ``max_draws``."""
    if not band_list:
        return SpaceError(
            f"space {space.name}: only {found} of {n} configs satisfy its restrictions "
            f"after {drawn} draws (restrictions too narrow)"
        )
    lo, hi = complexity_bounds(space)
    ranges = []
    for band in band_list:
        m = band.metric
        text = f"members span about {_span(lo[m][0], hi[m][0])} {m}"
        if seen[m][0] <= seen[m][1]:
            text += f", sampled ones {_span(*seen[m])}"
        ranges.append(text)
    where = "; ".join(b.text() for b in band_list)
    what = "no config" if found == 0 else f"only {found} configs"
    return SpaceError(
        f"space {space.name}: {what} in {where} among {drawn} draws; {n} would need over "
        f"{max_draws} draws (band unreachable or too narrow: {'; '.join(ranges)})"
    )


def _span(lo: float, hi: float) -> str:
    return f"{format_number(lo)} to {format_number(hi)}"


def assemble(space: SpaceDefinition, parts: list[dict[str, Any]], drawn: int) -> SampleBatch:
    """Concatenate kept rows (from :func:`draw_batch`) into a :class:`SampleBatch`.

    Each config's ``extra`` holds the space name and, for RegNet, the sampled
    ``d, w0, wa, wm, g, b``.
    """
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        raw = {name: np.zeros(0) for name in FAMILY_PARAMS[space.family]}
        return SampleBatch([], empty, empty.copy(), empty.copy(), raw, drawn)
    cat = {k: np.concatenate([p[k] for p in parts]) for k in ("d", "w", "b", "g", *METRICS)}
    raw = {k: np.concatenate([p["raw"][k] for p in parts]) for k in parts[0]["raw"]}
    kw = space.net_kwargs()
    configs = []
    for i in range(cat["d"].shape[0]):
        stages = tuple(
            StageConfig(int(d), int(w), float(b), int(g), s)
            for d, w, b, g, s in zip(
                cat["d"][i], cat["w"][i], cat["b"][i], cat["g"][i], space.strides, strict=True
            )
        )
        extra: list[tuple[str, Any]] = [("space", space.name)]
        if space.family == "regnet":
            extra += [
                ("d", int(raw["depth"][i])),
                ("w0", int(raw["w0"][i])),
                ("wa", float(raw["wa"][i])),
                ("wm", float(raw["wm"][i])),
                ("g", int(raw["group_width"][i])),
                ("b", plain_value(raw["bottleneck_ratio"][i])),
            ]
        configs.append(NetConfig(stages=stages, extra=tuple(extra), **kw))
    return SampleBatch(configs, cat["flops"], cat["params"], cat["acts"], raw, drawn)


def _take(out: Draws, idx: np.ndarray) -> dict[str, Any]:
    part = {k: out[k][idx] for k in ("d", "w", "b", "g")}
    part["raw"] = {k: v[idx] for k, v in out["raw"].items()}
    for m in METRICS:
        part[m] = out["cx"][m][idx]
    return part
