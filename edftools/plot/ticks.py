"""Ticks and number formats of edftools' figures: log axes labelled as plain numbers with at
least three ticks however narrow the range, one complexity format (250K, 1.5M, 4G) on every
axis, no minor ticks (the style draws neither minor marks nor a minor grid), and ticks made
only inside each axis' view."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FixedFormatter,
    FixedLocator,
    FuncFormatter,
    Locator,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    NullLocator,
)

from edftools.measures import format_number


class InViewLocator(Locator):
    """``base``'s ticks within the axis' view only. Matplotlib creates a tick (its marks,
    grid line and labels) for every location the locator gives, the one or two beyond each
    end of the axis too, though it draws only those inside: a fifth of a report's ticks."""

    def __init__(self, base: Locator) -> None:
        self.base = base

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.base.set_axis(axis)

    def __call__(self) -> Any:
        lo, hi = sorted(float(v) for v in self.axis.get_view_interval())  # type: ignore[union-attr]
        locs = np.asarray(self.base())
        eps = 1e-10 * max(hi - lo, 1e-300)
        return locs[(locs >= lo - eps) & (locs <= hi + eps)]

    def tick_values(self, vmin: float, vmax: float) -> Any:
        return self.base.tick_values(vmin, vmax)

    def view_limits(self, vmin: float, vmax: float) -> Any:
        return self.base.view_limits(vmin, vmax)


def ticks_in_view(fig: Figure) -> None:
    """Give each axis of ``fig`` whose ticks come from a computed locator (not fixed
    positions, whose labels go by index) an :class:`InViewLocator`: the same pixels, fewer
    ticks to make and lay out."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            locator = axis.get_major_locator()
            if isinstance(locator, MaxNLocator | LogLocator):
                axis.set_major_locator(InViewLocator(locator))


@contextmanager
def fixed_ticks(fig: Figure) -> Iterator[None]:
    """Inside the block, each axis with an :class:`InViewLocator` has its current major ticks
    and labels fixed (``FixedLocator``, ``FixedFormatter`` with the offset text): for drawing a
    figure its layout has sized, whose drawing computes every axis' ticks three times (tick
    labels, axis label position, draw). The same ticks, labels and pixels; the locators,
    formatters (and their default flags) are restored after."""
    saved = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            locator, formatter = axis.get_major_locator(), axis.get_major_formatter()
            if not isinstance(locator, InViewLocator):
                continue
            locs: Any = axis.get_majorticklocs()  # an array, as matplotlib passes it
            labels = formatter.format_ticks(locs)
            fixed = FixedFormatter(labels)
            fixed.set_offset_string(formatter.get_offset())
            saved.append((axis, locator, formatter, axis.isDefault_majloc, axis.isDefault_majfmt))
            axis.set_major_locator(FixedLocator(locs))
            axis.set_major_formatter(fixed)
    try:
        yield
    finally:
        for axis, locator, formatter, default_locator, default_formatter in saved:
            axis.set_major_locator(locator)
            axis.set_major_formatter(formatter)
            axis.isDefault_majloc, axis.isDefault_majfmt = default_locator, default_formatter


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


def log_axis(ax: Axes, base: int, axis: str = "x") -> None:
    """Log x axis (call after plotting: the ticks suit the data's range) with plain-number
    labels (2, 4, 8 or 2M, 4M), at least three of them however narrow the range."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    if axis == "x":
        ax.set_xscale("log", base=base)
        lo, hi = ax.get_xlim()
    else:
        ax.set_yscale("log", base=base)
        lo, hi = ax.get_ylim()
    target.set_major_locator(_log_locator(lo, hi, base))
    target.set_major_formatter(FuncFormatter(lambda x, _pos: format_number(x)))
    no_minor_ticks(target)


def no_minor_ticks(axis: Any) -> None:
    """No minor ticks nor labels on ``axis`` (an ``XAxis``/``YAxis``): the style draws neither
    tick marks nor a minor grid, so they are invisible, and not computing them saves the
    layout of their labels at every draw (a log axis has 8 per decade)."""
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


#: Number format of every complexity axis and label: 250K, 1.5M, 4G (``format_number``).
def complexity_formatter() -> FuncFormatter:
    """Tick labels in the one complexity format (250K, 1.5M, 4G)."""
    return FuncFormatter(lambda x, _pos: format_number(x))


def complexity_axis(ax: Axes, axis: str = "x") -> None:
    """Label a linear complexity axis's ticks as 250K, 1.5M (never 250000 or 1e6 offsets)."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(complexity_formatter())
