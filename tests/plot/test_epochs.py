"""The verdict-by-epoch strip: one coloured cell per step and epoch, the shared verdict
palette, a mark where each step is decided from, Axes in and out."""

from __future__ import annotations

import matplotlib.colors as mcolors
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from edftools import plot
from edftools.analysis.epoch_verdicts import UNTESTED, EpochStep, EpochVerdicts
from edftools.analysis.settings import Settings
from edftools.errors import StatsInputError
from edftools.plot.style import VERDICT_COLORS, to_png

WORDS = {
    ("A", "B"): ("inconclusive", "worse", "improves", "improves"),
    ("B", "C"): ("no loss", UNTESTED, "inconclusive", "inconclusive"),
}


def _strip() -> EpochVerdicts:
    epochs = (1, 2, 3, 4)
    cells = tuple(
        EpochStep(p, r, k, word, 10, 10, borderline=(p, k) == ("A", 2))
        for (p, r), words in WORDS.items()
        for k, word in zip(epochs, words, strict=True)
    )
    return EpochVerdicts(tuple(WORDS), epochs, cells, (), Settings())


def test_strip_draws_a_cell_per_step_and_epoch_in_the_verdict_palette() -> None:
    strip = _strip()
    assert strip.decided_from == (3, None)
    ax = Figure().subplots()
    assert plot.verdict_strip(strip, ax=ax) is ax
    cells = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(cells) == 8
    colors = {mcolors.to_hex(c.get_facecolor()) for c in cells}
    assert colors == {VERDICT_COLORS[w].lower() for words in WORDS.values() for w in words}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:5] == ["improves", "no loss", "worse", "inconclusive", UNTESTED]
    assert "decided from here on" in labels and "borderline" in labels
    marks = [line for line in ax.lines if line.get_marker() == ">"]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == pytest.approx(1.5)  # epoch 3's edge
    assert [t.get_text() for t in ax.get_yticklabels()] == ["B → C", "A → B"]
    assert to_png(ax.get_figure()).startswith(b"\x89PNG")


def test_strip_needs_epoch_verdicts() -> None:
    with pytest.raises(StatsInputError, match="epoch logs"):
        plot.verdict_strip(None)
