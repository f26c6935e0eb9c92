"""Figures draw any user string as plain text, without warnings, label their axes, keep titles
and legends whole and outside the data, and show the error region that decides."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from report_synthetic import synthetic_runs

from edftools import plot
from edftools.analysis import comparison as C
from edftools.analysis import curves
from edftools.analysis.history import StepHistory
from edftools.analysis.refinement import RefineOptions, refine
from edftools.analysis.settings import Settings
from edftools.plot.style import style, to_png
from edftools.report import compare_html, refine_html
from edftools.stats import good_range, trend

# "$x^$" is a mathtext syntax error (it crashed every report); "a$b$c" would be typeset as math.
HOSTILE_NAMES = ("a$b$c", "$x^$", "<script>", "网络空间")


@pytest.fixture(scope="module")
def hostile_runs():
    # 5 points apart: every pair is decided, so no inconclusive pair is planned (slow, and
    # not what these tests are about)
    shifts = {name: -5.0 * i for i, name in enumerate(HOSTILE_NAMES)}
    return synthetic_runs(shifts, n=60, seed=3, sweep="s$w$<b>")


def _render_quietly(render, result) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        page = render(result)
    assert [str(w.message) for w in caught] == []
    return page


def test_compare_report_with_hostile_names(hostile_runs) -> None:
    opts = C.CompareOptions(
        spaces=HOSTILE_NAMES, settings=Settings(bins=4, n_boot=100), params=("d", "w0")
    )
    page = _render_quietly(compare_html.render, C.compare_spaces(hostile_runs, opts))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "网络空间" in page and "a$b$c" in page and "$x^$" in page


def test_refine_report_with_hostile_names(hostile_runs) -> None:
    options = RefineOptions(chain=HOSTILE_NAMES, settings=Settings(bins=4, n_boot=100))
    page = _render_quietly(refine_html.render, refine(hostile_runs, options))
    assert "<script>" not in page and "网络空间" in page and "$x^$" in page


def _frame(names=("a$b$c", "b"), n=80, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for i, name in enumerate(names):
        parts.append(
            pd.DataFrame(
                {
                    "space": name,
                    "error": 30 + rng.gamma(2.0, 3.0, n) - i,
                    "flops": rng.uniform(2e5, 8e5, n),
                    "w0": rng.integers(8, 64, n).astype(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_dollar_signs_are_drawn_as_text_not_math() -> None:
    fig = Figure()
    ax = plot.edf(data=_frame(), complexity="flops", ax=fig.add_subplot())
    to_png(fig)  # draws without a mathtext parse error
    texts = [ax.title, *ax.get_legend().get_texts()]
    assert [t.get_text() for t in texts[1:]] == ["a$b$c", "b"]
    assert not any(t.get_parse_math() for t in texts)


def test_the_style_does_not_leak_into_global_matplotlib_state() -> None:
    import matplotlib as mpl

    before = (mpl.rcParams["text.parse_math"], list(mpl.rcParams["font.family"]))
    fig = Figure()
    plot.edf(data=_frame(), ax=fig.add_subplot())
    to_png(fig)
    assert (mpl.rcParams["text.parse_math"], list(mpl.rcParams["font.family"])) == before


def _visible_tick_labels(fig) -> list[str]:
    to_png(fig)  # draw, as the report does
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    locs = [x for x in ax.xaxis.get_majorticklocs() if lo <= x <= hi]
    return [t for t in ax.xaxis.get_major_formatter().format_ticks(locs) if t]


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(1e6, 4e6), (3.1e6, 3.4e6), (2e5, 5e6), (1e5, 1e9), (360e6, 400e6)],
)
def test_trend_plots_label_their_log_x_axis(lo: float, hi: float) -> None:
    rng = np.random.default_rng(0)
    x = np.exp(rng.uniform(np.log(lo), np.log(hi), 50))
    y = 8 + 10 * np.log(x / lo) + rng.normal(0, 1, 50)
    errors = rng.uniform(20, 40, 50)
    item = curves.Trend(
        "s",
        "w0",
        "flops",
        x,
        y,
        errors < np.median(errors),
        trend(x, y, errors=errors, top=0.25, quantiles=()),
    )
    fig = Figure()
    plot.trend(item, ax=fig.add_subplot())
    labels = _visible_tick_labels(fig)
    assert len(labels) >= 3, labels
    assert all("$" not in t and "^" not in t and "e+" not in t for t in labels)


def test_log2_axes_label_narrow_ranges_too() -> None:
    values, errors = np.array([8.0, 12.0, 16.0, 24.0]), np.array([3.0, 1.0, 2.0, 4.0])
    item = curves.GoodRange("s", "w0", "w0", values, errors, good_range(values, errors), True)
    fig = Figure()
    plot.good_range(item, ax=fig.add_subplot())
    assert len(_visible_tick_labels(fig)) >= 3


def _history() -> StepHistory:
    looks = pd.DataFrame(
        {
            "look": [0, 1, 2],
            "n_parent": [50, 100, 150],
            "n_restricted": [50, 100, 150],
            "fraction": [0.25, 0.5, 0.75],
            "p_better": [0.5, 0.1, 1e-3],
            "p_worse": [0.6, 0.7, 0.8],
            "p_no_loss": [0.2, 1e-5, 1e-12],
            "level_better": [1e-4, 1e-3, 1e-3],
            "level_worse": [1e-4, 1e-3, 1e-3],
            "level_no_loss": [1e-6, 1e-4, 1e-3],
            "rejected_better": [False, False, True],
            "rejected_worse": [False, False, False],
            "rejected_no_loss": [False, True, True],
            "verdict": ["inconclusive", "no loss", "improves"],
            "decided": [False, False, True],
        }
    )
    return StepHistory("A", "B", looks)


def test_history_figure_draws_the_futility_test_against_its_own_boundary() -> None:
    """The fourth series, the futility rule's test, with its own boundary in its own color;
    the title names the futility rule when it decided; looks stored before it was recorded
    draw the three hypotheses only."""
    looks = _history().looks.assign(
        verdict=["inconclusive", "no loss", "no loss"],
        rejected_better=False,
        p_futility=[0.3, 0.01, 1e-4],
        level_futility=[1e-5, 1e-3, 1e-2],
    )
    fig = plot.history([StepHistory("A", "B", looks)])
    ax = fig.axes[0]
    to_png(fig)
    lines = {line.get_label(): line for line in ax.get_lines()}
    p, boundary = lines["p gain excluded"], lines["boundary gain excluded"]
    assert list(p.get_ydata()) == [0.3, 0.01, 1e-4]
    assert list(boundary.get_ydata())[-1] == 1e-2 and boundary.get_linestyle() == "--"
    assert p.get_color() == boundary.get_color() != lines["p no loss"].get_color()
    legend = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert {"p gain excluded", "boundary gain excluded"} <= set(legend)
    assert "futility rule" in ax.get_title().replace("\n", " ")
    old = plot.history([_history()]).axes[0]
    assert not any("gain excluded" in str(line.get_label()) for line in old.get_lines())
    assert len([line for line in old.get_lines() if line.get_linestyle() == "--"]) == 3


def test_history_figure_labels_its_log_p_axis_as_plain_text() -> None:
    fig = plot.history([_history()])
    ax = fig.axes[0]
    to_png(fig)
    lo, hi = ax.get_ylim()
    locs = [v for v in ax.yaxis.get_major_locator()() if lo <= v <= hi]
    labels = [t for t in ax.yaxis.get_major_formatter().format_ticks(locs) if t]
    assert len(labels) >= 3, labels
    assert all("$" not in t and "mathdefault" not in t for t in labels)
    assert "1" in labels and "1e-4" in labels
    # the title names the rule that decided; every hypothesis has its own boundary
    assert "better shown" in ax.get_title().replace("\n", " ")
    # one legend for the grid, beside it: every panel draws the same hypotheses
    assert ax.get_legend() is None and len(fig.legends) == 1
    legend = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert {f"boundary {h}" for h in ("better", "worse", "no loss")} <= set(legend)
    assert _inside(fig)


def _inside(fig: Figure) -> bool:
    """Whether every title, axis label, note and legend of ``fig`` (the figure's legends too)
    lies inside the figure: nothing clipped even without a tight bounding box."""
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    parts: list = list(fig.legends)
    for ax in fig.axes:
        parts += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        if ax.get_legend() is not None:
            parts.append(ax.get_legend())
    for part in parts:
        b = part.get_window_extent(renderer)
        if b.x0 < box.x0 - 1 or b.x1 > box.x1 + 1 or b.y0 < box.y0 - 1 or b.y1 > box.y1 + 1:
            return False
    return True


@pytest.mark.parametrize("length", [5, 40, 120])
def test_titles_are_never_clipped_and_legends_sit_outside_the_data(length: int) -> None:
    long = "N" * length
    data = _frame(names=(f"{long}-parent", f"{long}-child"))
    result = refine(
        data,
        RefineOptions(
            chain=(f"{long}-parent", f"{long}-child"),
            settings=Settings(normalize="none", n_boot=50),
        ),
    )
    fig = plot.refinement(result)
    to_png(fig)
    assert _inside(fig)
    ax = fig.axes[0]
    title = ax.title.get_text()
    assert title.startswith(f"{long}"[:5]) and title.replace("\n", "").count("N") >= 2 * length
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.x0 >= ax.get_window_extent(renderer).x1  # beside the axes, not on the data


def test_error_axes_stop_at_the_parents_95th_percentile_and_count_the_rest() -> None:
    data = _frame(names=("P", "R"), n=200)
    data.loc[data.index[:10], "error"] = 90.0  # diverged models
    result = refine(
        data, RefineOptions(chain=("P", "R"), settings=Settings(normalize="none", n_boot=50))
    )
    window = result.windows[0]
    parent = data.loc[data["space"] == "P", "error"].to_numpy()
    assert window.high == pytest.approx(np.quantile(parent, 0.95))
    assert window.beyond >= 10 and "not shown" in window.note()
    fig = plot.refinement(result)
    assert fig.axes[0].get_xlim()[1] == pytest.approx(window.high)
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert any("not shown" in t for t in notes)


def test_complexity_axes_read_k_m_g() -> None:
    from edftools.plot import params

    frame = _frame()
    frame["err"] = frame["error"]
    fig = params.error_scatter(frame, ["flops"])
    labels = _visible_tick_labels(fig)
    assert labels and all(t.endswith("K") or t == "0" for t in labels), labels


def test_plot_functions_return_their_axes(hostile_runs) -> None:
    data = _frame()
    with style():
        for fn, kwargs in (
            (plot.edf, {"data": data, "complexity": "flops"}),
            (plot.best_of_k, {"data": data}),
            (plot.good_range, {"data": data[data["space"] == "b"], "x": "w0"}),
            (plot.trend, {"data": data[data["space"] == "b"], "x": "flops", "y": "w0"}),
        ):
            fig = Figure()
            ax = fig.add_subplot()
            assert fn(ax=ax, **kwargs) is ax


def test_the_style_is_seaborns_whitegrid_without_importing_seaborn() -> None:
    import seaborn as sns

    from edftools.plot.style import WHITEGRID, palette

    theirs = dict(sns.axes_style("whitegrid"))
    assert {k: theirs[k] for k in WHITEGRID} == WHITEGRID
    assert set(theirs) - set(WHITEGRID) == {"font.family", "font.sans-serif", "image.cmap"}
    for n in (3, 12):
        labels = [str(i) for i in range(n)]
        assert list(palette(labels).values()) == list(sns.color_palette("tab10", n))


def test_drawing_a_report_imports_neither_seaborn_nor_scipy_stats() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from matplotlib.figure import Figure\n"
        "import numpy as np, pandas as pd\n"
        "from edftools import plot\n"
        "from edftools.plot import params\n"
        "rng = np.random.default_rng(0)\n"
        "df = pd.DataFrame({'space': ['a'] * 40 + ['b'] * 40, 'e_fit': rng.uniform(0, 1, 80),\n"
        "                   'err': rng.uniform(5, 9, 80), 'flops': rng.uniform(2e5, 8e5, 80)})\n"
        "plot.to_png(params.efit(df))\n"
        "plot.to_png(params.error_scatter(df, ['flops']))\n"
        "plot.to_png(params.complexity_histograms(df, 'flops', [None], ['flops']))\n"
        "bad = [m for m in ('seaborn', 'scipy.stats') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_log_axes_skip_the_invisible_minor_ticks_with_the_same_pixels() -> None:
    from matplotlib.ticker import LogLocator

    from edftools.plot.ticks import log_axis

    def figure() -> Figure:
        with style():
            fig = Figure(figsize=(4, 3), layout="constrained")
            ax = fig.add_subplot()
            ax.plot([1e3, 1e5, 1e8], [1e-8, 1e-3, 1.0], marker="o")
            ax.set_ylim(1e-8, 1.5)
            log_axis(ax, 10, "x")
            log_axis(ax, 10, "y")
        return fig

    fig = figure()
    png = to_png(fig)
    assert all(len(a.get_minorticklocs()) == 0 for a in (fig.axes[0].xaxis, fig.axes[0].yaxis))
    with_minor = figure()
    for axis in (with_minor.axes[0].xaxis, with_minor.axes[0].yaxis):
        axis.set_minor_locator(LogLocator(base=10, subs=np.arange(2.0, 10.0), numticks=20))
    assert len(with_minor.axes[0].yaxis.get_minorticklocs()) > 20
    assert to_png(with_minor) == png  # the style draws no minor tick mark, label or grid


def test_a_report_figure_is_laid_out_once_drawn_once_and_clips_nothing(monkeypatch) -> None:
    import io

    from PIL import Image

    from edftools.plot.style import DPI, grid
    from edftools.plot.text import legend_outside, set_title

    with style():
        fig, axes = grid(2, 2)
        for ax in axes:
            ax.plot([1e5, 4e5], [2.0, 30.0], label="a space with a long name " * 3)
            ax.set_xlabel("flops")
            ax.set_ylabel("error (%)")
            legend_outside(ax)
            set_title(ax, "a title that is wrapped to the width of its axes " * 2)
    dpi = fig.dpi
    draws: list[int] = []
    original = Figure.draw

    def counted(self, renderer):
        draws.append(1)
        return original(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    png = to_png(fig)
    assert len(draws) == 1  # no draw without rendering, no tight-bbox pass
    width, height = fig.get_size_inches()
    assert Image.open(io.BytesIO(png)).size == (round(width * DPI), round(height * DPI))
    assert fig.get_layout_engine() is not None and fig.dpi == dpi  # the figure is as it was
    monkeypatch.setattr(Figure, "draw", original)
    assert _inside(fig)  # the titles, labels and outside legends are within the canvas


def test_a_scatters_note_of_models_not_shown_sits_beside_the_data() -> None:
    from edftools.plot import params

    frame = _frame(n=200)
    frame["err"] = frame["error"]
    frame.loc[frame.index[:12], "err"] = 90.0  # diverged models, above the window
    fig = params.error_scatter(frame, ["flops"])
    to_png(fig)
    ax = fig.axes[0]
    renderer = FigureCanvasAgg(fig).get_renderer()
    notes = [t for t in ax.texts if "models above" in t.get_text()]
    assert len(notes) == 1
    # not in the lower right corner, where the best models are: in the legend's column
    assert notes[0].get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    assert _inside(fig)


def test_regimes_are_drawn_two_panels_a_row_readable_at_page_width() -> None:
    import edftools

    runs = pd.concat(
        [synthetic_runs({"A": 0.0, "C": -3.0}, n=40, seed=i, sweep=f"r{i}") for i in range(3)],
        ignore_index=True,
    )
    res = edftools.generalize(runs, ["A", "C"], regime="sweep", n_boot=30)
    fig = plot.regimes(res)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 3 and len({round(ax.get_position().x0, 3) for ax in shown}) == 2
