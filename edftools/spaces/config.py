"""Network configurations: one frozen dataclass describes one network.

A network is a stem, a body of stages and a head (global average pool + FC), as in pycls's
AnyNet. Each stage ``i`` has depth ``d_i`` (blocks), width ``w_i`` (output channels), bottleneck
ratio ``b_i`` (inner width ``w_i / b_i``), group width ``g_i`` (channels per group of the 3x3
conv) and a stride (applied by the first block of the stage).

Block types:
    ``X``  residual bottleneck with group conv: 1x1 -> 3x3 group (stride) -> 1x1, + shortcut.
    ``Y``  ``X`` with squeeze-excitation after the 3x3 conv; SE width = round(se_ratio * w_in),
           ``w_in`` the *block input* width.
    ``R``  ``X`` without groups (the 3x3 conv is dense: group width = inner width).
    ``V``  plain block: 3x3 conv (stride) BN ReLU, 3x3 conv BN ReLU, no shortcut.
    ``VR`` ``V`` with a residual shortcut (ReLU after the addition).

Stem types:
    ``imagenet``  3x3 conv stride 2 (+ BN, ReLU), as in AnyNet for 224x224 inputs.
    ``small``     3x3 conv stride 1 (+ BN, ReLU), for CIFAR-sized or smaller inputs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from edftools.errors import ConfigError

BLOCK_TYPES: tuple[str, ...] = ("X", "Y", "R", "V", "VR")
STEM_TYPES: tuple[str, ...] = ("imagenet", "small")
STEM_STRIDE: dict[str, int] = {"imagenet": 2, "small": 1}


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or int(value) != value:
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class StageConfig:
    """One stage: ``depth`` blocks of output width ``width``.

    The inner (bottleneck) width is ``width / bottleneck_ratio``; the 3x3 conv of a block has
    ``inner_width / group_width`` groups. ``stride`` is applied by the stage's first block.
    """

    depth: int
    width: int
    bottleneck_ratio: float = 1.0
    group_width: int = 1
    stride: int = 2

    def __post_init__(self) -> None:
        for name in ("depth", "width", "group_width", "stride"):
            object.__setattr__(self, name, _as_int(name, getattr(self, name)))
        if self.depth < 1:
            raise ConfigError(f"stage depth must be >= 1, got {self.depth}")
        if self.width < 1:
            raise ConfigError(f"stage width must be >= 1, got {self.width}")
        if not self.bottleneck_ratio > 0:
            raise ConfigError(f"bottleneck ratio must be > 0, got {self.bottleneck_ratio}")
        if self.group_width < 1:
            raise ConfigError(f"group width must be >= 1, got {self.group_width}")
        if self.stride not in (1, 2):
            raise ConfigError(f"stride must be 1 or 2, got {self.stride}")
        b = float(self.bottleneck_ratio)
        object.__setattr__(self, "bottleneck_ratio", int(b) if b.is_integer() else b)

    @property
    def inner_width(self) -> int:
        """Bottleneck width ``w_b = int(round(w / b))`` (pycls: ``round(w * bm)``, bm = 1/b)."""
        return round(self.width / self.bottleneck_ratio)


@dataclass(frozen=True)
class NetConfig:
    """A whole network: stem, stages (body) and head.

    ``se_ratio`` is used by ``Y`` blocks only (SE width = round(se_ratio * block input width)).
    Configs are hashable and JSON round-trip exactly (``NetConfig.from_dict(c.to_dict()) == c``).
    """

    stages: tuple[StageConfig, ...]
    block_type: str = "X"
    stem_type: str = "imagenet"
    stem_width: int = 32
    resolution: int = 224
    num_classes: int = 1000
    in_channels: int = 3
    se_ratio: float = 0.25
    extra: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        stages = tuple(
            s if isinstance(s, StageConfig) else StageConfig(**dict(s)) for s in self.stages
        )
        object.__setattr__(self, "stages", stages)
        if not stages:
            raise ConfigError("a network needs at least one stage")
        if self.block_type not in BLOCK_TYPES:
            raise ConfigError(f"unknown block type {self.block_type!r}; known: {BLOCK_TYPES}")
        if self.stem_type not in STEM_TYPES:
            raise ConfigError(f"unknown stem type {self.stem_type!r}; known: {STEM_TYPES}")
        for name in ("stem_width", "resolution", "num_classes", "in_channels"):
            value = _as_int(name, getattr(self, name))
            if value < 1:
                raise ConfigError(f"{name} must be >= 1, got {value}")
            object.__setattr__(self, name, value)
        if not 0 < self.se_ratio <= 1:
            raise ConfigError(f"se_ratio must be in (0, 1], got {self.se_ratio}")

    # Per-stage views -------------------------------------------------------------------------
    @property
    def depths(self) -> list[int]:
        return [s.depth for s in self.stages]

    @property
    def widths(self) -> list[int]:
        return [s.width for s in self.stages]

    @property
    def bottleneck_ratios(self) -> list[float]:
        return [s.bottleneck_ratio for s in self.stages]

    @property
    def group_widths(self) -> list[int]:
        return [s.group_width for s in self.stages]

    @property
    def strides(self) -> list[int]:
        return [s.stride for s in self.stages]

    @property
    def depth(self) -> int:
        """Total number of blocks."""
        return sum(self.depths)

    @property
    def block_widths(self) -> list[int]:
        """Per-block output widths (length ``depth``), the input of ``fit_regnet``."""
        return [s.width for s in self.stages for _ in range(s.depth)]

    # Serialization ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dict (stages as lists of dicts); ``extra`` as a dict."""
        # built field by field (dataclasses.asdict deep-copies and costs ~0.1 ms per config)
        d = {f.name: getattr(self, f.name) for f in _NET_FIELDS}
        d["stages"] = [{f.name: getattr(s, f.name) for f in _STAGE_FIELDS} for s in self.stages]
        d["extra"] = dict(self.extra)
        return d

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): equal configs give equal strings."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NetConfig:
        d = dict(d)
        try:
            stages = tuple(StageConfig(**dict(s)) for s in d.pop("stages"))
            extra = tuple(sorted(dict(d.pop("extra", {}) or {}).items()))
            return cls(stages=stages, extra=extra, **d)
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"invalid network config: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> NetConfig:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_stages(
        cls,
        depths: Sequence[int],
        widths: Sequence[int],
        bottleneck_ratios: Sequence[float] | float = 1,
        group_widths: Sequence[int] | int = 1,
        strides: Sequence[int] | int = 2,
        *,
        adjust: bool = True,
        **kwargs: Any,
    ) -> NetConfig:
        """Build a config from per-stage lists (scalars broadcast to every stage).

        With ``adjust=True`` (default) the widths and group widths pass through
        :func:`adjust_group_compatibility` first, as pycls does.
        """
        n = len(depths)
        bs = _broadcast("bottleneck_ratios", bottleneck_ratios, n)
        gs = _broadcast("group_widths", group_widths, n)
        ss = _broadcast("strides", strides, n)
        if len(widths) != n:
            raise ConfigError(f"got {n} depths but {len(widths)} widths")
        ws = list(widths)
        if adjust:
            ws, gs = adjust_group_compatibility(ws, bs, gs)
        stages = tuple(
            StageConfig(d, w, b, g, s) for d, w, b, g, s in zip(depths, ws, bs, gs, ss, strict=True)
        )
        return cls(stages=stages, **kwargs)


