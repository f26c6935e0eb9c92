"""The style's helpers: figures no wider than the page shows them, titles wrapped to their
width, y labels on the first column of a shared grid, ticks made only where they are drawn."""

from __future__ import annotations

import io
import random

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from edftools.plot.style import SHOWN_WIDTH_PX, grid, label_left_column, style, to_png
from edftools.plot.text import legend_outside, set_title, text_width, wrap
from edftools.plot.ticks import InViewLocator, fixed_ticks, log_axis, ticks_in_view
from edftools.report import htmldoc


def test_a_figure_wider_than_the_page_is_drawn_at_the_width_shown() -> None:
    assert f"max-width: {SHOWN_WIDTH_PX}px" in htmldoc._CSS  # the page shows figures that wide
    with style():
        wide, axes = grid(4, 4)
        narrow, (ax,) = grid(1, 1)
    for a in [*axes, ax]:
        a.plot([0, 1], [0, 1])
    width = Image.open(io.BytesIO(to_png(wide))).size[0]
    assert SHOWN_WIDTH_PX - 2 <= width <= SHOWN_WIDTH_PX
    assert Image.open(io.BytesIO(to_png(narrow))).size[0] < SHOWN_WIDTH_PX


def test_wrapped_lines_fit_and_keep_every_character() -> None:
    rng = random.Random(1)
    words = ["AnyNetX_A", "→", "no", "loss", "shown,", "a", "(futility", "rule)", "N" * 90, "$x^$"]
    for _ in range(200):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 25)))
        width = rng.uniform(0.5, 5.0)
        lines = wrap(text, width).split("\n")
        assert all(text_width(line, 10.0) <= width or len(line) == 1 for line in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_only_the_first_column_labels_a_shared_y_axis() -> None:
    with style():
        fig, axes = grid(5, 3)
        for ax in axes:
            ax.plot([0, 1], [0, 1])
            ax.set_ylabel("cumulative prob.")
        label_left_column(axes, 3)
    to_png(fig)
    labelled = [bool(ax.get_ylabel()) for ax in axes]
    shown = [any(t.get_visible() for t in ax.get_yticklabels()) for ax in axes]
    assert labelled == shown == [True, False, False, True, False]


def test_ticks_are_made_only_inside_the_view_with_the_same_pixels(monkeypatch) -> None:
    import edftools.plot.style as style_module

    def figure():
        with style():
            fig, (ax,) = grid(1, 1)
            ax.plot(np.linspace(0.3, 9.7, 20), np.linspace(0.1, 0.93, 20))
            ax.set_xlim(0.3, 9.7)
        return fig

    fig = figure()
    png = to_png(fig)
    assert isinstance(fig.axes[0].xaxis.get_major_locator(), InViewLocator)
    lo, hi = fig.axes[0].get_xlim()
    assert all(lo <= t <= hi for t in fig.axes[0].get_xticks())
    monkeypatch.setattr(style_module, "ticks_in_view", lambda fig: None)  # matplotlib's ticks
    plain = figure()
    plain_png = to_png(plain)
    assert not isinstance(plain.axes[0].xaxis.get_major_locator(), InViewLocator)
    assert len(plain.axes[0].get_xticks()) > len(fig.axes[0].get_xticks())
    assert plain_png == png


def test_a_plain_figure_is_laid_out_and_drawn_on_one_agg_canvas_reproducibly() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def figure() -> Figure:
        with style():
            fig, (ax,) = grid(1, 1)
            ax.plot([0.0, 1.0], [0.0, 2.0], label="a name")
            set_title(ax, "a title")
            legend_outside(ax)
        return fig

    fig = figure()
    png = to_png(fig)
    assert isinstance(fig.canvas, FigureCanvasAgg)
    assert to_png(figure()) == png  # the same figure made again: the same bytes


def test_fixed_ticks_keep_the_ticks_labels_and_offset_and_restore_the_axes() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.ticker import FixedLocator

    with style():
        fig, (ax,) = grid(1, 1)
        ax.plot([1.0, 300.0], [1e-7, 3e-7])
        log_axis(ax, 10)
        ticks_in_view(fig)
        FigureCanvasAgg(fig).draw()
        y = ax.yaxis
        before = (list(y.get_majorticklocs()), [t.get_text() for t in y.get_ticklabels()])
        x_before = [t.get_text() for t in ax.get_xticklabels()]
        offset = y.get_major_formatter().get_offset()
        locator, formatter = y.get_major_locator(), y.get_major_formatter()
        default = y.isDefault_majfmt
        with fixed_ticks(fig):
            assert isinstance(y.get_major_locator(), FixedLocator)
            fig.canvas.draw()
            assert list(y.get_majorticklocs()) == before[0]
            assert [t.get_text() for t in y.get_ticklabels()] == before[1]
            assert [t.get_text() for t in ax.get_xticklabels()] == x_before
            assert y.offsetText.get_text() == offset
        assert y.get_major_locator() is locator and y.get_major_formatter() is formatter
        assert y.isDefault_majfmt == default
