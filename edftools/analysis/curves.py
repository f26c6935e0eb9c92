"""The numbers behind the figures: EDF bands on a common grid, where two EDFs cross, the error
range that decides, good ranges of parameters and their trends with complexity, e_fit.

Computed here, once, so that every front end shows the same numbers: the HTML reports and
``edftools.plot`` draw them, ``--json`` and ``to_dict()`` carry them. Each function is a pure
function of its samples and seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from edftools.analysis import samples as measure
from edftools.analysis.runs import growth, stage_matrix
from edftools.errors import EdftoolsError
from edftools.stats import EDFBand, GoodRangeResult, TrendResult

#: Error axes show the region that decides: up to this quantile of the reference (parent) space's
#: errors; the models beyond it (the tail of failed or diverged models) are counted in a note.
DECISION_QUANTILE = 0.95
#: Models per space whose e_fit is computed (a seeded subsample: the fit is a grid search).
EFIT_MAX_PER_SPACE = 60
EFIT_SPACES: tuple[str, ...] = ("AnyNetX_C", "AnyNetX_D", "AnyNetX_E")
#: A trend is fitted among the good models: error ≤ this quantile of the space's errors.
TREND_TOP = 0.25


@dataclass(frozen=True, eq=False)
class Bands:
    """Each space's EDF (normalized when ``normalized``) with its pointwise 95% bootstrap band
    on one common error ``grid``."""

    grid: np.ndarray = field(repr=False)
    names: tuple[str, ...]
    bands: tuple[EDFBand, ...] = field(repr=False)
    normalized: bool

    def of(self, name: str) -> EDFBand:
        """The band of space ``name``."""
        return self.bands[self.names.index(name)]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the grid and, per space, estimate/lower/upper on it."""
        return {
            "normalized": self.normalized,
            "grid": _floats(self.grid),
            "spaces": {
                n: {
                    "estimate": _floats(b.estimate),
                    "lower": _floats(b.lower),
                    "upper": _floats(b.upper),
                }
                for n, b in zip(self.names, self.bands, strict=True)
            },
        }


def edf_bands(
    samples: Sequence[measure.SpaceSample], seed: int, key: int = 0, normalized: bool = True
) -> Bands:
    """Pointwise 95% bootstrap bands of every sample's EDF on a common grid (normalization
    weights recomputed in every resample); sample i draws from SeedSequence([seed, 3, i])
    (``key`` > 0 adds itself: [seed, 3, key, i], for a second set such as raw EDFs)."""
    grid = measure.error_grid(samples)
    bands = []
    for i, s in enumerate(samples):
        entropy = [seed, 3, i] if key == 0 else [seed, 3, key, i]
        bands.append(measure.band(s, grid, np.random.SeedSequence(entropy), normalized))
    is_norm = normalized and any(s.rule is not None for s in samples)
    return Bands(grid, tuple(s.name for s in samples), tuple(bands), is_norm)


def crossings(grid: np.ndarray, parent: np.ndarray, restricted: np.ndarray) -> tuple[float, ...]:
    """The grid errors where two EDFs on ``grid`` change order (strict sign changes of
    F_R − F_P, touching points skipped)."""
    sign = np.sign(np.asarray(restricted) - np.asarray(parent))
    flips = np.flatnonzero((sign[1:] != sign[:-1]) & (sign[1:] != 0) & (sign[:-1] != 0))
    return tuple(float(grid[k + 1]) for k in flips)


@dataclass(frozen=True)
class ErrorWindow:
    """The error axis that decides: [low, high] with high = the reference space's
    :data:`DECISION_QUANTILE` quantile; ``beyond`` models (of the spaces shown) lie above it."""

    low: float
    high: float
    beyond: int
    total: int

    def note(self) -> str:
        """E.g. ``12 of 400 models above 81.3% not shown``."""
        if not self.beyond:
            return ""
        return f"{self.beyond} of {self.total} models above {self.high:.3g}% not shown"


