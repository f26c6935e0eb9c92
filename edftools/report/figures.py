"""Figures of the reports, drawn with seaborn/matplotlib on the Agg backend.

Every function takes numbers already computed (by :mod:`edftools.stats` through
:mod:`edftools.report.measure`) and returns a matplotlib ``Figure``; :func:`to_png` turns it
into PNG bytes for embedding. No global style is changed: each figure is drawn inside a
``seaborn.axes_style`` / ``rc_context`` block, and figures are plain ``Figure`` objects (no
pyplot figure manager), so nothing leaks between reports.

Any string a user supplies (space and sweep names, parameters) is drawn as plain text: the
style turns matplotlib's mathtext off (``text.parse_math``), so a ``$`` in a name is a dollar
sign, not a formula; fonts that can draw CJK and other scripts are used as fallbacks when the
machine has them, and a glyph no installed font has is drawn as a box without a warning.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, Locator, LogLocator, MaxNLocator, NullFormatter

from edftools.spaces.restrictions import format_number

DPI = 90
PALETTE = "tab10"


@dataclass(frozen=True)
class Curve:
    """One labelled line ``y(x)`` with an optional band ``[lo, hi]`` (arrays of equal length)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    steps: bool = False


@dataclass(frozen=True)
class Panel:
    """One axes worth of curves with a title and axis labels."""

    title: str
    curves: tuple[Curve, ...]
    xlabel: str = "error (%)"
    ylabel: str = "cumulative prob."
    xlim: tuple[float, float] | None = None
    markers: tuple[float, ...] = ()


#: Fonts with wide Unicode coverage (CJK, Hangul, ...), tried in order after the default font
#: for characters it lacks; only those installed on the machine are used.
FALLBACK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Microsoft YaHei",
    "SimHei",
    "Hiragino Sans",
    "Apple SD Gothic Neo",
    "Malgun Gothic",
    "Arial Unicode MS",
    "Noto Sans",
)
_MISSING_GLYPH = r"Glyph \d+ .* missing from (current )?font"


@cache
def _font_family() -> tuple[str, ...]:
    """``DejaVu Sans`` then the installed :data:`FALLBACK_FONTS` (matplotlib falls back per
    glyph along this list). Naming an absent font would log a warning per figure."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(f for f in FALLBACK_FONTS if f in installed))


@contextmanager
def _style() -> Iterator[None]:
    """The reports' style: whitegrid, small fonts, user text as plain text, font fallbacks."""
    rc = {
        "font.size": 9,
        "axes.titlesize": 10,
        "text.parse_math": False,
        "font.family": list(_font_family()),
    }
    with (
        sns.axes_style("whitegrid"),
        plt.rc_context(rc),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message=_MISSING_GLYPH, category=UserWarning)
        yield


