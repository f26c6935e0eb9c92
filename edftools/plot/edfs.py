"""EDF figures: several spaces' EDFs with bands, the refinement panel grid, expected best of k,
and a sequential study's history. ``ax=`` in, Axes out (a grid returns its Figure).

Each function takes numbers the analysis layer computed (a result of ``edftools.refine`` or
``edftools.compare``) or long-form ``data`` that it analyses first, with seaborn's rule
(column names for ``error``, ``complexity``; spaces are the labels of ``space``/``hue``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from edftools.analysis import curves
from edftools.analysis import samples as measure
from edftools.analysis.comparison import ComparisonResult
from edftools.analysis.history import CURVES, FUTILITY, StepHistory
from edftools.analysis.library import long_form, settings_of
from edftools.analysis.refinement import RefineResult
from edftools.analysis.runs import select_runs
from edftools.plot.style import grid, label_left_column, new_axes, palette, style
from edftools.plot.text import corner_note, figure_legend, legend_outside, set_title, set_titles
from edftools.plot.ticks import log_axis, no_minor_ticks

EDF_YLABEL = "cumulative prob."
ERROR_XLABEL = "error (%)"


def _samples(
    data: Any,
    error: Any,
    complexity: Any,
    space: str,
    spaces: Sequence[str] | None,
    bins: int | None,
) -> list[measure.SpaceSample]:
    frame, error_col, normalize = long_form(data, error, complexity, space)
    names = list(spaces) if spaces else list(dict.fromkeys(frame["space"].tolist()))
    selected, resolved = select_runs(frame, names, error_col)
    return measure.build_samples(selected, resolved, normalize, settings_of(bins=bins).bins)


def draw_edfs(
    ax: Axes,
    bands: curves.Bands,
    names: Sequence[str],
    colors: dict[str, Any],
    window: curves.ErrorWindow | None = None,
    markers: Sequence[float] = (),
    band: bool = True,
) -> Axes:
    """The EDFs of ``names`` from ``bands`` (with their bands), limited to ``window`` (its
    note in the corner), dotted lines at ``markers``."""
    for name in names:
        b = bands.of(name)
        if band:
            ax.fill_between(bands.grid, b.lower, b.upper, color=colors[name], alpha=0.2, lw=0)
        ax.plot(bands.grid, b.estimate, color=colors[name], label=name, linewidth=1.5)
    for x in markers:
        ax.axvline(x, color="0.3", linestyle=":", linewidth=1.0)
    if window is not None:
        ax.set_xlim(window.low, window.high)
        corner_note(ax, window.note())
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel(ERROR_XLABEL)
    ax.set_ylabel(EDF_YLABEL)
    return ax


def edf(
    data: Any = None,
    *,
    error: Any = "error",
    space: str = "space",
    hue: str | None = None,
    spaces: Sequence[str] | None = None,
    complexity: Any = None,
    bins: int | None = None,
    seed: int | None = None,
    bands: bool = True,
    normalized: bool = True,
    full_range: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """The error EDFs of several spaces, normalized by ``complexity`` when given, with
    pointwise 95% bootstrap bands; the x axis shows the region that decides (up to the first
    space's 95th percentile; the models beyond are counted in a note) unless ``full_range``.

    ``data``: long-form runs (``hue``/``space`` names the column of space labels), or a
    :class:`ComparisonResult` (its bands: ``normalized`` picks the normalized or raw set).
    Returns the Axes.
    """
    ax = new_axes(ax)
    if isinstance(data, ComparisonResult):
        sets = data.bands
        chosen = next((b for b in sets if b.normalized == normalized), sets[0])
        window = None if full_range else data.window
        title_norm = chosen.normalized
    else:
        samples = _samples(data, error, complexity, hue or space, spaces, bins)
        chosen = curves.edf_bands(samples, settings_of(seed=seed).seed, normalized=normalized)
        errors = [s.stratified.errors for s in samples]
        window = None if full_range else curves.error_window(errors[0], errors)
        title_norm = chosen.normalized
    colors = palette(chosen.names)
    with style():
        draw_edfs(ax, chosen, chosen.names, colors, window, band=bands)
        set_title(ax, "error EDFs, normalized" if title_norm else "error EDFs")
        legend_outside(ax)
    return ax


def _step_title(result: RefineResult, i: int) -> str:
    """``parent → space: verdict``, the rule that decided it (sequential) on a line of its own
    (no parentheses inside parentheses), and the margin."""
    row = result.rows[i + 1]
    rule = f"\n{result.histories[i].deciding_rule()}" if result.sequential else ""
    margin = result.options.margin.describe()
    return f"{row.parent} → {row.space}: {row.verdict}{rule}\nmargin {margin}"


def refinement(
    result: RefineResult | Any = None,
    chain: Sequence[str] | None = None,
    *,
    full_range: bool = False,
    ncols: int = 3,
    **refine_options: Any,
) -> Figure:
    """The panel grid of a refinement: per step, the parent's and the restricted space's
    (normalized) EDFs with bands, titled with the verdict (and, for a sequential study, the
    rule that decided it), shown up to the parent's 95th percentile (or ``full_range``); the
    errors where a mixed step's EDFs cross are dotted.

    ``result``: a :class:`RefineResult`, or long-form data refined first with ``chain`` and
    ``refine_options`` (``edftools.refine``). Returns the Figure.
    """
    if not isinstance(result, RefineResult):
        from edftools.analysis.library import refine

        result = refine(result, chain, **refine_options)
    steps = result.step_pairs
    colors = palette([s.name for s in result.samples])
    with style():
        fig, axes = grid(len(steps), ncols)
        for i, (ax, (parent, restricted)) in enumerate(zip(axes, steps, strict=True)):
            window = None if full_range else result.windows[i]
            draw_edfs(ax, result.bands, (parent, restricted), colors, window, result.crossings[i])
            legend_outside(ax)
        label_left_column(axes, ncols)
        set_titles(fig, axes, [_step_title(result, i) for i in range(len(steps))])
    return fig


def best_of_k(
    data: Any = None,
    *,
    error: Any = "error",
    space: str = "space",
    hue: str | None = None,
    spaces: Sequence[str] | None = None,
    complexity: Any = None,
    bins: int | None = None,
    seed: int | None = None,
    n_boot: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Expected lowest error among k models drawn at random (with the normalization weights),
    against k on a log axis, with bootstrap 95% CIs.

    ``data``: a :class:`ComparisonResult` / :class:`RefineResult` (its summaries), or long-form
    runs. Returns the Axes.
    """
    ax = new_axes(ax)
    if isinstance(data, ComparisonResult | RefineResult):
        names = [s.name for s in data.samples]
        summaries = list(data.summaries)
    else:
        samples = _samples(data, error, complexity, hue or space, spaces, bins)
        cfg = settings_of(seed=seed, n_boot=n_boot)
        names = [s.name for s in samples]
        summaries = [
            measure.summarize(s, np.random.SeedSequence([cfg.seed, 1, i]), cfg.n_boot)
            for i, s in enumerate(samples)
        ]
    colors = palette(names)
    with style():
        for name, summ in zip(names, summaries, strict=True):
            bk = summ.best_of_k
            ks = bk.ks.astype(float)
            ax.fill_between(ks, bk.low, bk.high, color=colors[name], alpha=0.2, linewidth=0)
            ax.plot(ks, bk.mean, color=colors[name], label=name, marker="o", markersize=3)
        log_axis(ax, 2)
        ax.set_xlabel("k models (log scale)")
        ax.set_ylabel("expected best error (%)")
        set_title(ax, "expected best of k models")
        legend_outside(ax)
    return ax


def _power_of_ten(y: float) -> str:
    """A log-axis tick label without mathtext (which the style turns off): 1, 1e-2, 1e-4."""
    exponent = round(float(np.log10(y))) if y > 0 else 0
    return "1" if exponent == 0 else f"1e{exponent}"


def history(histories: Sequence[StepHistory] | RefineResult, *, ncols: int = 3) -> Figure:
    """Per step of a sequential study: each hypothesis' p-value at every look (dots) against
    its own rejection boundary (dashed, same color); a hypothesis is rejected at the first
    look where its dot is on or below its boundary. The fourth curve, "gain excluded", is the
    futility rule's test (no loss with the roles swapped, at level α·Δg): a "no loss" step
    stops at the first look where both its no-loss and its gain-excluded dots are on or below
    their boundaries (not drawn for looks stored before it was recorded). The title names the
    verdict and the rule that decided it (hypotheses shown, the futility rule, or max_n); a
    dotted vertical line marks the n of the decision. Returns the Figure."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    items = list(histories.histories) if isinstance(histories, RefineResult) else list(histories)
    labels = [label for label, _ in CURVES]
    colors = palette(labels)
    with style():
        fig, axes = grid(len(items), ncols, legend=False)
        for i, (ax, h) in enumerate(zip(axes, items, strict=True)):
            for label, (n, p, level) in h.curves().items():
                if label == FUTILITY[0] and not np.isfinite(p).any():
                    continue  # looks stored before the futility p was recorded
                color = colors[label]
                ax.plot(
                    n,
                    np.clip(p, 1e-8, 1.0),
                    marker="o",
                    markersize=3,
                    color=color,
                    label=f"p {label}",
                )
                ax.step(
                    n,
                    np.clip(level, 1e-8, 1.0),
                    where="mid",
                    linestyle="--",
                    color=color,
                    linewidth=1.0,
                    label=f"boundary {label}",
                )
            if h.decided:
                ax.axvline(h.n, color="0.3", linestyle=":", linewidth=1.0)
            ax.set_yscale("log")
            ax.set_ylim(1e-8, 1.5)
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0,), numticks=5))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: _power_of_ten(y)))
            no_minor_ticks(ax.yaxis)
            ax.set_xlabel("models per space")
            if i % ncols == 0:
                ax.set_ylabel("p-value (dashed: its boundary)")
        label_left_column(axes, ncols)
        figure_legend(fig, axes)  # every panel draws the same hypotheses: one legend
        set_titles(fig, axes, [_history_title(h) for h in items])
    return fig


def _history_title(h: StepHistory) -> str:
    when = f"decided at n = {h.n}" if h.decided else f"undecided at n = {h.n}"
    return f"{h.parent} → {h.restricted}: {h.final['verdict']}\n{when}: {h.deciding_rule()}"
