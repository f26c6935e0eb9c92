"""GridLayout: a grid's panels are placed in one measuring pass so that every decoration fits
inside the figure and no panel's decorations reach into its neighbour's."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from edftools.plot.layout import GridLayout, lay_out_grid
from edftools.plot.style import grid, style, to_png
from edftools.plot.text import figure_legend, legend_outside, set_title


def _panel_grid(title: str, ylabel: str) -> Figure:
    with style():
        fig, axes = grid(5, 3)
        for i, ax in enumerate(axes):
            ax.plot([1.0, 2.0 + i], [0.0, 1000.0 * (i + 1)], label=f"space {i} " * (i + 1))
            ax.set_xlabel("models per space")
            ax.set_ylabel(ylabel)
            legend_outside(ax)
            set_title(ax, title)
    return fig


def _boxes(fig: Figure) -> tuple[list, object]:
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    shown = [ax for ax in fig.axes if ax.get_visible()]
    return [ax.get_tightbbox(renderer) for ax in shown], fig.bbox


def test_a_grid_is_laid_out_by_the_grid_layout_within_the_figure_without_overlaps() -> None:
    fig = _panel_grid("a long title that wraps over several lines " * 3, "error (%)")
    assert isinstance(fig.get_layout_engine(), GridLayout)
    to_png(fig)
    boxes, canvas = _boxes(fig)
    for box in boxes:
        assert box.x0 >= canvas.x0 - 1 and box.x1 <= canvas.x1 + 1
        assert box.y0 >= canvas.y0 - 1 and box.y1 <= canvas.y1 + 1
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)


def test_a_figure_legend_gets_a_column_of_its_own() -> None:
    with style():
        fig, axes = grid(3, 3, legend=False)
        for ax in axes:
            ax.plot([0, 1], [0, 1], label="a hypothesis with a long name")
        figure_legend(fig, axes)
    to_png(fig)
    boxes, canvas = _boxes(fig)
    legend = fig.legends[0].get_window_extent(fig.canvas.get_renderer())
    assert legend.x1 <= canvas.x1 + 1 and all(box.x1 <= legend.x0 for box in boxes)


def test_a_figure_that_is_not_one_grid_is_left_to_constrained_layout() -> None:
    fig = Figure(figsize=(4, 3))
    fig.add_axes((0.1, 0.1, 0.8, 0.8))
    assert not lay_out_grid(fig)


def test_a_grid_makes_axes_only_for_its_panels() -> None:
    with style():
        fig, axes = grid(5, 3)
    assert len(fig.axes) == 5 == len(axes)
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in axes} == {(2, 3)}


def test_the_panel_box_skips_only_spines_without_tick_marks() -> None:
    from edftools.plot.layout import _on_the_box, _tightbbox

    with style():
        fig, (plain, marked) = grid(2, 2)
        for ax in (plain, marked):
            ax.plot([0.0, 10.0], [0.0, 1.0])
            ax.set_xlabel("x")
        marked.tick_params(axis="both", which="major", bottom=True, left=True, length=12)
        FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer()
        assert all(_on_the_box(s) for s in plain.spines.values())
        assert not _on_the_box(marked.spines["bottom"]) and not _on_the_box(marked.spines["left"])
        for ax in (plain, marked):
            assert (
                _tightbbox(ax, renderer).bounds
                == ax.get_tightbbox(renderer, for_layout_only=True).bounds
            )
            assert all(s.get_in_layout() for s in ax.spines.values())
