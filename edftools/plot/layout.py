"""The reports' grid layout: panels of one grid placed so that every title, label, note and
legend fits, measured in one pass.

Matplotlib's constrained layout measures every decoration of every panel twice (it runs its
algorithm twice so that tick labels that change with the panel's size settle); on the reports'
grids that was a third of a figure's cost. :class:`GridLayout` measures each panel's
decorations once (``get_tightbbox``: tick labels, axis labels, title, legend beside it, notes),
with the panels already near their final size, and solves the grid in closed form: per column
the widest left and right decorations, per row the tallest top and bottom ones, the panels
equally wide and equally tall in what is left, a figure legend (``fig.legend``) in a column of
its own on the right. A panel that cannot fit (decorations wider than the figure) is left to
constrained layout.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine, LayoutEngine
from matplotlib.spines import Spine
from matplotlib.ticker import NullLocator

#: Space kept around each panel's decorations and at the figure's edges, in inches
#: (constrained layout's default ``w_pad``/``h_pad``, 3 points).
PAD_IN = 3.0 / 72.0
#: Extra room kept for decorations that grow once the panels have their final size (a tick
#: label that becomes wider), in inches.
SLACK_IN = 2.0 / 72.0


class GridLayout(LayoutEngine):
    """Lay out a figure whose visible axes are the panels of one grid (``Figure.subplots``)."""

    _adjust_compatible = False
    _colorbar_gridspec = False

    def execute(self, fig: Any) -> None:
        """Place the panels (falls back to constrained layout for any other figure)."""
        if not lay_out_grid(fig):
            ConstrainedLayoutEngine().execute(fig)


def _panels(fig: Figure) -> list[tuple[Axes, int, int]] | None:
    """``(axes, row, column)`` of each visible panel, or None when the figure is not one grid
    of single-cell panels."""
    out: list[tuple[Axes, int, int]] = []
    grids = set()
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if spec is None:
            return None
        grids.add(id(spec.get_gridspec()))
        if not ax.get_visible():
            continue
        if (
            spec.rowspan.stop - spec.rowspan.start != 1
            or spec.colspan.stop - spec.colspan.start != 1
        ):
            return None
        out.append((ax, spec.rowspan.start, spec.colspan.start))
    return out if out and len(grids) == 1 else None


def _on_the_box(spine: Spine) -> bool:
    """Whether ``spine`` lies on its axes' box with no tick marks beside it: its extent is
    then within the axes' own, which ``get_tightbbox`` measures anyway (measuring the spine
    computes its axis' ticks, a fifth of the panel's measurement)."""
    axis = spine.axis
    if spine.get_position() != ("outward", 0.0) or spine.spine_type not in _TICK_LINE:
        return False
    if axis is None:
        return True
    line = _TICK_LINE[spine.spine_type]
    ticks = [axis.majorTicks[0]]
    if not isinstance(axis.get_minor_locator(), NullLocator):
        ticks.append(axis.minorTicks[0])
    return not any(getattr(tick, line).get_visible() for tick in ticks)


#: The tick line drawn beside each spine of a rectilinear Axes (``Tick.tick1line`` on the
#: left and bottom, ``tick2line`` on the right and top).
_TICK_LINE = {"left": "tick1line", "bottom": "tick1line", "right": "tick2line", "top": "tick2line"}


def _tightbbox(ax: Axes, renderer: Any) -> Any:
    """``ax.get_tightbbox`` for the layout, without measuring the spines that lie on the
    axes' box (:func:`_on_the_box`): the same box."""
    skipped = [s for s in ax.spines.values() if s.get_in_layout() and _on_the_box(s)]
    for spine in skipped:
        spine.set_in_layout(False)
    try:
        return ax.get_tightbbox(renderer, for_layout_only=True)
    finally:
        for spine in skipped:
            spine.set_in_layout(True)


def lay_out_grid(fig: Figure) -> bool:
    """Place ``fig``'s panels; False (nothing changed) when it is not a grid this can lay out."""
    panels = _panels(fig)
    if panels is None:
        return False
    spec = panels[0][0].get_subplotspec()
    assert spec is not None  # _panels keeps subplots only
    nrows, ncols = spec.get_gridspec().get_geometry()
    renderer = fig._get_renderer()  # type: ignore[attr-defined]
    dpi = fig.dpi
    width_in, height_in = (float(v) for v in fig.get_size_inches())
    legend_in = 0.0
    for legend in fig.legends:
        legend_in = max(legend_in, legend.get_window_extent(renderer).width / dpi)
    legend_in += PAD_IN if legend_in else 0.0
    left, right = [0.0] * ncols, [0.0] * ncols
    top, bottom = [0.0] * nrows, [0.0] * nrows
    for ax, row, col in panels:
        box = ax.get_position(original=True).transformed(fig.transFigure)
        tight = _tightbbox(ax, renderer)
        if tight is None:
            continue
        left[col] = max(left[col], (box.x0 - tight.x0) / dpi)
        right[col] = max(right[col], (tight.x1 - box.x1) / dpi)
        bottom[row] = max(bottom[row], (box.y0 - tight.y0) / dpi)
        top[row] = max(top[row], (tight.y1 - box.y1) / dpi)
    edge = PAD_IN + SLACK_IN
    panel_w = (width_in - legend_in - sum(left) - sum(right) - 2 * edge * ncols) / ncols
    panel_h = (height_in - sum(top) - sum(bottom) - 2 * edge * nrows) / nrows
    if panel_w <= 0.2 or panel_h <= 0.2:  # decorations larger than the figure
        return False
    x0s, x = [], 0.0
    for col in range(ncols):
        x += edge + left[col]
        x0s.append(x)
        x += panel_w + right[col] + edge
    y1s, y = [], height_in
    for row in range(nrows):
        y -= edge + top[row]
        y1s.append(y)
        y -= panel_h + bottom[row] + edge
    for ax, row, col in panels:
        ax._set_position(  # type: ignore[attr-defined]  # as constrained layout places them
            [
                x0s[col] / width_in,
                (y1s[row] - panel_h) / height_in,
                panel_w / width_in,
                panel_h / height_in,
            ],
            which="both",
        )
    for legend in fig.legends:  # the figure legend at the top right, beside the panels
        legend.set_loc("upper right")
        legend.set_bbox_to_anchor(
            (1.0 - PAD_IN / width_in, 1.0 - PAD_IN / height_in), transform=fig.transFigure
        )
        legend.borderaxespad = 0.0
    return True
