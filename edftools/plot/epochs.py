"""The verdict-by-epoch strip: one row per refinement step, one cell per epoch, coloured by
the step's verdict at that epoch (:data:`edftools.plot.style.VERDICT_COLORS`), with a marker
where the verdict is "decided from epoch k on" (it equals the final epoch's from there)."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from edftools.analysis.epoch_verdicts import UNTESTED, EpochVerdicts
from edftools.errors import StatsInputError
from edftools.plot.style import VERDICT_COLORS, new_axes, style
from edftools.plot.text import set_title
from edftools.stats.verdicts import VERDICTS

#: How "decided from epoch k on" is drawn: a black bar on the cell's left edge and a triangle.
DECIDED_COLOR = "black"
DECIDED_WIDTH = 2.5


def verdict_strip(result: EpochVerdicts | Any, ax: Axes | None = None) -> Axes:
    """Draw the verdict of each step at each epoch (an :class:`EpochVerdicts`, or a refine
    result with ``through_training``) on ``ax`` (default: a new figure's) and return it.

    Rows are the steps in chain order (top first), columns the epochs; a cell's colour is its
    verdict ("not tested" hatched), a ``*`` marks a borderline one (a p-value within
    Monte-Carlo error of its threshold), and a black bar with a triangle marks the epoch from
    which the step's verdict equals the final epoch's. Each epoch's verdicts are tested at α
    on their own: the strip describes, it does not test across epochs.
    """
    strip = getattr(result, "through_training", result)
    if not isinstance(strip, EpochVerdicts):
        raise StatsInputError("verdict_strip needs verdicts by epoch (runs with epoch logs)")
    n_steps, n_epochs = len(strip.steps), len(strip.epochs)
    ax = new_axes(ax, width=1.6 + 0.55 * n_epochs + 2.0, height=0.9 + 0.42 * n_steps)
    with style():
        for i in range(n_steps):
            y = n_steps - 1 - i
            for j, epoch in enumerate(strip.epochs):
                cell = strip.cell(i, epoch)
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, y - 0.5),
                        1.0,
                        1.0,
                        facecolor=VERDICT_COLORS.get(cell.verdict, "white"),
                        edgecolor="white" if cell.verdict != UNTESTED else "0.6",
                        hatch="///" if cell.verdict == UNTESTED else None,
                        linewidth=1.5,
                    )
                )
                if cell.borderline:
                    ax.text(j, y, "*", ha="center", va="center", fontsize=11, color="black")
            since = strip.decided_from[i]
            if since is not None:
                x = strip.epochs.index(since) - 0.5
                ax.plot([x, x], [y - 0.45, y + 0.45], color=DECIDED_COLOR, linewidth=DECIDED_WIDTH)
                ax.plot([x], [y], marker=">", color="black", markersize=6, linestyle="none")
        ax.set_xlim(-0.5, n_epochs - 0.5)
        ax.set_ylim(-0.5, n_steps - 0.5)
        ax.set_xticks(range(n_epochs), [str(k) for k in strip.epochs])
        ax.set_yticks(range(n_steps), [f"{p} → {r}" for p, r in reversed(strip.steps)])
        ax.set_xlabel("epoch")
        ax.grid(False)
        for side in ax.spines.values():
            side.set_visible(False)
        shown = {c.verdict for c in strip.cells}
        handles: list[Any] = [
            Patch(
                facecolor=VERDICT_COLORS[word],
                edgecolor="0.6",
                hatch="///" if word == UNTESTED else None,
                label=word,
            )
            for word in (*VERDICTS, UNTESTED)
            if word in shown
        ]
        handles.append(
            Line2D(
                [],
                [],
                marker=">",
                label="decided from here on",
                color=DECIDED_COLOR,
                linewidth=DECIDED_WIDTH,
            )
        )
        if any(c.borderline for c in strip.cells):
            handles.append(
                Line2D([], [], marker="*", linestyle="none", color="black", label="borderline")
            )
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            fontsize=8,
            frameon=False,
        )
        set_title(ax, f"verdict at each epoch (each epoch's steps at α = {strip.settings.alpha:g})")
    return ax
