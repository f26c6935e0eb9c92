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

from collections.abc import Mapping
from typing import Any

from edftools.spaces import band_sampler, naive
from edftools.spaces.band_sampler import SampleBatch
from edftools.spaces.config import NetConfig
from edftools.spaces.definition import SpaceDefinition
from edftools.spaces.params import DISTS, FAMILY_PARAMS, ParamSpec
from edftools.spaces.restrictions import parse_band

__all__ = ["DISTS", "FAMILY_PARAMS", "ParamSpec", "SampleBatch", "Space", "parse_band"]


class Space(SpaceDefinition):
    """A design space: its definition (:class:`SpaceDefinition`: family, parameter grids,
    network settings, restrictions) and sampling from it."""

    # The sampling machinery is in edftools.spaces.band_sampler (and naive, the reference).
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
        return band_sampler.sample_batch(self, n, seed, bands, dist, max_draws)

    def complexity_bounds(self) -> tuple[Any, Any]:
        """Complexity of two corner networks bracketing every member (up to compatibility
        rounding): see :func:`edftools.spaces.band_sampler.complexity_bounds`."""
        return band_sampler.complexity_bounds(self)

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

    def sample_naive(
        self,
        n: int,
        seed: int = 0,
        bands: Mapping[str, tuple[float, float]] | None = None,
        dist: str | None = None,
        max_draws: int | None = None,
    ) -> tuple[list[NetConfig], int]:
        """Naive rejection (reference, slow): see :func:`edftools.spaces.naive.sample_naive`."""
        return naive.sample_naive(self, n, seed, bands, dist, max_draws)