_NET_FIELDS = fields(NetConfig)
_STAGE_FIELDS = fields(StageConfig)


def _broadcast(name: str, value: Any, n: int) -> list[Any]:
    if isinstance(value, Iterable) and not isinstance(value, str):
        out = list(value)
        if len(out) != n:
            raise ConfigError(f"{name} has {len(out)} entries for {n} stages")
        return out
    return [value] * n


def pycls_bottleneck_multiplier(b: float) -> float:
    """pycls's bottleneck multiplier ``bm = 1 / b``; for ``b < 1`` it must be an integer.

    pycls refuses a ``BOT_MUL`` above 1 that is not an integer; so does this function
    (:class:`ConfigError`). The result is exact: ``2.0`` for ``b = 0.5``.
    """
    if not b > 0:
        raise ConfigError(f"bottleneck ratio must be > 0, got {b}")
    bm = 1.0 / b
    if bm > 1:
        k = round(bm)
        if abs(bm - k) > 1e-9:
            raise ConfigError(
                f"bottleneck ratio {b} < 1 must be 1/k for an integer k (pycls's BOT_MUL)"
            )
        return float(k)
    return bm


def adjust_group_compatibility(
    widths: Sequence[int], bottleneck_ratios: Sequence[float], group_widths: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Make widths, bottleneck ratios and group widths compatible, exactly as pycls does.

    Per stage, with ``bm = 1 / b`` (pycls's bottleneck multiplier, an integer when > 1)::

        v = max(1, int(w * bm))              # bottleneck width
        g = min(g, v)                        # a group cannot be wider than the bottleneck
        m = lcm(g, bm) if bm > 1 else g      # the bottleneck is a multiple of g, and w of ...
        v = max(m, int(round(v / m) * m))    # ... an integer: v a multiple of lcm(g, bm)
        w = int(v / bm)                      # stage width derived back

    Example: RegNetX-8.0GF's first stage has ``w = 80 < g = 120``, so ``g`` becomes 80 and
    ``w`` stays 80; ``w = 232, b = 1, g = 48`` becomes ``v = round(232 / 48) * 48 = 240``;
    ``w = 616, b = 1/2, g = 3`` gives ``v = 1232``, ``m = lcm(3, 2) = 6``, ``v = 1230``,
    ``w = 615`` (pycls's ``adjust_block_compatibility``).

    Returns the adjusted ``(widths, group_widths)``; the bottleneck ratios are unchanged.
    """
    out_w: list[int] = []
    out_g: list[int] = []
    for w, b, g in zip(widths, bottleneck_ratios, group_widths, strict=True):
        if w <= 0 or b <= 0 or g <= 0:
            raise ConfigError(f"widths, bottleneck ratios and group widths must be > 0: {w, b, g}")
        bm = pycls_bottleneck_multiplier(b)
        v = max(1, int(w * bm))
        g = int(min(g, v))
        m = math.lcm(g, int(bm)) if bm > 1 else g
        v = max(m, int(round(v / m) * m))
        out_w.append(int(v / bm))
        out_g.append(g)
    return out_w, out_g
