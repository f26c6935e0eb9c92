"""Plotting: matplotlib figures of edftools' results, ``ax=`` in, Axes out (no seaborn import).

    import matplotlib.pyplot as plt
    import edftools

    fig, ax = plt.subplots()
    edftools.plot.edf(data=df, hue="space", complexity="flops", ax=ax)
    fig = edftools.plot.refinement(edftools.refine(df, ["A", "B", "C"], complexity="flops"))

- :func:`edf`: EDFs of several spaces (normalized or not) with pointwise 95% bands;
- :func:`refinement`: the panel grid of a refine result (returns the Figure);
- :func:`best_of_k`: expected best error of k random models;
- :func:`good_range`: DDS's empirical bootstrap of the best model's parameter value;
- :func:`trend`: a parameter against complexity among the good models;
- :func:`history`: a sequential study's p-values against their boundaries (Figure);
- :func:`regimes`: a generalization's EDFs, one panel per regime (Figure);
- :func:`verdict_matrix`: a generalization's verdicts, step × regime;
- :func:`verdict_strip`: each step's verdict at every epoch (``edftools.verdicts_by_epoch``).

Each takes a result of ``edftools.refine``/``edftools.compare`` (or one of its items) or
long-form ``data`` with seaborn's rule (column names for ``error``, ``complexity``, ``x``,
``y``; spaces are the labels of ``hue``/``space``). The HTML reports draw with the same
functions. Errors axes show the region that decides (up to the reference space's 95th
percentile, the models beyond counted in a note); complexity reads 250K, 1.5M, 4G.
"""

from __future__ import annotations

from edftools.plot.edfs import best_of_k, edf, history, refinement
from edftools.plot.epochs import verdict_strip
from edftools.plot.params import good_range, trend
from edftools.plot.regimes import regimes, verdict_matrix
from edftools.plot.style import to_png

__all__ = [
    "best_of_k",
    "edf",
    "good_range",
    "history",
    "refinement",
    "regimes",
    "to_png",
    "trend",
    "verdict_matrix",
    "verdict_strip",
]
