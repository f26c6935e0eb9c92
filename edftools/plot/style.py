"""The style of edftools' figures: seaborn's whitegrid look, the verdicts' colours, panel
grids, PNG output (text fitted to the figure — fonts, wrapped titles, legends outside the
data, notes — lives in :mod:`edftools.plot.text`).

No global style is changed: figures are drawn inside :func:`style` (an ``rc_context`` block
with seaborn's "whitegrid" values, :data:`WHITEGRID`, without importing seaborn: it imports
``scipy.stats``, a second of start-up), and report figures are plain ``Figure`` objects (no
pyplot figure manager), so nothing leaks between reports or into a notebook. Minor ticks are
neither drawn nor gridded in this style, so a log axis without minor labels has no minor
locator (:func:`edftools.plot.ticks.log_axis`; ticks and number formats live in
:mod:`edftools.plot.ticks`): the same pixels, without laying out some 70 invisible minor tick
labels per panel of a log axis over eight decades.

Any string a user supplies (space and sweep names, parameters) is drawn as plain text: the
style turns matplotlib's mathtext off (``text.parse_math``), so a ``$`` in a name is a dollar
sign, not a formula; fonts that can draw CJK and other scripts are used as fallbacks when the
machine has them (:func:`edftools.plot.text.font_family`), and a glyph no installed font has
is drawn as a box without a warning.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from edftools.plot.layout import GridLayout
from edftools.plot.text import LEGEND_WIDTH, MISSING_GLYPH, font_family
from edftools.plot.ticks import fixed_ticks, ticks_in_view

DPI = 90
#: The widest a report shows a figure, in CSS pixels (the page width of
#: :mod:`edftools.report.htmldoc`): a wider figure is drawn at a lower DPI, so that it is
#: shown pixel for pixel, not drawn larger and scaled down by the browser.
SHOWN_WIDTH_PX = 1300
PALETTE = "tab10"

#: The one colour of each step verdict in every figure — the verdict-by-epoch strip and the
#: regimes' verdict matrix (Okabe–Ito, safe for the common colour
#: vision deficiencies; the hue pairs that deuteranopes confuse are kept apart in lightness).
#: "not tested" (a space without a usable sample) is white, drawn hatched.
VERDICT_COLORS: dict[str, str] = {
    "improves": "#009E73",  # bluish green
    "no loss": "#56B4E9",  # sky blue
    "worse": "#D55E00",  # vermillion
    "mixed": "#CC79A7",  # reddish purple
    "inconclusive": "#D9D9D9",  # light grey
    "not tested": "#FFFFFF",
}

#: seaborn's ``axes_style("whitegrid")`` (white background, light grey grid and frame, no tick
#: marks), less its font and colormap entries (the style sets fonts; no image is drawn):
#: matplotlib rcParams, so drawing needs no seaborn import (tested against seaborn's own).
WHITEGRID: dict[str, Any] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": ".8",
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.labelcolor": ".15",
    "axes.spines.left": True,
    "axes.spines.bottom": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "grid.color": ".8",
    "grid.linestyle": "-",
    "text.color": ".15",
    "xtick.color": ".15",
    "ytick.color": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.bottom": False,
    "xtick.top": False,
    "ytick.left": False,
    "ytick.right": False,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
}


@contextmanager
def style() -> Iterator[None]:
    """The reports' style: whitegrid, small fonts, user text as plain text, font fallbacks."""
    rc: dict[str, Any] = {
        **WHITEGRID,
        "font.size": 9,
        "axes.titlesize": 10,
        "text.parse_math": False,
        "font.family": list(font_family()),
        # titles sit at the axes' top (no tick labels or offset text is ever drawn there):
        # a fixed position spares matplotlib's search for them, the layout of every y tick
        # label per title at every draw
        "axes.titley": 1.0,
        "axes.formatter.useoffset": False,
    }
    with (
        matplotlib.rc_context(rc),  # type: ignore[arg-type]  # its stubs list rc keys
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message=MISSING_GLYPH, category=UserWarning)
        yield


