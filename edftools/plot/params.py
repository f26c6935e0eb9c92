"""Parameter figures: good ranges, trends with complexity, e_fit, complexity histograms and
error against complexity. ``ax=`` in, Axes out (a set of panels returns its Figure).

Error axes show the region that decides: up to the 95th percentile of the errors shown, the
models beyond (failed or diverged runs) counted in a note; complexity axes read 250K, 1.5M.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from edftools.analysis import curves
from edftools.analysis.library import long_form
from edftools.errors import StatsInputError
from edftools.plot.style import grid, new_axes, palette, style
from edftools.plot.text import legend_outside, set_title, side_note
from edftools.plot.ticks import complexity_axis, log_axis

ERROR_LABEL = "error (%)"


def limit_errors(ax: Axes, errors: np.ndarray) -> None:
    """Limit the y (error) axis to the errors' :data:`curves.DECISION_QUANTILE` quantile, the
    models above it counted in a note beside the axes (not on the best models, lower right)."""
    e = np.asarray(errors, dtype=float)
    e = e[np.isfinite(e)]
    if e.size == 0:
        return
    window = curves.error_window(e, [e])
    pad = 0.03 * (window.high - window.low)
    ax.set_ylim(window.low - pad, window.high + pad)
    if window.beyond:
        side_note(ax, f"{window.beyond} of {window.total} models above {window.high:.3g}%")


def draw_good_range(ax: Axes, item: curves.GoodRange) -> Axes:
    """One good range: the models, the 95% interval of the best model's value (shaded) and
    its median (dashed)."""
    r = item.result
    ax.scatter(item.values, item.errors, s=8, alpha=0.5, color="0.35", label="models")
    ax.axvspan(r.low, r.high, color="tab:orange", alpha=0.25, label="95% good range")
    ax.axvline(r.median, color="tab:red", linestyle="--", label=f"median {r.median:.3g}")
    if item.log_x:
        log_axis(ax, 2)
    limit_errors(ax, item.errors)
    set_title(ax, f"{item.space}: {item.label}")
    ax.set_xlabel(item.label, parse_math=False)
    ax.set_ylabel(ERROR_LABEL)
    legend_outside(ax)
    return ax


def good_range(
    data: Any = None,
    x: Any = None,
    *,
    error: Any = "error",
    space: str = "space",
    hue: str | None = None,
    label: str | None = None,
    log_x: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """The good range of a parameter: DDS's empirical bootstrap of the best model's value
    (draw 25% of the (value, error) pairs with replacement, keep the value of the lowest error;
    computed from its exact law), 95% interval shaded, median dashed.

    ``data``: a :class:`~edftools.analysis.curves.GoodRange` (from a result's
    ``good_ranges``), or long-form runs with ``x`` the parameter's column (one space: the
    data's only one). Returns the Axes.
    """
    ax = new_axes(ax)
    if isinstance(data, curves.GoodRange):
        item: curves.GoodRange | None = data
    else:
        if not isinstance(x, str):
            raise StatsInputError("good_range needs x=, the parameter's column in data")
        frame, error_col, _ = long_form(data, error, None, hue or space)
        names = frame["space"].unique()
        name = str(names[0]) if len(names) == 1 else "all spaces"
        values = pd.to_numeric(frame[x], errors="coerce").to_numpy(dtype=float)
        errors = pd.to_numeric(frame[error_col], errors="coerce").to_numpy(dtype=float)
        item = curves.good_range_of(name, x, label or x, values, errors, log_x)
    if item is None:
        raise StatsInputError(f"{x!r}: fewer than 4 models or a constant value")
    with style():
        draw_good_range(ax, item)
    return ax


def draw_trend(ax: Axes, item: curves.Trend) -> Axes:
    """One trend: all models (grey), good models (blue), the OLS line on log complexity."""
    good = np.asarray(item.good, dtype=bool)
    ax.scatter(item.x[~good], item.y[~good], s=6, color="0.75", label="all models")
    ax.scatter(item.x[good], item.y[good], s=10, color="tab:blue", label="good models")
    fx, fy = item.fit()
    slope = item.result.ols.slope
    ax.plot(fx, fy, color="tab:red", label=f"OLS slope {slope.value:.3g}")
    log_axis(ax, 10)
    set_title(
        ax,
        f"{item.space}: {item.parameter} vs {item.complexity} (slope {slope.value:.3g} "
        f"[{slope.low:.3g}, {slope.high:.3g}])",
    )
    ax.set_xlabel(f"{item.complexity} (log scale)")
    ax.set_ylabel(item.parameter, parse_math=False)
    legend_outside(ax)
    return ax


def trend(
    data: Any = None,
    x: Any = None,
    y: Any = None,
    *,
    error: Any = "error",
    space: str = "space",
    hue: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A parameter ``y`` against complexity ``x``: all models, the good ones (error ≤ the 25%
    quantile) and the OLS fit y = β0 + β1·log x among them, with the slope's 95% CI.

    ``data``: a :class:`~edftools.analysis.curves.Trend` (from a comparison's ``trends``), or
    long-form runs with ``x`` and ``y`` column names. Returns the Axes.
    """
    ax = new_axes(ax)
    if isinstance(data, curves.Trend):
        item = data
    else:
        if not (isinstance(x, str) and isinstance(y, str)):
            raise StatsInputError("trend needs x= (complexity) and y= (parameter) columns of data")
        frame, error_col, _ = long_form(data, error, None, hue or space)
        names = frame["space"].unique()
        name = str(names[0]) if len(names) == 1 else "all spaces"

        def col(c: str) -> np.ndarray:
            return pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)

        item = curves.trend_of(name, y, x, col(x), col(y), col(error_col))
    with style():
        draw_trend(ax, item)
    return ax


