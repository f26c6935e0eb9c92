"""The HTML refinement report: the table, the A → E → RegNet EDF panels, the good-range plot of
the parameter each restriction ties, and the e_fit analysis of the AnyNetX_C/D/E models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from edftools.report import figures, htmldoc, measure
from edftools.report.data import growth
from edftools.report.refine import HEADERS, RefineResult, footnotes, table_cells

#: Models per space whose e_fit is computed (a seeded subsample: the fit is a grid search,
#: ~15 ms per model batched).
EFIT_MAX_PER_SPACE = 150
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


#: EDF panels end where both EDFs have reached this level (the long tail of failed models
#: would otherwise squeeze the informative low-error region into a corner).
EDF_PANEL_TOP = 0.95


def _error_at(grid: np.ndarray, edf: np.ndarray, level: float) -> float:
    """The first grid error where the EDF reaches ``level`` (the grid's end if it never does)."""
    reached = np.flatnonzero(edf >= level)
    return float(grid[reached[0]] if reached.size else grid[-1])


def edf_panels(result: RefineResult) -> list[figures.Panel]:
    """One panel per step: the parent's and the restricted space's (normalized) EDFs with
    pointwise 95% bootstrap bands on a common grid, shown up to the error where both EDFs
    reach :data:`EDF_PANEL_TOP`."""
    samples = result.samples
    grid = measure.error_grid(samples)
    seed = result.options.seed
    bands = [
        measure.band(s, grid, np.random.SeedSequence([seed, 3, i])) for i, s in enumerate(samples)
    ]
    panels = []
    for i in range(1, len(samples)):
        row = result.rows[i]
        curves = tuple(
            figures.Curve(samples[j].name, grid, bands[j].estimate, bands[j].lower, bands[j].upper)
            for j in (i - 1, i)
        )
        reached = [_error_at(grid, c.y, EDF_PANEL_TOP) for c in curves]
        title = f"{samples[i - 1].name} → {samples[i].name}: {row.verdict}"
        panels.append(figures.Panel(title, curves, xlim=(float(grid[0]), max(reached))))
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
        space = names[i - 1] if tied.in_parent else names[i]
        part = frame[frame["space"] == space]
        values = tied.values(part) if len(part) else np.zeros(0)
        errors = part["err"].to_numpy(dtype=float)
        ok = np.isfinite(values)
        if ok.sum() < 4:
            continue
        gr = measure.good_range(
            values[ok], errors[ok], np.random.SeedSequence([result.options.seed, 4, i])
        )
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
    blocks = [
        htmldoc.paragraph(
            f"Chain {' → '.join(s.name for s in result.samples)}; error column "
            f"{o.error_column}; normalization {o.normalize} ({o.bins} bins); margin {o.margin:g}; "
            f"seed {o.seed}."
        ),
        htmldoc.heading("Refinement table"),
        htmldoc.table(
            HEADERS,
            table_cells(result.rows),
            table_id="refinement-table",
            verdict_column=len(HEADERS) - 1,
        ),
        htmldoc.bullet_list(footnotes(result)),
        htmldoc.heading("EDFs along the chain"),
        htmldoc.figure(
            figures.to_png(figures.panels_figure(edf_panels(result))),
            "Normalized error EDFs of each space and its parent, with pointwise 95% bootstrap "
            "bands (normalization weights recomputed in every resample).",
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
