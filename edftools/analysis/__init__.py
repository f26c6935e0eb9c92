"""The analysis layer: between :mod:`edftools.stats` (the statistics of arrays) and everything
that presents results (:mod:`edftools.report`, :mod:`edftools.plot`, :mod:`edftools.study`,
the CLI commands). It is the public library other studies import.

- :mod:`~edftools.analysis.settings`: :class:`Settings`, the one frozen settings object
  (normalize, bins, margin, margin range, alpha, error column, seed, n_boot) with its allowed
  values; the CLI, the recipe's ``[sequential]`` table and a stored study build it.
- :mod:`~edftools.analysis.runs` and :mod:`~edftools.analysis.samples`: runs → samples.
- :mod:`~edftools.analysis.refinement` and :mod:`~edftools.analysis.comparison`: the refinement
  chain and comparisons, returning result objects that hold every number a report shows
  (:mod:`~edftools.analysis.curves` computes the figures' numbers).
- :mod:`~edftools.analysis.generalization` and :mod:`~edftools.analysis.regimes`: the same
  steps in several regimes (``edftools.generalize``), the verdict matrix under one FWER.
- :mod:`~edftools.analysis.epoch_verdicts`: ``edftools.verdicts_by_epoch(df, chain, ...)``,
  the verdict of every step at every epoch of the stored training logs.
- :mod:`~edftools.analysis.library`: ``edftools.refine(df, chain, ...)``,
  ``edftools.compare(data=df, ...)`` and the array functions with one argument style.

Nothing here imports torch; the submodules load pandas and scipy.
"""

from __future__ import annotations

#: Public names and their modules (loaded on first use: the CLI reads the settings module to
#: print ``--help`` without loading pandas or scipy).
_NAMES: dict[str, str] = {
    "CompareOptions": "comparison",
    "ComparisonResult": "comparison",
    "compare_spaces": "comparison",
    "compare": "library",
    "generalize": "generalization",
    "GeneralizeResult": "regimes",
    "RegimeCell": "regimes",
    "edf_band": "library",
    "load_runs": "library",
    "plan": "library",
    "refine": "library",
    "step_test": "library",
    "summarize": "library",
    "RefineOptions": "refinement",
    "RefineResult": "refinement",
    "RefineRow": "refinement",
    "EpochVerdicts": "epoch_verdicts",
    "verdicts_by_epoch": "epoch_verdicts",
    "ERROR_COLUMNS": "settings",
    "NORMALIZE_CHOICES": "settings",
    "Settings": "settings",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> object:
    """Load a public name from its submodule on first use."""
    import importlib

    if name in _NAMES:
        return getattr(importlib.import_module(f"edftools.analysis.{_NAMES[name]}"), name)
    raise AttributeError(f"module 'edftools.analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names."""
    return sorted(_NAMES)
