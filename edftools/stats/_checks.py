"""Input checks shared by the statistics functions: arrays in, clean float arrays out.

Every failure raises :class:`edftools.errors.StatsInputError` with a one-line message that
names the argument and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, get_args

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats.defaults import MarginUnit

Seed: TypeAlias = (
    int | np.integer | Sequence[int] | np.random.SeedSequence | np.random.Generator | None
)
"""What a random step takes as its seed: anything ``numpy.random.default_rng`` accepts (a
Generator is used as is)."""


def as_sample(values: Any, name: str = "errors") -> np.ndarray:
    """Return ``values`` as a non-empty 1-D float array of finite numbers, or raise."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"{name} must be numbers: {exc}") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise StatsInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise StatsInputError(f"{name} is empty: at least one model is needed")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise StatsInputError(
            f"{name} has {int(bad.sum())} NaN or infinite value(s) (first at index {first})"
        )
    return arr


def as_weights(weights: Any, n: int, name: str = "weights") -> np.ndarray | None:
    """Return ``weights`` as a 1-D float array of length ``n`` (finite, ≥ 0, positive sum).

    ``None`` stays ``None`` (equal weights).
    """
    if weights is None:
        return None
    w = as_sample(weights, name)
    if w.size != n:
        raise StatsInputError(f"{name} has length {w.size} but there are {n} errors")
    if (w < 0).any():
        first = int(np.flatnonzero(w < 0)[0])
        raise StatsInputError(
            f"{name} must be non-negative: {int((w < 0).sum())} negative (first at index {first})"
        )
    if not w.sum() > 0:
        raise StatsInputError(f"{name} sum to zero: no model carries any mass")
    return w


def sample_and_weights(
    errors: Any, weights: Any, name: str = "errors", wname: str = "weights"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Check a sample and its optional weights; drop models with weight 0.

    Returns ``(errors, weights)`` where ``weights`` is ``None`` when all remaining weights are
    equal (the unweighted case), else the positive weights scaled to sum to 1.
    """
    e = as_sample(errors, name)
    w = as_weights(weights, e.size, wname)
    if w is None:
        return e, None
    keep = w > 0
    e, w = e[keep], w[keep]
    if np.all(w == w[0]):
        return e, None
    return e, w / w.sum()


def check_level(level: float, name: str = "level") -> float:
    """Return ``level`` as a float strictly between 0 and 1, or raise."""
    try:
        lv = float(level)
    except (TypeError, ValueError):
        raise StatsInputError(f"{name} must be a number in (0, 1), got {level!r}") from None
    if not 0.0 < lv < 1.0:
        raise StatsInputError(f"{name} must be in (0, 1), got {level!r}")
    return lv


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int ≥ ``minimum``, or raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise StatsInputError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise StatsInputError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_margin_unit(unit: object) -> MarginUnit:
    """``unit`` as a margin unit ("pp" or "edf"), or a StatsInputError."""
    allowed = get_args(MarginUnit)
    for value in allowed:
        if unit == value:
            return value
    raise StatsInputError(f"margin unit must be {' or '.join(map(repr, allowed))}, got {unit!r}")


def make_rng(seed: Seed) -> np.random.Generator:
    """A numpy Generator from an int seed, a SeedSequence or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"seed must be an integer or a numpy Generator: {exc}") from None
