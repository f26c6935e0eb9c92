"""The style of edftools' figures: fonts, plain-text labels, number formats, legends outside
the data, titles wrapped to their axes, panel grids, PNG output.

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
machine has them, and a glyph no installed font has is drawn as a box without a warning.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache
from typing import Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from edftools.plot.layout import GridLayout
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
def style() -> Iterator[None]:
    """The reports' style: whitegrid, small fonts, user text as plain text, font fallbacks."""
    rc: dict[str, Any] = {
        **WHITEGRID,
        "font.size": 9,
        "axes.titlesize": 10,
        "text.parse_math": False,
        "font.family": list(_font_family()),
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
        warnings.filterwarnings("ignore", message=_MISSING_GLYPH, category=UserWarning)
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


def warm_up() -> None:
    """Import what drawing needs and load the font, by drawing a small figure: a process that
    will draw (the reports' helper, while it waits for its first task) pays this up front."""
    import edftools.plot  # noqa: F401  # every figure module

    with style():
        fig, (ax,) = grid(1, 1, width=2.0, height=1.5)
        ax.plot([0.0, 1.0], [0.0, 1.0], label="0.5")
        ax.set_title("warm-up 0.5")
        legend_outside(ax)
    to_png(fig)


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


#: Inches beside each panel kept for its legend.
LEGEND_WIDTH = 1.3


@lru_cache(maxsize=4096)
def text_width(text: str, size: float) -> float:
    """The width of one line of ``text`` in inches at font ``size`` (the style's font)."""
    prop = FontProperties(family=list(_font_family()), size=size)
    width, _height, _descent = _TEXT_TO_PATH.get_text_width_height_descent(text, prop, ismath=False)
    return float(width) / 72.0


_TEXT_TO_PATH = TextToPath()


def wrap(text: str, width_in: float, size: float = 10.0) -> str:
    """``text`` wrapped to lines no wider than ``width_in`` inches at font ``size``: at
    spaces, and inside a word longer than a line; each given line break kept.

    A line that fits is measured once; one that does not is broken by adding up its words'
    widths (each word measured once, however many titles use it), and each line so made is
    measured whole to check (where kerning made it wider, it is broken word by word)."""
    out: list[str] = []
    for line in text.split("\n"):
        if text_width(line, size) <= width_in:
            out.append(line)
            continue
        for part in _wrap_by_sums(line, width_in, size):
            out += (
                [part]
                if text_width(part, size) <= width_in
                else _wrap_exactly(part, width_in, size)
            )
    return "\n".join(out)


def _wrap_by_sums(line: str, width_in: float, size: float) -> list[str]:
    """``line`` broken where the sum of its words' and spaces' widths passes ``width_in``."""
    space = text_width("a a", size) - text_width("aa", size)
    out: list[str] = []
    current, width = "", 0.0
    for word in line.split(" "):
        word_width = text_width(word, size)
        if current and width + space + word_width <= width_in:
            current, width = f"{current} {word}", width + space + word_width
            continue
        if current:
            out.append(current)
        if word_width <= width_in:
            current, width = word, word_width
            continue
        pieces = _wrap_exactly(word, width_in, size)  # a word longer than the line is split
        out += pieces[:-1]
        current, width = pieces[-1], text_width(pieces[-1], size)
    out.append(current)
    return out


def _wrap_exactly(line: str, width_in: float, size: float) -> list[str]:
    """``line`` broken by measuring every candidate line whole (at spaces, and inside a word
    longer than a line)."""
    out: list[str] = []
    current = ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size) <= width_in:
            current = candidate
            continue
        if current:
            out.append(current)
        current = ""
        for ch in word:  # a word longer than the line is split where it must be
            if current and text_width(current + ch, size) > width_in:
                out.append(current)
                current = ""
            current += ch
    out.append(current)
    return out


def set_title(ax: Axes, title: str) -> None:
    """A title wrapped to the axes' width, so no name length clips it."""
    fig = ax.get_figure(root=True)
    # the axes' share of the figure before the layout runs, less the room the layout gives
    # the y labels and the legend
    fig_width = float(fig.get_size_inches()[0]) if fig is not None else 4.0
    width = ax.get_position().width * fig_width * 0.85
    size = (
        float(matplotlib.rcParams["axes.titlesize"])
        if isinstance(matplotlib.rcParams["axes.titlesize"], int | float)
        else 10.0
    )
    ax.set_title(wrap(title, width, size), parse_math=False)


def set_titles(fig: Figure, axes: Sequence[Axes], titles: Sequence[str]) -> None:
    """Wrapped titles on a grid's ``axes``, the figure made taller by the extra lines of the
    longest title (so long names never squeeze the panels away)."""
    for ax, title in zip(axes, titles, strict=True):
        set_title(ax, title)
    lines = max((ax.get_title().count("\n") + 1 for ax in axes), default=1)
    rows = len({round(ax.get_position().y0, 3) for ax in axes})
    if lines > 2:
        width, height = fig.get_size_inches()
        fig.set_size_inches(width, height + rows * 0.17 * (lines - 2))


def legend_outside(ax: Axes, **kwargs: Any) -> None:
    """The legend to the right of the axes (outside the data), as seaborn's ``move_legend``."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    legend = ax.legend(
        handles,
        [wrap(label, LEGEND_WIDTH - 0.35, 8.0) for label in labels],
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        fontsize=8,
        frameon=False,
        **kwargs,
    )
    for text in legend.get_texts():  # space names are plain text, a $ is a dollar sign
        text.set_parse_math(False)


def figure_legend(fig: Figure, axes: Sequence[Axes]) -> None:
    """One legend for a grid whose panels draw the same labels (each label once, in the
    order the ``axes`` first draw it), to the right of the panels at the top (constrained
    layout makes room): drawn once, not per panel. The figure is made :data:`LEGEND_WIDTH`
    wider for it (make its grid with ``legend=False``)."""
    found: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    if not found:
        return
    handles, labels = list(found.values()), list(found)
    width, height = fig.get_size_inches()
    fig.set_size_inches(width + LEGEND_WIDTH, height)
    legend = fig.legend(
        handles,
        [wrap(label, LEGEND_WIDTH - 0.35, 8.0) for label in labels],
        loc="outside right upper",
        fontsize=8,
        frameon=False,
    )
    for text in legend.get_texts():
        text.set_parse_math(False)


def corner_note(ax: Axes, text: str) -> None:
    """A small note in the lower right corner of the axes (models not shown on an EDF, which
    is near 1 there; a scatter's notes go beside it, :func:`side_note`)."""
    if text:
        ax.text(
            0.99,
            0.02,
            text,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="0.35",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.0},
        )


def side_note(ax: Axes, text: str) -> None:
    """A small note beside the axes, at the bottom of the legend's column (models not shown
    on a scatter, whose lower right corner holds the best models), wrapped to that column."""
    if text:
        ax.text(
            1.02,
            0.0,
            wrap(text, LEGEND_WIDTH - 0.1, 7.0),
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=7,
            color="0.35",
            parse_math=False,
        )


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
