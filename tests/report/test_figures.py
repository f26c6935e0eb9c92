"""Figures draw any user string as plain text, without warnings, and label their axes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from report_synthetic import synthetic_runs

from edftools.report import compare as C
from edftools.report import compare_html, figures, refine_html
from edftools.report.refine import RefineOptions, refine

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
    opts = C.CompareOptions(spaces=HOSTILE_NAMES, bins=4, n_boot=100, params=("d", "w0"))
    page = _render_quietly(compare_html.render, C.compare_spaces(hostile_runs, opts))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "网络空间" in page and "a$b$c" in page and "$x^$" in page


def test_refine_report_with_hostile_names(hostile_runs) -> None:
    result = refine(hostile_runs, RefineOptions(chain=HOSTILE_NAMES, bins=4, n_boot=100))
    page = _render_quietly(refine_html.render, result)
    assert "<script>" not in page and "网络空间" in page and "$x^$" in page


def test_dollar_signs_are_drawn_as_text_not_math() -> None:
    curve = figures.Curve("a$b$c", np.array([1.0, 2.0]), np.array([0.2, 0.9]))
    fig = figures.panels_figure([figures.Panel("$x^$ vs a$b$c", (curve,))])
    figures.to_png(fig)  # draws without a mathtext parse error
    ax = fig.axes[0]
    texts = [ax.title, *ax.get_legend().get_texts()]
    assert [t.get_text() for t in texts] == ["$x^$ vs a$b$c", "a$b$c"]
    assert not any(t.get_parse_math() for t in texts)


def test_the_style_does_not_leak_into_global_matplotlib_state() -> None:
    import matplotlib as mpl

    before = (mpl.rcParams["text.parse_math"], list(mpl.rcParams["font.family"]))
    curve = figures.Curve("a", np.array([1.0, 2.0]), np.array([0.2, 0.9]))
    figures.to_png(figures.panels_figure([figures.Panel("t", (curve,))]))
    assert (mpl.rcParams["text.parse_math"], list(mpl.rcParams["font.family"])) == before


def _visible_tick_labels(fig) -> list[str]:
    figures.to_png(fig)  # draw, as the report does
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
    fit_x = np.linspace(x.min(), x.max(), 10)
    panel = figures.TrendPanel(
        "w0 vs flops", "flops", "w0", x, rng.uniform(8, 64, 50), x < np.median(x), fit_x, fit_x
    )
    labels = _visible_tick_labels(figures.trend_figure([panel]))
    assert len(labels) >= 3, labels
    assert all("$" not in t and "^" not in t for t in labels)


def test_log2_axes_label_narrow_ranges_too() -> None:
    panel = figures.RangePanel(
        "w0", "w0", np.array([8.0, 12.0, 16.0, 24.0]), np.ones(4), 9.0, 14.0, 12.0, log_x=True
    )
    assert len(_visible_tick_labels(figures.good_range_figure([panel]))) >= 3


def test_history_figure_labels_its_log_p_axis_as_plain_text() -> None:
    n = np.array([50.0, 100.0, 150.0])
    panel = figures.HistoryPanel(
        "A → B: no loss",
        n,
        {"better": np.array([0.5, 0.1, 1e-3]), "no loss": np.array([0.2, 1e-5, 1e-12])},
        {"better": np.full(3, 1e-3), "no loss": np.array([1e-6, 1e-4, 1e-3])},
        decided_at=150.0,
    )
    ax = figures.history_figure([panel]).axes[0]
    ax.figure.canvas.draw()
    lo, hi = ax.get_ylim()
    locs = [v for v in ax.yaxis.get_major_locator()() if lo <= v <= hi]
    labels = [t for t in ax.yaxis.get_major_formatter().format_ticks(locs) if t]
    assert len(labels) >= 3, labels
    assert all("$" not in t and "mathdefault" not in t for t in labels)
    assert "1" in labels and "1e-4" in labels
