"""The HTML refinement report: the table, the A → E → RegNet EDF panels, the good-range plot of
the parameter each restriction ties, and the e_fit analysis of the AnyNetX_C/D/E models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from edftools.report import figures, htmldoc, measure
from edftools.report.data import growth
from edftools.report.history import history_panels
from edftools.report.refine import RefineResult
from edftools.report.refine_table import footnotes, headers, table_cells

#: Models per space whose e_fit is computed (a seeded subsample: the fit is a grid search,
#: ~15 ms per model batched).
EFIT_MAX_PER_SPACE = 60
EFIT_SPACES: tuple[str, ...] = ("AnyNetX_C", "AnyNetX_D", "AnyNetX_E")


@dataclass(frozen=True)
class TiedParameter:
    """The parameter a restriction ties, and in which space its good range is shown."""

    label: str
    values: Callable[[pd.DataFrame], np.ndarray]
    in_parent: bool
    log_x: bool = False


def _column(name: str) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda f: pd.to_numeric(f[name], errors="coerce").to_numpy(dtype=float)


#: B ties b (shown in B: which shared b is best), C ties g, D and E impose width and depth
#: growth (shown in the parent, where growth is free: do the best models grow?), RegNet: wm.
TIED: dict[str, TiedParameter] = {
    "AnyNetX_B": TiedParameter("shared bottleneck ratio b", _column("b1"), False, True),
    "AnyNetX_C": TiedParameter("shared group width g", _column("g1"), False, True),
    "AnyNetX_D": TiedParameter(
        "width growth (w_last/w_1)^(1/(K-1))", lambda f: growth(f, "w"), True
    ),
    "AnyNetX_E": TiedParameter(
        "depth growth (d_last/d_1)^(1/(K-1))", lambda f: growth(f, "d"), True
    ),
    "RegNetX": TiedParameter("width multiplier wm", _column("wm"), False),
}


#: EDF panels show errors up to this quantile of the pooled models of the two spaces, where the
#: decision lies (the long tail of failed models would squeeze it into a corner); the full range
#: is in the second figure.
EDF_PANEL_TOP = 0.9


def edf_bands(result: RefineResult) -> tuple[np.ndarray, list]:
    """The common error grid and each space's pointwise 95% band of its normalized EDF."""
    samples = result.samples
    grid = measure.error_grid(samples)
    seed = result.options.seed
    bands = [
        measure.band(s, grid, np.random.SeedSequence([seed, 3, i])) for i, s in enumerate(samples)
    ]
    return grid, bands


def edf_panels(
    result: RefineResult, grid: np.ndarray, bands: list, full_range: bool = False
) -> list[figures.Panel]:
    """One panel per step: the parent's and the restricted space's (normalized) EDFs with
    pointwise 95% bootstrap bands (:func:`edf_bands`), titled with the step's verdict and
    margin, shown up to the pooled :data:`EDF_PANEL_TOP` quantile (or the full range); where
    both one-sided tests found a difference (mixed), the errors where the EDFs cross are
    marked."""
    samples = result.samples
    margin = result.options.margin
    panels = []
    index = {s.name: k for k, s in enumerate(samples)}
    for i in range(1, len(samples)):
        row = result.rows[i]
        p = index[row.parent]
        curves = tuple(
            figures.Curve(samples[j].name, grid, bands[j].estimate, bands[j].lower, bands[j].upper)
            for j in (p, i)
        )
        pooled = np.concatenate([samples[j].stratified.errors for j in (p, i)])
        top = float(grid[-1]) if full_range else float(np.quantile(pooled, EDF_PANEL_TOP))
        crossings: tuple[float, ...] = ()
        if row.verdict == "mixed":
            diff = curves[1].y - curves[0].y
            sign = np.sign(diff)
            flips = np.flatnonzero((sign[1:] != sign[:-1]) & (sign[1:] != 0) & (sign[:-1] != 0))
            crossings = tuple(float(grid[k + 1]) for k in flips)
        title = f"{samples[p].name} → {samples[i].name}: {row.verdict}\nmargin {margin.describe()}"
        panels.append(figures.Panel(title, curves, xlim=(float(grid[0]), top), markers=crossings))
    return panels


def good_range_panels(result: RefineResult) -> list[figures.RangePanel]:
    """Good-range bootstrap (``stats.good_range``) of each step's tied parameter."""
    frame = result.frame
    names = [s.name for s in result.samples]
    panels = []
    for i in range(1, len(names)):
        tied = TIED.get(names[i])
        if tied is None:
            continue
        space = result.rows[i].parent if tied.in_parent else names[i]
        part = frame[frame["space"] == space]
        values = tied.values(part) if len(part) else np.zeros(0)
        errors = part["err"].to_numpy(dtype=float)
        ok = np.isfinite(values)
        if ok.sum() < 4:
            continue
        gr = measure.good_range(values[ok], errors[ok])
        panels.append(
            figures.RangePanel(
                title=f"{space}: {tied.label}",
                xlabel=tied.label,
                values=values[ok],
                errors=errors[ok],
                low=gr.low,
                high=gr.high,
                median=gr.median,
                log_x=tied.log_x,
            )
        )
    return panels


