"""The HTML comparison report: EDFs with bands (normalized and raw), complexity histograms
before/after normalization, error vs complexity, expected-best-of-k curves, good ranges and
trends of chosen parameters, and the tests table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from edftools.errors import StoreError
from edftools.report import figures, htmldoc, measure
from edftools.report.compare import (
    PAIR_HEADERS,
    SPACE_HEADERS,
    ComparisonResult,
    notes,
    pair_cells,
    space_cells,
)
from edftools.report.refine_html import EDF_PANEL_TOP
from edftools.spaces.complexity import METRICS

#: Parameter names accepted by ``--params`` that are not plain columns.
PARAM_ALIASES: dict[str, str] = {"d": "depth"}


def param_values(frame: pd.DataFrame, name: str) -> np.ndarray:
    """The values of parameter ``name`` (``d`` = total depth, else a runs column)."""
    column = PARAM_ALIASES.get(name, name)
    if column not in frame.columns:
        raise StoreError(f"unknown parameter {name!r}: the runs have no column {column!r}")
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def edf_panels(result: ComparisonResult) -> list[figures.Panel]:
    """Normalized EDFs (if normalized) and raw EDFs, each with pointwise 95% bands."""
    samples = result.samples
    grid = measure.error_grid(samples)
    seed = result.options.seed
    kinds = [("raw", False)]
    if samples[0].rule is not None:
        kinds.insert(0, (f"normalized by {result.options.normalize}", True))
    pooled = np.concatenate([s.stratified.errors for s in samples])
    top = float(np.quantile(pooled, EDF_PANEL_TOP))
    panels = []
    for k, (label, normalized) in enumerate(kinds):
        curves = []
        for i, s in enumerate(samples):
            b = measure.band(s, grid, np.random.SeedSequence([seed, 3, k, i]), normalized)
            curves.append(figures.Curve(s.name, grid, b.estimate, b.lower, b.upper))
        for title, xlim in (
            (f"error EDFs ({label}), up to the pooled {EDF_PANEL_TOP:g} quantile", (grid[0], top)),
            (f"error EDFs ({label}), full range", None),
        ):
            panels.append(figures.Panel(title, tuple(curves), xlim=xlim))
    return panels


def best_of_k_panel(result: ComparisonResult) -> figures.Panel:
    """E[best error of k random models] vs k, with bootstrap 95% CIs."""
    curves = []
    for s, summ in zip(result.samples, result.summaries, strict=True):
        bk = summ.best_of_k
        curves.append(figures.Curve(s.name, bk.ks.astype(float), bk.mean, bk.low, bk.high))
    return figures.Panel(
        "expected best of k models", tuple(curves), xlabel="k (log scale)", ylabel="error (%)"
    )


def _weighted_frame(result: ComparisonResult) -> pd.DataFrame:
    frame = result.frame.copy()
    frame["weight"] = 1.0
    for s in result.samples:
        mask = (frame["space"] == s.name).to_numpy()
        if s.weights is not None:
            frame.loc[mask, "weight"] = s.weights
    return frame


def range_and_trend_panels(
    result: ComparisonResult,
) -> tuple[list[figures.RangePanel], list[figures.TrendPanel], list[str]]:
    """Good-range panels and trend panels per (parameter, space); notes for skipped ones."""
    frame = result.frame
    xcol = result.options.normalize if result.options.normalize != "none" else "flops"
    ranges, trends, skipped = [], [], []
    for name in result.options.params:
        values_all = param_values(frame, name)
        for space in (s.name for s in result.samples):
            mask = (frame["space"] == space).to_numpy()
            v, e = values_all[mask], frame["err"].to_numpy(dtype=float)[mask]
            x = pd.to_numeric(frame.loc[mask, xcol], errors="coerce").to_numpy(dtype=float)
            ok = np.isfinite(v)
            if ok.sum() < 4 or np.ptp(v[ok]) == 0:
                skipped.append(f"{name} in {space}: not varied or missing")
                continue
            gr = measure.good_range(v[ok], e[ok])
            ranges.append(
                figures.RangePanel(
                    f"{space}: {name}", name, v[ok], e[ok], gr.low, gr.high, gr.median
                )
            )
            okx = ok & np.isfinite(x) & (x > 0)
            try:
                tr = measure.trend(x[okx], v[okx], e[okx])
            except Exception as exc:  # too few distinct good models for a line
                skipped.append(f"trend of {name} in {space}: {exc}")
                continue
            good = e[okx] <= np.quantile(e[okx], 0.25, method="inverted_cdf")
            fx = np.geomspace(x[okx].min(), x[okx].max(), 50)
            trends.append(
                figures.TrendPanel(
                    f"{space}: {name} vs {xcol} (slope {tr.ols.slope.value:.3g} "
                    f"[{tr.ols.slope.low:.3g}, {tr.ols.slope.high:.3g}])",
                    f"{xcol} (log scale)",
                    name,
                    x[okx],
                    v[okx],
                    good,
                    fx,
                    tr.predict(fx),
                )
            )
    return ranges, trends, skipped


def render(result: ComparisonResult) -> str:
    """The complete self-contained HTML comparison report."""
    o = result.options
    names = [s.name for s in result.samples]
    blocks = [
        htmldoc.paragraph(
            f"Spaces: {', '.join(names)}; error column {o.error_column}; normalization "
            f"{o.normalize} ({o.bins} bins); seed {o.seed}."
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
    blocks += [
        htmldoc.heading("Error EDFs"),
        htmldoc.figure(
            figures.to_png(figures.panels_figure(edf_panels(result), ncols=2)),
            "Error EDFs with pointwise 95% bootstrap bands: complexity-normalized (weights "
            "recomputed in every resample) and raw; left: up to the pooled "
            f"{EDF_PANEL_TOP:g} quantile of the errors, where the decision lies; right: every "
            "error.",
        ),
    ]
    wframe = _weighted_frame(result)
    comp = [
        c
        for c in METRICS
        if c in wframe.columns and pd.to_numeric(wframe[c], errors="coerce").notna().all()
    ]
    if o.normalize != "none":
        blocks += [
            htmldoc.heading("Complexity before and after normalization"),
            htmldoc.figure(
                figures.to_png(
                    figures.histogram_figure(
                        wframe,
                        o.normalize,
                        [None, "weight"],
                        [f"{o.normalize}: models", f"{o.normalize}: normalized weights"],
                    )
                ),
                "Share of each space's models (left) and of its normalization weight (right) "
                f"per {o.normalize} bin; normalized, every space is flat over the common range.",
            ),
        ]
    if comp:
        blocks += [
            htmldoc.heading("Error vs complexity"),
            htmldoc.figure(
                figures.to_png(figures.scatter_figure(wframe, comp)),
                "Each model's error against its complexity.",
            ),
        ]
    blocks += [
        htmldoc.heading("Random-search efficiency"),
        htmldoc.figure(
            figures.to_png(figures.panels_figure([best_of_k_panel(result)], ncols=1, log_x=True)),
            "Expected lowest error among k models drawn at random (with the normalization "
            "weights), exact formula, with bootstrap 95% CIs.",
        ),
    ]
    ranges, trends, skipped = range_and_trend_panels(result)
    if ranges:
        blocks += [
            htmldoc.heading("Good ranges"),
            htmldoc.figure(
                figures.to_png(figures.good_range_figure(ranges)),
                "Empirical bootstrap of the best model's value (25% draws with replacement; "
                "exact law): 95% interval shaded, median dashed.",
            ),
        ]
    if trends:
        blocks += [
            htmldoc.heading("Parameter trends"),
            htmldoc.figure(
                figures.to_png(figures.trend_figure(trends)),
                "Parameter vs complexity; blue = good models (error ≤ the space's 25% quantile);"
                " red = OLS fit on log complexity among the good models (slope with 95% CI).",
            ),
        ]
    if skipped:
        blocks.append(htmldoc.bullet_list(skipped))
    return htmldoc.document(f"Comparison: {' vs '.join(names)}", blocks)
