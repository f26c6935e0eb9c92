"""The HTML refinement report: the table, the EDF panels of each step, the sequential history,
the good ranges of the parameter each restriction ties, and the e_fit analysis of the
AnyNetX_C/D/E models. Formatting only: every number comes from the
:class:`~edftools.analysis.refinement.RefineResult`, every figure from :mod:`edftools.plot`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from edftools.analysis.curves import DECISION_QUANTILE, EFIT_MAX_PER_SPACE
from edftools.analysis.refinement import RefineResult
from edftools.report import epoch_table, htmldoc, seednoise_table
from edftools.report.parallel import share
from edftools.report.refine_table import footnotes, headers, table_cells

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The figures import matplotlib when drawn (in the helper process, mostly: see
# edftools.report.parallel), not when this module is imported.


def _strip_figure(steps: int, epochs: int) -> Figure:
    """A report's strip figure (a plain Figure: nothing leaks into pyplot)."""
    from matplotlib.figure import Figure

    from edftools.plot.text import LEGEND_WIDTH

    fig = Figure(
        figsize=(2.6 + 0.6 * epochs + LEGEND_WIDTH, 1.0 + 0.42 * steps), layout="constrained"
    )
    return fig


def _refinement_png(result: RefineResult) -> bytes:
    from edftools import plot

    return plot.to_png(plot.refinement(result))


def _history_png(result: RefineResult) -> bytes | None:
    from edftools import plot

    return plot.to_png(plot.history(result)) if result.sequential else None


def _ranges_png(result: RefineResult) -> bytes | None:
    from edftools import plot
    from edftools.plot import params

    ranges = result.good_ranges
    return plot.to_png(params.panels(ranges)) if ranges else None


def _strip_png(result: RefineResult) -> bytes | None:
    from edftools import plot

    strip = result.through_training
    if strip is None:
        return None
    fig = _strip_figure(len(strip.steps), len(strip.epochs))
    plot.verdict_strip(strip, ax=fig.subplots())
    return plot.to_png(fig)


def _efit_png(result: RefineResult) -> bytes | None:
    from edftools import plot
    from edftools.plot import params

    efit = result.efit
    return None if efit.empty else plot.to_png(params.efit(efit))


@dataclass(frozen=True)
class RefineFigures:
    """A refinement report's figures as PNG bytes (None: the report has no such figure)."""

    edfs: bytes
    history: bytes | None
    ranges: bytes | None
    strip: bytes | None
    efit: bytes | None


def figures(result: RefineResult) -> RefineFigures:
    """The report's figures as PNG bytes (None: not shown), drawn on two cores
    (:func:`~edftools.report.parallel.share`; the same bytes either way).

    This process only computes: e_fit, then the verdicts through training (which the tables
    show too), and never imports matplotlib. The helper process draws: the EDF grid (with its
    bands), the sequential history and the good ranges while this one computes, then e_fit
    and the strip, each handed over once this process has computed its numbers."""
    (history, ranges, edfs, efit, strip), _ = share(
        [
            (_history_png, (result,)),
            (_ranges_png, (result,)),
            (_refinement_png, (result,)),
            (_efit_png, (result,)),
            (_strip_png, (result,)),
        ],
        [lambda: result.bands, lambda: result.efit, lambda: result.through_training],
        after=[None, None, 0, 1, 2],
        steal=False,
    )
    return RefineFigures(edfs, history, ranges, strip, efit)


def render(result: RefineResult) -> str:
    """The complete self-contained HTML report."""
    png = figures(result)
    o = result.options
    cfg = result.settings
    blocks = [
        htmldoc.paragraph(
            f"Chain {' → '.join(s.name for s in result.samples)}; error column "
            f"{cfg.error_column}; normalization {cfg.normalize} ({cfg.bins} bins); margin "
            f"{o.margin.describe()}; seed {cfg.seed}."
        ),
        htmldoc.heading("Refinement table"),
        htmldoc.table(
            headers(o.margin, result.sequential),
            table_cells(result.rows, o.margin),
            table_id="refinement-table",
            verdict_column=len(headers(o.margin, result.sequential)) - 1,
        ),
        htmldoc.bullet_list(footnotes(result)),
        *seednoise_table.html(result.seed_noise, result.noise_flags),
        htmldoc.heading("EDFs along the chain"),
        htmldoc.figure(
            png.edfs,
            "Normalized error EDFs of each space and its parent, with pointwise 95% bootstrap "
            "bands (normalization weights recomputed in every resample), up to the parent's "
            f"{DECISION_QUANTILE:g} quantile, where the decision lies (the models beyond are "
            "counted in each panel); dotted lines mark where the EDFs of a mixed step cross.",
        ),
    ]
    if png.history is not None:
        blocks += [
            htmldoc.heading("Sequential history"),
            htmldoc.figure(
                png.history,
                "Each step's p-values at every look (dots) against the boundary that rejects "
                "them there (dashed, same color: the spending function's increment times the "
                "hypothesis' share of α in the step-down). The fourth, 'gain excluded', is the "
                "futility rule's test (no loss with the spaces' roles swapped, at the "
                "increment times α): a 'no loss' step stops at the first look where its "
                "no-loss and gain-excluded dots are both on or below their boundaries. The "
                "title names the rule that decided the step (hypotheses shown, the futility "
                "rule, or max_n), the dotted line the models per space where it did.",
            ),
        ]
    strip = result.through_training
    if strip is not None and png.strip is not None:
        blocks += [
            htmldoc.heading(epoch_table.TITLE),
            htmldoc.figure(
                png.strip,
                "Each step's fixed-n verdict at every epoch, from the test errors at that "
                "epoch (each epoch's verdicts at α on their own); the black bar marks the "
                "epoch from which the verdict equals the final epoch's.",
            ),
            htmldoc.table(
                epoch_table.headers(strip, result.sequential),
                epoch_table.cells(result),
                table_id="epoch-verdicts",
            ),
            htmldoc.bullet_list(epoch_table.footnotes(result)),
        ]
    if png.ranges is not None:
        blocks += [
            htmldoc.heading("Good ranges of the tied parameters"),
            htmldoc.figure(
                png.ranges,
                "Empirical bootstrap of the best model's parameter value (draw 25% of the "
                "models with replacement, keep the value of the lowest error; 95% interval "
                "shaded, median dashed). Width/depth growth are shown in the parent space, "
                "where they are free.",
            ),
        ]
    if png.efit is not None:
        blocks += [
            htmldoc.heading("e_fit analysis (AnyNetX_C/D/E)"),
            htmldoc.figure(
                png.efit,
                f"e_fit = mean |log ratio| of the best quantized-linear fit to each model's "
                f"per-block widths (up to {EFIT_MAX_PER_SPACE} random models per space).",
            ),
        ]
    return htmldoc.document("Design-space refinement", blocks)
