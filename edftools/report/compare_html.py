"""The HTML comparison report: EDFs with bands (normalized and raw), complexity histograms
before/after normalization, error vs complexity, expected-best-of-k curves, good ranges and
trends of chosen parameters, and the tests table. Formatting only: every number comes from the
:class:`~edftools.analysis.comparison.ComparisonResult`, every figure from
:mod:`edftools.plot`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edftools.analysis.comparison import ComparisonResult
from edftools.analysis.curves import DECISION_QUANTILE, param_values
from edftools.measures import METRICS
from edftools.report import htmldoc, seednoise_table
from edftools.report.compare_table import (
    PAIR_HEADERS,
    SPACE_HEADERS,
    notes,
    pair_cells,
    space_cells,
)
from edftools.report.parallel import share

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The figures import matplotlib when drawn (in the helper process, mostly: see
# edftools.report.parallel), not when this module is imported.

__all__ = ["edf_figure", "param_values", "render"]


def edf_figure(result: ComparisonResult) -> Figure:
    """Normalized EDFs (if normalized) and raw EDFs with pointwise 95% bands: each up to the
    reference space's 95th percentile and over the full range."""
    from edftools import plot
    from edftools.plot.style import grid, label_left_column, style
    from edftools.plot.text import set_title

    kinds = [b.normalized for b in result.bands]
    with style():
        fig, axes = grid(2 * len(kinds), 2)
        for k, normalized in enumerate(kinds):
            plot.edf(result, normalized=normalized, ax=axes[2 * k])
            plot.edf(result, normalized=normalized, full_range=True, ax=axes[2 * k + 1])
            label = f"normalized by {result.settings.normalize}" if normalized else "raw"
            set_title(axes[2 * k], f"error EDFs ({label}), the region that decides")
            set_title(axes[2 * k + 1], f"error EDFs ({label}), full range")
        label_left_column(axes, 2)
    return fig


def _complexity_columns(result: ComparisonResult) -> list[str]:
    """The complexity columns every selected model has (flops, params, acts)."""
    import pandas as pd

    wframe = result.weighted_frame
    return [
        c
        for c in METRICS
        if c in wframe.columns and pd.to_numeric(wframe[c], errors="coerce").notna().all()
    ]


def _edfs_png(result: ComparisonResult) -> bytes:
    from edftools import plot

    return plot.to_png(edf_figure(result))


def _histograms_png(result: ComparisonResult) -> bytes | None:
    from edftools import plot
    from edftools.plot import params

    cfg = result.settings
    if not cfg.normalized:
        return None
    return plot.to_png(
        params.complexity_histograms(
            result.weighted_frame,
            cfg.normalize,
            [None, "weight"],
            [f"{cfg.normalize}: models", f"{cfg.normalize}: normalized weights"],
        )
    )


def _scatter_png(result: ComparisonResult) -> bytes | None:
    from edftools import plot
    from edftools.plot import params

    comp = _complexity_columns(result)
    return plot.to_png(params.error_scatter(result.weighted_frame, comp)) if comp else None


def _best_of_k_png(result: ComparisonResult) -> bytes:
    from edftools import plot
    from edftools.plot.style import grid, style

    with style():
        fig, (ax,) = grid(1, 1)
        plot.best_of_k(result, ax=ax)
    return plot.to_png(fig)


def _panels_png(items: Sequence[Any]) -> bytes | None:
    from edftools import plot
    from edftools.plot import params

    return plot.to_png(params.panels(items)) if items else None


def _ranges_png(result: ComparisonResult) -> bytes | None:
    return _panels_png(result.ranges_and_trends[0])


def _trends_png(result: ComparisonResult) -> bytes | None:
    return _panels_png(result.ranges_and_trends[1])


@dataclass(frozen=True)
class CompareFigures:
    """A comparison report's figures as PNG bytes (None: the report has no such figure)."""

    edfs: bytes
    histograms: bytes | None
    scatter: bytes | None
    best_of_k: bytes
    ranges: bytes | None
    trends: bytes | None


def _figure_statistics(result: ComparisonResult) -> None:
    """The good ranges and trends (the report's notes list what they skipped)."""
    result.ranges_and_trends  # noqa: B018


