"""The HTML comparison report: EDFs with bands (normalized and raw), complexity histograms
before/after normalization, error vs complexity, expected-best-of-k curves, good ranges and
trends of chosen parameters, and the tests table. Formatting only: every number comes from the
:class:`~edftools.analysis.comparison.ComparisonResult`, every figure from
:mod:`edftools.plot`."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from edftools import plot
from edftools.analysis.comparison import ComparisonResult
from edftools.analysis.curves import DECISION_QUANTILE, param_values
from edftools.plot import params as plot_params
from edftools.plot.style import grid, set_title, style
from edftools.report import htmldoc, seednoise_table
from edftools.report.compare_table import (
    PAIR_HEADERS,
    SPACE_HEADERS,
    notes,
    pair_cells,
    space_cells,
)
from edftools.spaces.complexity import METRICS

__all__ = ["edf_figure", "param_values", "render"]


def edf_figure(result: ComparisonResult) -> Figure:
    """Normalized EDFs (if normalized) and raw EDFs with pointwise 95% bands: each up to the
    reference space's 95th percentile and over the full range."""
    kinds = [b.normalized for b in result.bands]
    with style():
        fig, axes = grid(2 * len(kinds), 2)
        for k, normalized in enumerate(kinds):
            plot.edf(result, normalized=normalized, ax=axes[2 * k])
            plot.edf(result, normalized=normalized, full_range=True, ax=axes[2 * k + 1])
            label = f"normalized by {result.settings.normalize}" if normalized else "raw"
            set_title(axes[2 * k], f"error EDFs ({label}), the region that decides")
            set_title(axes[2 * k + 1], f"error EDFs ({label}), full range")
    return fig


def render(result: ComparisonResult) -> str:
    """The complete self-contained HTML comparison report."""
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
            plot.to_png(edf_figure(result)),
            "Error EDFs with pointwise 95% bootstrap bands: complexity-normalized (weights "
            "recomputed in every resample) and raw; left: up to the reference space's "
            f"{DECISION_QUANTILE:g} quantile, where the decision lies (the models beyond are "
            "counted); right: every error.",
        ),
    ]
    wframe = result.weighted_frame
    comp = [
        c
        for c in METRICS
        if c in wframe.columns and pd.to_numeric(wframe[c], errors="coerce").notna().all()
    ]
    if cfg.normalized:
        blocks += [
            htmldoc.heading("Complexity before and after normalization"),
            htmldoc.figure(
                plot.to_png(
                    plot_params.complexity_histograms(
                        wframe,
                        cfg.normalize,
                        [None, "weight"],
                        [f"{cfg.normalize}: models", f"{cfg.normalize}: normalized weights"],
                    )
                ),
                "Share of each space's models (left) and of its normalization weight (right) "
                f"per {cfg.normalize} bin; normalized, every space is flat over the common range.",
            ),
        ]
    if comp:
        blocks += [
            htmldoc.heading("Error vs complexity"),
            htmldoc.figure(
                plot.to_png(plot_params.error_scatter(wframe, comp)),
                "Each model's error against its complexity (error axis up to the 95th "
                "percentile; the models above it are counted).",
            ),
        ]
    with style():
        fig, (ax,) = grid(1, 1)
        plot.best_of_k(result, ax=ax)
    blocks += [
        htmldoc.heading("Random-search efficiency"),
        htmldoc.figure(
            plot.to_png(fig),
            "Expected lowest error among k models drawn at random (with the normalization "
            "weights), exact formula, with bootstrap 95% CIs.",
        ),
    ]
    ranges, trends, skipped = result.ranges_and_trends
    if ranges:
        blocks += [
            htmldoc.heading("Good ranges"),
            htmldoc.figure(
                plot.to_png(plot_params.panels(ranges)),
                "Empirical bootstrap of the best model's value (25% draws with replacement; "
                "exact law): 95% interval shaded, median dashed.",
            ),
        ]
    if trends:
        blocks += [
            htmldoc.heading("Parameter trends"),
            htmldoc.figure(
                plot.to_png(plot_params.panels(trends)),
                "Parameter vs complexity; blue = good models (error ≤ the space's 25% quantile);"
                " red = OLS fit on log complexity among the good models (slope with 95% CI).",
            ),
        ]
    if skipped:
        blocks.append(htmldoc.bullet_list(list(skipped)))
    return htmldoc.document(f"Comparison: {' vs '.join(names)}", blocks)