def to_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig`` (fixed DPI, no software/date metadata, so output is reproducible).

    Drawn in the reports' style, so text created while drawing (tick labels) follows it too.
    """
    buf = io.BytesIO()
    with _style():
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _grid(
    n: int, ncols: int, width: float = 4.0, height: float = 3.2, title_lines: int = 1
) -> tuple[Figure, list]:
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    extra = 0.18 * (title_lines - 1)  # inches per additional title line
    height += extra
    # fixed margins: constrained/tight layout costs more than drawing the figure itself
    fig = Figure(figsize=(width * ncols, height * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    fig.subplots_adjust(
        left=0.7 / (width * ncols),
        right=1 - 0.15 / (width * ncols),
        bottom=0.55 / (height * nrows),
        top=1 - (0.35 + extra) / (height * nrows),
        wspace=0.3,
        hspace=0.45 + extra / 2,
    )
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _draw_curves(ax, panel: Panel, colors: dict[str, tuple]) -> None:
    for curve in panel.curves:
        color = colors[curve.label]
        if curve.lo is not None and curve.hi is not None:
            ax.fill_between(curve.x, curve.lo, curve.hi, color=color, alpha=0.2, linewidth=0)
        ax.plot(
            curve.x,
            curve.y,
            color=color,
            label=curve.label,
            drawstyle="steps-post" if curve.steps else "default",
            linewidth=1.5,
        )
    for x in panel.markers:
        ax.axvline(x, color="0.3", linestyle=":", linewidth=1.0)
    if panel.xlim is not None:
        ax.set_xlim(*panel.xlim)
    ax.set_title(panel.title)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    ax.legend(loc="best", fontsize=8, frameon=True)


#: Extra tick positions per power of the base when an axis spans too few powers to label.
_LOG_SUBS: dict[int, tuple[float, ...]] = {10: (1.0, 2.0, 5.0), 2: (1.0, 1.5)}
_MIN_TICKS = 3


def _log_locator(lo: float, hi: float, base: int) -> Locator:
    """Ticks for a log axis over ``[lo, hi]``: the powers of ``base`` when at least
    :data:`_MIN_TICKS` fall inside; else powers times :data:`_LOG_SUBS` (1, 2, 5 × 10^k); else
    (a range narrower than that) evenly spaced round numbers."""
    for subs in ((1.0,), _LOG_SUBS.get(base, (1.0,))):
        locator = LogLocator(base=base, subs=subs)
        ticks = np.asarray(locator.tick_values(lo, hi))
        if np.count_nonzero((ticks >= lo) & (ticks <= hi)) >= _MIN_TICKS:
            return locator
    return MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10])


def _log_axis(ax, base: int) -> None:
    """Log x axis (call after plotting: the ticks suit the data's range) with plain-number
    labels (2, 4, 8 or 2M, 4M), at least three of them however narrow the range."""
    ax.set_xscale("log", base=base)
    lo, hi = ax.get_xlim()
    ax.xaxis.set_major_locator(_log_locator(lo, hi, base))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_number(x)))
    ax.xaxis.set_minor_formatter(NullFormatter())


def panels_figure(panels: Sequence[Panel], ncols: int = 3, log_x: bool = False) -> Figure:
    """A grid of panels (EDFs with bands, best-of-k curves, ...), one color per label."""
    labels = list(dict.fromkeys(c.label for p in panels for c in p.curves))
    colors = dict(zip(labels, sns.color_palette(PALETTE, max(len(labels), 1)), strict=False))
    lines = max((p.title.count("\n") + 1 for p in panels), default=1)
    with _style():
        fig, axes = _grid(len(panels), ncols, title_lines=lines)
        for ax, panel in zip(axes, panels, strict=True):
            _draw_curves(ax, panel, colors)
            if log_x:
                _log_axis(ax, 2)
    return fig


def histogram_figure(
    frame: pd.DataFrame, column: str, weights: Sequence[str | None], titles: Sequence[str]
) -> Figure:
    """Histograms of ``frame[column]`` by ``space``, one panel per weights column (None = counts).

    Shows the complexity distribution before (counts) and after normalization (each model
    counted with its normalization weight, so a normalized space is flat over the bins).
    """
    with _style():
        fig, axes = _grid(len(titles), len(titles), width=4.6)
        for ax, wcol, title in zip(axes, weights, titles, strict=True):
            sns.histplot(
                data=frame,
                x=column,
                hue="space",
                weights=wcol,
                stat="probability",
                common_norm=False,
                element="step",
                bins=20,
                palette=PALETTE,
                ax=ax,
            )
            ax.set_title(title)
    return fig


def scatter_figure(frame: pd.DataFrame, columns: Sequence[str], y: str = "err") -> Figure:
    """Error against each of ``columns`` (flops, params, acts), colored by space."""
    with _style():
        fig, axes = _grid(len(columns), len(columns), width=4.2)
        for ax, col in zip(axes, columns, strict=True):
            sns.scatterplot(
                data=frame, x=col, y=y, hue="space", s=10, alpha=0.6, palette=PALETTE, ax=ax
            )
            ax.set_xlabel(col)
            ax.set_ylabel("error (%)")
            ax.set_title(f"error vs {col}")
    return fig


@dataclass(frozen=True)
class RangePanel:
    """A good-range bootstrap panel: the (value, error) pairs and the bootstrap summary."""

    title: str
    xlabel: str
    values: np.ndarray
    errors: np.ndarray
    low: float
    high: float
    median: float
    best_values: np.ndarray | None = None
    log_x: bool = False


def good_range_figure(panels: Sequence[RangePanel], ncols: int = 3) -> Figure:
    """Per panel: error vs the parameter, with the bootstrap 95% interval of the best model's
    value shaded and its median (the "most likely best value") as a dashed line."""
    with _style():
        fig, axes = _grid(len(panels), ncols)
        for ax, p in zip(axes, panels, strict=True):
            ax.scatter(p.values, p.errors, s=8, alpha=0.5, color="0.35", label="models")
            ax.axvspan(p.low, p.high, color="tab:orange", alpha=0.25, label="95% good range")
            ax.axvline(p.median, color="tab:red", linestyle="--", label=f"median {p.median:.3g}")
            if p.log_x and np.all(np.asarray(p.values) > 0):
                _log_axis(ax, 2)
            ax.set_title(p.title)
            ax.set_xlabel(p.xlabel)
            ax.set_ylabel("error (%)")
            ax.legend(loc="best", fontsize=7)
    return fig


@dataclass(frozen=True)
class TrendPanel:
    """A trend panel: parameter vs complexity for all and for the good models, with a fit."""

    title: str
    xlabel: str
    ylabel: str
    x: np.ndarray
    y: np.ndarray
    good: np.ndarray
    fit_x: np.ndarray
    fit_y: np.ndarray
    fit_lo: np.ndarray | None = None
    fit_hi: np.ndarray | None = None
    fit_label: str = "trend"


def trend_figure(panels: Sequence[TrendPanel], ncols: int = 3) -> Figure:
    """Parameter vs complexity: all models (grey), good models (colored), fitted trend + CI."""
    with _style():
        fig, axes = _grid(len(panels), ncols)
        for ax, p in zip(axes, panels, strict=True):
            good = np.asarray(p.good, dtype=bool)
            ax.scatter(p.x[~good], p.y[~good], s=6, color="0.75", label="all models")
            ax.scatter(p.x[good], p.y[good], s=10, color="tab:blue", label="good models")
            if p.fit_lo is not None and p.fit_hi is not None:
                ax.fill_between(p.fit_x, p.fit_lo, p.fit_hi, color="tab:red", alpha=0.2)
            ax.plot(p.fit_x, p.fit_y, color="tab:red", label=p.fit_label)
            if np.all(p.x > 0):
                _log_axis(ax, 10)
            ax.set_title(p.title)
            ax.set_xlabel(p.xlabel)
            ax.set_ylabel(p.ylabel)
            ax.legend(loc="best", fontsize=7)
    return fig


def efit_figure(frame: pd.DataFrame) -> Figure:
    """The e_fit analysis: EDF of e_fit per space (left), error vs e_fit (right).

    ``frame`` has columns ``space``, ``e_fit`` and ``err``.
    """
    with _style():
        fig, (left, right) = _grid(2, 2, width=4.6)
        sns.ecdfplot(data=frame, x="e_fit", hue="space", palette=PALETTE, ax=left)
        left.set_title("distribution of e_fit (mean |log ratio| of widths)")
        left.set_xlabel("e_fit")
        sns.scatterplot(
            data=frame, x="e_fit", y="err", hue="space", s=10, alpha=0.6, palette=PALETTE, ax=right
        )
        right.set_title("error vs e_fit")
        right.set_ylabel("error (%)")
    return fig


@dataclass(frozen=True)
class HistoryPanel:
    """One step of a sequential study: p-values and their levels against the models per space.

    ``p`` and ``level`` map a hypothesis label to one value per look (NaN where the step was
    not tested); ``decided_at`` is the n at which the verdict was reached (None: not yet).
    """

    title: str
    n: np.ndarray
    p: dict[str, np.ndarray]
    level: dict[str, np.ndarray]
    decided_at: float | None = None


def _power_of_ten(y: float) -> str:
    """A log-axis tick label without mathtext (which the style turns off): 1, 1e-2, 1e-4."""
    exponent = round(float(np.log10(y))) if y > 0 else 0
    return "1" if exponent == 0 else f"1e{exponent}"


def history_figure(panels: Sequence[HistoryPanel], ncols: int = 3) -> Figure:
    """Per step: each hypothesis' p-value (dots and line) and its rejection level (dashed
    steps) against n on log axes; a hypothesis is rejected at the first look where its dot
    is on or below its level. A dotted vertical line marks the n of the final verdict."""
    labels = list(dict.fromkeys(k for p in panels for k in p.p))
    colors = dict(zip(labels, sns.color_palette(PALETTE, max(len(labels), 1)), strict=False))
    lines = max((p.title.count("\n") + 1 for p in panels), default=1)
    with _style():
        fig, axes = _grid(len(panels), ncols, title_lines=lines)
        for i, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
            for label in panel.p:
                color = colors[label]
                y = np.clip(panel.p[label], 1e-8, 1.0)
                ax.plot(panel.n, y, marker="o", markersize=3, color=color, label=f"p {label}")
                lv = np.clip(panel.level[label], 1e-8, 1.0)
                ax.step(panel.n, lv, where="mid", linestyle="--", color=color, linewidth=1.0)
            if panel.decided_at is not None:
                ax.axvline(panel.decided_at, color="0.3", linestyle=":", linewidth=1.0)
            ax.set_yscale("log")
            ax.set_ylim(1e-8, 1.5)
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0,), numticks=5))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: _power_of_ten(y)))
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_title(panel.title)
            ax.set_xlabel("models per space")
            if i % ncols == 0:
                ax.set_ylabel("p-value (dashed: level)")
            ax.legend(loc="lower left", fontsize=7)
    return fig