def error_window(reference: np.ndarray, shown: Sequence[np.ndarray]) -> ErrorWindow:
    """The window up to the ``reference`` errors' :data:`DECISION_QUANTILE` quantile (the
    parent's, for a step), counting the models of ``shown`` beyond it."""
    ref = np.asarray(reference, dtype=float)
    pooled = np.concatenate([np.asarray(s, dtype=float) for s in shown])
    lo = float(pooled.min())
    hi = float(np.quantile(ref, DECISION_QUANTILE))
    if not hi > lo:
        hi = float(pooled.max()) if pooled.max() > lo else lo + 1.0
    return ErrorWindow(lo, hi, int(np.count_nonzero(pooled > hi)), int(pooled.size))


@dataclass(frozen=True, eq=False)
class GoodRange:
    """A parameter's good range in one space: the (value, error) pairs and the DDS empirical
    bootstrap of the best model's value (``result``: 95% interval and median)."""

    space: str
    parameter: str
    label: str
    values: np.ndarray = field(repr=False)
    errors: np.ndarray = field(repr=False)
    result: GoodRangeResult = field(repr=False)
    log_x: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (the pairs and the interval)."""
        r = self.result
        return {
            "space": self.space,
            "parameter": self.parameter,
            "label": self.label,
            "low": float(r.low),
            "high": float(r.high),
            "median": float(r.median),
            "level": float(r.level),
            "values": _floats(self.values),
            "errors": _floats(self.errors),
        }


def good_range_of(
    space: str, parameter: str, label: str, values: np.ndarray, errors: np.ndarray, log_x: bool
) -> GoodRange | None:
    """The good range of ``values`` (finite ones; None below 4 models or when constant)."""
    v = np.asarray(values, dtype=float)
    e = np.asarray(errors, dtype=float)
    ok = np.isfinite(v) & np.isfinite(e)
    if ok.sum() < 4 or np.ptp(v[ok]) == 0:
        return None
    res = measure.good_range(v[ok], e[ok])
    return GoodRange(space, parameter, label, v[ok], e[ok], res, log_x and bool(np.all(v[ok] > 0)))


@dataclass(frozen=True, eq=False)
class Trend:
    """A parameter against complexity in one space: every model, the good ones (error ≤ the
    space's :data:`TREND_TOP` quantile) and the OLS line y = β0 + β1·log x among them."""

    space: str
    parameter: str
    complexity: str
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    good: np.ndarray = field(repr=False)
    result: TrendResult = field(repr=False)

    def fit(self, points: int = 50) -> tuple[np.ndarray, np.ndarray]:
        """The fitted line on a log-spaced grid over the models' complexity."""
        fx = np.geomspace(float(self.x.min()), float(self.x.max()), points)
        return fx, np.asarray(self.result.predict(fx), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the slope with its CI, the points and which are good."""
        slope = self.result.ols.slope
        return {
            "space": self.space,
            "parameter": self.parameter,
            "complexity": self.complexity,
            "slope": float(slope.value),
            "slope_low": float(slope.low),
            "slope_high": float(slope.high),
            "x": _floats(self.x),
            "y": _floats(self.y),
            "good": [bool(g) for g in self.good],
        }


def trend_of(
    space: str, parameter: str, complexity: str, x: np.ndarray, y: np.ndarray, errors: np.ndarray
) -> Trend:
    """The trend of ``y`` against ``x`` > 0 among the good models; raises
    :class:`EdftoolsError` when there are too few distinct good models for a line."""
    ok = np.isfinite(x) & (x > 0) & np.isfinite(y) & np.isfinite(errors)
    xs, ys, es = x[ok], y[ok], errors[ok]
    if xs.size < 4:
        raise EdftoolsError("fewer than 4 models with a positive complexity")
    res = measure.trend(xs, ys, es, top=TREND_TOP)
    good = es <= np.quantile(es, TREND_TOP, method="inverted_cdf")
    return Trend(space, parameter, complexity, xs, ys, good, res)


#: Parameter names accepted by ``compare --params`` that are not plain columns.
PARAM_ALIASES: dict[str, str] = {"d": "depth"}


def param_values(frame: pd.DataFrame, name: str) -> np.ndarray:
    """The values of parameter ``name`` (``d`` = total depth, else a runs column)."""
    from edftools.errors import StoreError

    column = PARAM_ALIASES.get(name, name)
    if column not in frame.columns:
        raise StoreError(f"unknown parameter {name!r}: the runs have no column {column!r}")
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


@dataclass(frozen=True)
class TiedParameter:
    """The parameter a restriction ties, and in which space its good range is shown."""

    label: str
    values: Callable[[pd.DataFrame], np.ndarray]
    in_parent: bool
    log_x: bool = False


def _column(name: str) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda f: pd.to_numeric(f[name], errors="coerce").to_numpy(dtype=float)


#: B ties b (shown in B: which shared b is best), C ties g, D and E impose width and depth
#: growth (shown in the parent, where growth is free: do the best models grow?), RegNet: wm.
TIED: dict[str, TiedParameter] = {
    "AnyNetX_B": TiedParameter("shared bottleneck ratio b", _column("b1"), False, True),
    "AnyNetX_C": TiedParameter("shared group width g", _column("g1"), False, True),
    "AnyNetX_D": TiedParameter(
        "width growth (w_last/w_1)^(1/(K-1))", lambda f: growth(f, "w"), True
    ),
    "AnyNetX_E": TiedParameter(
        "depth growth (d_last/d_1)^(1/(K-1))", lambda f: growth(f, "d"), True
    ),
    "RegNetX": TiedParameter("width multiplier wm", _column("wm"), False),
}


def tied_ranges(frame: pd.DataFrame, steps: Sequence[tuple[str, str]]) -> list[GoodRange]:
    """The good range of each step's tied parameter (:data:`TIED`), in the restricted space or,
    for growth, in the parent where it is free."""
    out = []
    for parent, restricted in steps:
        tied = TIED.get(restricted)
        if tied is None:
            continue
        space = parent if tied.in_parent else restricted
        part = frame[frame["space"] == space]
        try:
            values = tied.values(part) if len(part) else np.zeros(0)
        except KeyError:  # the runs have no such column (a researcher's own frame)
            continue
        item = good_range_of(
            space, restricted, tied.label, values, part["err"].to_numpy(dtype=float), tied.log_x
        )
        if item is not None:
            out.append(item)
    return out


def efit_frame(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """e_fit (``spaces.fit_regnet_batch`` on the per-block widths) of up to
    :data:`EFIT_MAX_PER_SPACE` seeded-random models of each AnyNetX_C/D/E space present."""
    from edftools.spaces.regnet_fit import fit_regnet_batch

    labels, blocks, errors = [], [], []
    rng = np.random.default_rng(np.random.SeedSequence([seed, 5]))
    for space in EFIT_SPACES:
        part = frame[frame["space"] == space]
        if part.empty:
            continue
        if len(part) > EFIT_MAX_PER_SPACE:
            part = part.iloc[np.sort(rng.choice(len(part), EFIT_MAX_PER_SPACE, replace=False))]
        depths, widths = stage_matrix(part, "d"), stage_matrix(part, "w")
        if depths.shape[1] == 0 or widths.shape[1] == 0:
            continue
        for d, w, err in zip(depths, widths, part["err"], strict=True):
            keep = np.isfinite(d) & np.isfinite(w)
            per_block = np.repeat(w[keep], d[keep].astype(int))
            if per_block.size:
                labels.append(space)
                blocks.append(per_block)
                errors.append(err)
    fits = fit_regnet_batch(blocks) if blocks else []
    return pd.DataFrame(
        {"space": labels, "e_fit": [f.e_fit for f in fits], "err": errors},
        columns=["space", "e_fit", "err"],
    )


def _floats(values: Any) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=float)]
