"""edftools: design-space analysis of neural network architectures.

Sample networks from design spaces at a controlled complexity, train them cheaply, store every
result in DuckDB and compare the spaces' error distributions (EDFs) with proper statistics.

The statistics API is re-exported here and loaded lazily (``import edftools`` stays fast and
never imports torch)::

    import edftools
    res = edftools.edf(errors, weights)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_STATS_EXPORTS = (
    "edf",
    "normalize_weights",
    "edf_band",
    "step_test",
    "plan",
    "compare",
    "summarize",
    "good_range",
    "trend",
    "power",
)

__all__ = ["__version__", *_STATS_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _STATS_EXPORTS:
        return getattr(importlib.import_module("edftools.stats"), name)
    raise AttributeError(f"module 'edftools' has no attribute {name!r}")
