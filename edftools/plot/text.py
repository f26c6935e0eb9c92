"""Text fitted to the reports' figures: the fonts (DejaVu Sans, then the installed fonts that
cover CJK and other scripts, per glyph), text measured in inches, titles and legend labels
wrapped to the room they have (so no name length clips them), legends outside the data, and
the small notes that count the models an axis does not show.

Any string a user supplies is drawn as plain text (``parse_math=False`` here, and
``text.parse_math`` off in :func:`edftools.plot.style.style`): a ``$`` in a name is a dollar sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

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
MISSING_GLYPH = r"Glyph \d+ .* missing from (current )?font"


@cache
def font_family() -> tuple[str, ...]:
    """``DejaVu Sans`` then the installed :data:`FALLBACK_FONTS` (matplotlib falls back per
    glyph along this list). Naming an absent font would log a warning per figure."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(f for f in FALLBACK_FONTS if f in installed))


#: Inches beside each panel kept for its legend.
LEGEND_WIDTH = 1.3


@lru_cache(maxsize=4096)
def text_width(text: str, size: float) -> float:
    """The width of one line of ``text`` in inches at font ``size`` (the style's font)."""
    prop = FontProperties(family=list(font_family()), size=size)
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