def to_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig`` (at :func:`png_dpi`: no wider than a report shows it; no
    software/date metadata, so output is reproducible).

    Drawn in the reports' style, so text created while drawing (tick labels) follows it too.
    A figure with a layout engine (the reports' constrained layout, which keeps titles, labels
    and outside legends inside the canvas) is laid out once and drawn once at that DPI
    (``savefig`` alone would lay it out in a draw without rendering, then draw it again, and
    ``bbox_inches="tight"`` would measure every artist a third time); a figure without one is
    cropped to its artists (``bbox_inches="tight"``), so nothing is clipped either way (a
    legend too tall for its figure makes the figure taller, :func:`_lay_out`).
    """
    buf = io.BytesIO()
    png: dict[str, Any] = {"format": "png", "dpi": png_dpi(fig), "metadata": _PNG_METADATA}
    png["pil_kwargs"] = _PNG_OPTIONS
    engine = fig.get_layout_engine()
    ticks_in_view(fig)
    agg_canvas(fig)
    with style():
        if engine is None:
            fig.savefig(buf, bbox_inches="tight", **png)
            return buf.getvalue()
        dpi = fig.dpi
        try:
            fig.set_dpi(png["dpi"])
            _lay_out(fig, engine)
            fig.set_layout_engine(None)  # laid out above: savefig draws it once
            with fixed_ticks(fig):  # the axes' sizes are final: so are their ticks
                fig.savefig(buf, **png)
        finally:
            fig.set_layout_engine(engine)
            fig.set_dpi(dpi)
    return buf.getvalue()


def agg_canvas(fig: Figure) -> None:
    """Give a plain ``Figure`` (its canvas a ``FigureCanvasBase``) an Agg canvas, the one
    that ``savefig`` prints a PNG with: the layout then measures text with the renderer that
    draws it, and matplotlib's text-metrics cache (per renderer) spares measuring every
    label, title and legend entry again when the figure is drawn (a plain figure's layout
    gets a renderer of its own, another again at ``savefig``). A figure with a canvas of its
    own (pyplot's) keeps it."""
    if type(fig.canvas) is FigureCanvasBase:
        FigureCanvasAgg(fig)


def png_dpi(fig: Figure) -> float:
    """:data:`DPI`, or less for a figure wider than :data:`SHOWN_WIDTH_PX` at that DPI: the
    DPI at which it is that wide (rounded down to a hundredth)."""
    width = float(fig.get_size_inches()[0])
    return min(float(DPI), np.floor(100.0 * SHOWN_WIDTH_PX / width) / 100.0)


def _lay_out(fig: Figure, engine: Any, tries: int = 3) -> None:
    """Run the layout ``engine``; where a legend (beside the axes, long names wrapped to many
    lines) still reaches past the canvas, make the figure that much larger and run it again
    (what ``bbox_inches="tight"`` did by growing the image), so nothing is clipped."""
    for _ in range(tries):
        engine.execute(fig)
        renderer = fig._get_renderer()  # type: ignore[attr-defined]  # the layout's own
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
        boxes = [lg.get_window_extent(renderer) for lg in legends if lg is not None]
        if not boxes:
            return
        canvas = fig.bbox
        over_x = max(0.0, max(b.x1 for b in boxes) - canvas.x1)
        over_y = max(0.0, canvas.y0 - min(b.y0 for b in boxes))
        over_y = max(over_y, max(b.y1 for b in boxes) - canvas.y1)
        if over_x < 1.0 and over_y < 1.0:  # within a pixel
            return
        width, height = fig.get_size_inches()
        fig.set_size_inches(width + over_x / fig.dpi, height + over_y / fig.dpi)


#: No software or date in the PNG, so the same figure gives the same bytes.
_PNG_METADATA: dict[str, Any] = {"Software": None}
#: zlib level 3: a third less time than the default 6 for files as small on these figures.
_PNG_OPTIONS: dict[str, Any] = {"compress_level": 3}


def grid(
    n: int, ncols: int, width: float = 4.2, height: float = 3.2, legend: bool = True
) -> tuple[Figure, list[Axes]]:
    """A figure of ``n`` panels in ``ncols`` columns (:class:`~edftools.plot.layout.GridLayout`:
    titles, labels and outside legends get the room they need); the cells after the ``n``-th
    stay empty (no axes is made for them: an Axes costs as much to make as to draw empty)."""
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    extra = LEGEND_WIDTH if legend else 0.0  # inches per column for a legend beside the axes
    fig = Figure(figsize=((width + extra) * ncols, height * nrows), layout=GridLayout())
    cells = fig.add_gridspec(nrows, ncols)
    return fig, [fig.add_subplot(cells[i // ncols, i % ncols]) for i in range(n)]


def label_left_column(axes: Sequence[Axes], ncols: int) -> None:
    """Y tick labels and y label on the grid's first column only, for panels whose y axes
    are the same (an EDF's 0–1, a p-value's log axis): the grid lines still show the values,
    and a row reads against its first panel's labels."""
    for i, ax in enumerate(axes):
        if i % ncols:
            ax.tick_params(axis="y", labelleft=False)
            ax.set_ylabel("")


def new_axes(ax: Axes | None, width: float = 5.5, height: float = 3.6) -> Axes:
    """``ax``, or the axes of a new figure (pyplot's, so a notebook shows it)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _fig, new = plt.subplots(figsize=(width, height), layout="constrained")
    return new


def palette(labels: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """One color per label: tab10 in order, repeated after ten (as seaborn's
    ``color_palette("tab10", n)``)."""
    colors = matplotlib.colormaps[PALETTE].colors  # type: ignore[attr-defined]
    return {label: tuple(colors[i % len(colors)]) for i, label in enumerate(labels)}
