"""Figures of a generalization (``edftools.generalize``): the verdict matrix (step × regime) and
small multiples of each regime's EDFs with bands. ``ax=`` in, Axes out (a grid returns its
Figure)."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from edftools.analysis.regimes import GeneralizeResult
from edftools.plot.edfs import draw_edfs
from edftools.plot.style import VERDICT_COLORS, grid, label_left_column, new_axes, palette
from edftools.plot.style import style as plot_style
from edftools.plot.text import legend_outside, set_title, set_titles
from edftools.stats.verdicts import VERDICTS


def _result(result: Any, **options: Any) -> GeneralizeResult:
    if isinstance(result, GeneralizeResult):
        return result
    from edftools.analysis.generalization import generalize

    return generalize(result, **options)


def verdict_matrix(
    result: GeneralizeResult | Any, *, ax: Axes | None = None, **options: Any
) -> Axes:
    """The verdict of every step (rows) in every regime (columns), one colour per verdict,
    the cell naming it (and the models per space that decided a sequential step), the
    regimes that break the reference ordering marked "breaks". ``result``: a
    :class:`GeneralizeResult`, or data that :func:`edftools.generalize` analyses with
    ``options``. Returns the Axes."""
    res = _result(result, **options)
    steps, regimes = res.steps, res.regimes
    ax = new_axes(ax, width=1.6 + 1.5 * len(regimes), height=0.9 + 0.6 * len(steps))
    with plot_style():
        for j, regime in enumerate(regimes):
            for i, step in enumerate(steps):
                cell = res.cell(regime, step)
                ax.add_patch(_box(j, i, VERDICT_COLORS[cell.verdict]))
                text = cell.verdict + (
                    f"\nn = {cell.decided_at}" if cell.decided_at is not None else ""
                )
                ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=8)
        ax.set_xlim(0, len(regimes))
        ax.set_ylim(len(steps), 0)
        status = {o.regime: o.status for o in res.orderings}
        ax.set_xticks(
            [j + 0.5 for j in range(len(regimes))],
            [f"{r}\n({status[r]})" for r in regimes],
            fontsize=8,
        )
        ax.set_yticks(
            [i + 0.5 for i in range(len(steps))], [f"{p} → {q}" for p, q in steps], fontsize=8
        )
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        handles = [Patch(color=VERDICT_COLORS[v], label=v) for v in VERDICTS]
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            frameon=False,
            fontsize=8,
        )
        set_title(ax, f"verdicts by regime (FWER ≤ {res.family['fwer']:g})")
    return ax


def _box(x: float, y: float, color: str) -> Rectangle:
    """A cell of the matrix, with a white gap around it."""
    return Rectangle((x + 0.03, y + 0.05), 0.94, 0.9, facecolor=color, edgecolor="white")


def regimes(
    result: GeneralizeResult | Any,
    *,
    full_range: bool = False,
    ncols: int = 2,
    **options: Any,
) -> Figure:
    """Small multiples: per regime, the (normalized) EDFs of the chain's spaces with pointwise
    95% bootstrap bands, up to the chain's first space's 95th percentile (or ``full_range``),
    titled with the regime, what it changes and its ordering. Returns the Figure."""
    res = _result(result, **options)
    colors = palette(list(res.chain))
    with plot_style():
        fig, axes = grid(len(res.regimes), ncols)
        titles = []
        for ax, regime in zip(axes, res.regimes, strict=True):
            window = None if full_range else res.windows[regime]
            draw_edfs(ax, res.bands[regime], res.chain, colors, window)
            legend_outside(ax)
            what = res.descriptions.get(regime, "")
            titles.append(
                f"{regime}" + (f": {what}" if what else "") + f"\n{res.ordering_of(regime)}"
            )
        label_left_column(axes, ncols)
        set_titles(fig, axes, titles)
    return fig