def figures(result: ComparisonResult) -> CompareFigures:
    """The report's figures as PNG bytes, drawn on two cores
    (:func:`~edftools.report.parallel.share`; the same bytes either way), largest first: the
    helper process takes the EDFs (with their bands), the trends and the good ranges first,
    while this process computes the good ranges and trends (whose notes the report shows
    too) and then draws from the other end, the smallest first: best of k, the complexity
    histograms, error vs complexity."""
    result.weighted_frame  # noqa: B018  # both processes use it: sent with every task
    (edfs, trend, good, scatter, histograms, best), _ = share(
        [
            (_edfs_png, (result,)),
            (_trends_png, (result,)),
            (_ranges_png, (result,)),
            (_scatter_png, (result,)),
            (_histograms_png, (result,)),
            (_best_of_k_png, (result,)),
        ],
        [lambda: _figure_statistics(result)],
    )
    return CompareFigures(edfs, histograms, scatter, best, good, trend)


def render(result: ComparisonResult) -> str:
    """The complete self-contained HTML comparison report."""
    png = figures(result)
    cfg = result.settings
    names = [s.name for s in result.samples]
    blocks = [
        htmldoc.paragraph(
            f"Spaces: {', '.join(names)}; error column {cfg.error_column}; normalization "
            f"{cfg.normalize} ({cfg.bins} bins); seed {cfg.seed}."
        ),
        htmldoc.heading("Spaces"),
        htmldoc.table(SPACE_HEADERS, space_cells(result.spaces), table_id="spaces-table"),
    ]
    if result.pairs:
        blocks += [
            htmldoc.heading("Pairwise tests"),
            htmldoc.table(
                PAIR_HEADERS,
                pair_cells(result.pairs),
                table_id="tests-table",
                verdict_column=len(PAIR_HEADERS) - 1,
            ),
        ]
    blocks.append(htmldoc.bullet_list(notes(result)))
    blocks += seednoise_table.html(result.seed_noise, result.noise_flags)
    blocks += [
        htmldoc.heading("Error EDFs"),
        htmldoc.figure(
            png.edfs,
            "Error EDFs with pointwise 95% bootstrap bands: complexity-normalized (weights "
            "recomputed in every resample) and raw; left: up to the reference space's "
            f"{DECISION_QUANTILE:g} quantile, where the decision lies (the models beyond are "
            "counted); right: every error.",
        ),
    ]
    if png.histograms is not None:
        blocks += [
            htmldoc.heading("Complexity before and after normalization"),
            htmldoc.figure(
                png.histograms,
                "Share of each space's models (left) and of its normalization weight (right) "
                f"per {cfg.normalize} bin; normalized, every space is flat over the common range.",
            ),
        ]
    if png.scatter is not None:
        blocks += [
            htmldoc.heading("Error vs complexity"),
            htmldoc.figure(
                png.scatter,
                "Each model's error against its complexity (error axis up to the 95th "
                "percentile; the models above it are counted).",
            ),
        ]
    blocks += [
        htmldoc.heading("Random-search efficiency"),
        htmldoc.figure(
            png.best_of_k,
            "Expected lowest error among k models drawn at random (with the normalization "
            "weights), exact formula, with bootstrap 95% CIs.",
        ),
    ]
    _ranges, _trends, skipped = result.ranges_and_trends
    if png.ranges is not None:
        blocks += [
            htmldoc.heading("Good ranges"),
            htmldoc.figure(
                png.ranges,
                "Empirical bootstrap of the best model's value (25% draws with replacement; "
                "exact law): 95% interval shaded, median dashed.",
            ),
        ]
    if png.trends is not None:
        blocks += [
            htmldoc.heading("Parameter trends"),
            htmldoc.figure(
                png.trends,
                "Parameter vs complexity; blue = good models (error ≤ the space's 25% quantile);"
                " red = OLS fit on log complexity among the good models (slope with 95% CI).",
            ),
        ]
    if skipped:
        blocks.append(htmldoc.bullet_list(list(skipped)))
    return htmldoc.document(f"Comparison: {' vs '.join(names)}", blocks)