def panels(items: Sequence[Any], ncols: int = 3) -> Figure:
    """A grid of good-range or trend panels (one per item)."""
    with style():
        fig, axes = grid(len(items), ncols)
        for ax, item in zip(axes, items, strict=True):
            if isinstance(item, curves.Trend):
                draw_trend(ax, item)
            else:
                draw_good_range(ax, item)
    return fig


def _by_space(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame, Any]]:
    """``(space, its rows, its color)`` in the order the spaces first appear (seaborn's
    ``hue`` order), colored with :func:`~edftools.plot.style.palette`."""
    names = [str(n) for n in pd.unique(frame["space"])]
    colors = palette(names)
    return [(n, frame[frame["space"].astype(str) == n], colors[n]) for n in names]


def _scatter_by_space(ax: Axes, frame: pd.DataFrame, x: str, y: str) -> None:
    """``y`` against ``x``, one color per space (points of 10 pt², alpha 0.6)."""
    for name, part, color in _by_space(frame):
        ax.scatter(part[x], part[y], s=10, alpha=0.6, color=color, label=name, linewidths=0)
    ax.set_xlabel(x, parse_math=False)
    ax.set_ylabel(y, parse_math=False)


def efit(frame: pd.DataFrame) -> Figure:
    """The e_fit analysis: EDF of e_fit per space (left), error vs e_fit (right). ``frame``
    has columns ``space``, ``e_fit`` and ``err``."""
    with style():
        fig, (left, right) = grid(2, 2)
        for name, part, color in _by_space(frame):
            left.ecdf(part["e_fit"].to_numpy(dtype=float), color=color, label=name)
        set_title(left, "distribution of e_fit (mean |log ratio| of widths)")
        left.set_xlabel("e_fit")
        left.set_ylabel("proportion")
        _scatter_by_space(right, frame, "e_fit", "err")
        limit_errors(right, frame["err"].to_numpy(dtype=float))
        set_title(right, "error vs e_fit")
        right.set_ylabel(ERROR_LABEL)
        for ax in (left, right):
            legend_outside(ax, title="space")
    return fig


def complexity_histograms(
    frame: pd.DataFrame, column: str, weights: Sequence[str | None], titles: Sequence[str]
) -> Figure:
    """Histograms of ``frame[column]`` by ``space``, one panel per weights column (None =
    counts): the complexity distribution before and after normalization. Each space's bars
    sum to 1 (its share of models or of weight per bin), over 20 bins common to all spaces."""
    edges = np.histogram_bin_edges(frame[column].to_numpy(dtype=float), bins=20)
    with style():
        fig, axes = grid(len(titles), len(titles))
        for ax, wcol, title in zip(axes, weights, titles, strict=True):
            for name, part, color in _by_space(frame):
                w = None if wcol is None else part[wcol].to_numpy(dtype=float)
                counts, _ = np.histogram(part[column].to_numpy(dtype=float), edges, weights=w)
                total = counts.sum()
                share = counts / total if total > 0 else counts
                ax.stairs(share, edges, fill=True, alpha=0.25, color=color)
                ax.stairs(share, edges, color=color, label=name)
            complexity_axis(ax)
            ax.set_xlabel(column, parse_math=False)
            ax.set_ylabel("probability")
            set_title(ax, title)
            legend_outside(ax, title="space")
    return fig


def error_scatter(frame: pd.DataFrame, columns: Sequence[str], y: str = "err") -> Figure:
    """Error against each of ``columns`` (flops, params, acts), colored by space, the error axis
    up to its 95th percentile."""
    with style():
        fig, axes = grid(len(columns), len(columns))
        for ax, col in zip(axes, columns, strict=True):
            _scatter_by_space(ax, frame, col, y)
            complexity_axis(ax)
            limit_errors(ax, frame[y].to_numpy(dtype=float))
            ax.set_xlabel(col)
            ax.set_ylabel(ERROR_LABEL)
            set_title(ax, f"error vs {col}")
            legend_outside(ax, title="space")
    return fig