def efit_frame(result: RefineResult) -> pd.DataFrame:
    """e_fit (``spaces.fit_regnet_batch`` on the per-block widths) of up to
    :data:`EFIT_MAX_PER_SPACE` seeded-random models of each AnyNetX_C/D/E space in the chain."""
    from edftools.report.data import stage_matrix
    from edftools.spaces.regnet_fit import fit_regnet_batch

    frame = result.frame
    labels, blocks, errors = [], [], []
    rng = np.random.default_rng(np.random.SeedSequence([result.options.seed, 5]))
    for space in EFIT_SPACES:
        part = frame[frame["space"] == space]
        if part.empty:
            continue
        if len(part) > EFIT_MAX_PER_SPACE:
            part = part.iloc[np.sort(rng.choice(len(part), EFIT_MAX_PER_SPACE, replace=False))]
        depths, widths = stage_matrix(part, "d"), stage_matrix(part, "w")
        for d, w, err in zip(depths, widths, part["err"], strict=True):
            keep = np.isfinite(d) & np.isfinite(w)
            per_block = np.repeat(w[keep], d[keep].astype(int))
            if per_block.size:
                labels.append(space)
                blocks.append(per_block)
                errors.append(err)
    fits = fit_regnet_batch(blocks) if blocks else []
    return pd.DataFrame(
        {"space": labels, "e_fit": [f.e_fit for f in fits], "err": errors},
        columns=["space", "e_fit", "err"],
    )


def render(result: RefineResult) -> str:
    """The complete self-contained HTML report."""
    o = result.options
    grid, bands = edf_bands(result)
    blocks = [
        htmldoc.paragraph(
            f"Chain {' → '.join(s.name for s in result.samples)}; error column "
            f"{o.error_column}; normalization {o.normalize} ({o.bins} bins); margin "
            f"{o.margin.describe()}; "
            f"seed {o.seed}."
        ),
        htmldoc.heading("Refinement table"),
        htmldoc.table(
            headers(o.margin, result.sequential),
            table_cells(result.rows, o.margin),
            table_id="refinement-table",
            verdict_column=len(headers(o.margin, result.sequential)) - 1,
        ),
        htmldoc.bullet_list(footnotes(result)),
        htmldoc.heading("EDFs along the chain"),
        htmldoc.figure(
            figures.to_png(figures.panels_figure(edf_panels(result, grid, bands))),
            "Normalized error EDFs of each space and its parent, with pointwise 95% bootstrap "
            "bands (normalization weights recomputed in every resample), up to the pooled "
            f"{EDF_PANEL_TOP:g} quantile of the two spaces' errors, where the decision lies; "
            "dotted lines mark where the EDFs of a mixed step cross.",
        ),
        htmldoc.heading("EDFs along the chain, full error range"),
        htmldoc.figure(
            figures.to_png(figures.panels_figure(edf_panels(result, grid, bands, True))),
            "The same EDFs over every error, failed-to-train models included.",
        ),
    ]
    if result.sequential:
        blocks += [
            htmldoc.heading("Sequential history"),
            htmldoc.figure(
                figures.to_png(figures.history_figure(history_panels(result.histories))),
                "Each step's p-values at every look (dots) against the level that rejects them "
                "there (dashed, the spending function's increment over the Shaffer–Holm "
                "divisor); the dotted line marks the models per space where the verdict was "
                "reached.",
            ),
        ]
    ranges = good_range_panels(result)
    if ranges:
        blocks += [
            htmldoc.heading("Good ranges of the tied parameters"),
            htmldoc.figure(
                figures.to_png(figures.good_range_figure(ranges)),
                "Empirical bootstrap of the best model's parameter value (draw 25% of the "
                "models with replacement, keep the value of the lowest error; 95% interval "
                "shaded, median dashed). Width/depth growth are shown in the parent space, "
                "where they are free.",
            ),
        ]
    efit = efit_frame(result)
    if not efit.empty:
        blocks += [
            htmldoc.heading("e_fit analysis (AnyNetX_C/D/E)"),
            htmldoc.figure(
                figures.to_png(figures.efit_figure(efit)),
                f"e_fit = mean |log ratio| of the best quantized-linear fit to each model's "
                f"per-block widths (up to {EFIT_MAX_PER_SPACE} random models per space).",
            ),
        ]
    return htmldoc.document("Design-space refinement", blocks)
