"""edftools: design-space analysis of neural network architectures.

Sample networks from design spaces at a controlled complexity, train them cheaply, store every
result in DuckDB and compare the spaces' error distributions (EDFs) with proper statistics.

The library is re-exported here and loaded lazily (``import edftools`` stays fast and never
imports torch): DataFrames in, result objects, tables and matplotlib Axes out::

    import edftools
    res = edftools.refine(df, ["A", "B", "C"], complexity="flops")   # df: space, error, flops
    res.to_frame()                                                   # one row per space
    edftools.compare(data=df, a="A", b="B", complexity="latency_ms")
    edftools.plot.edf(data=df, hue="space", complexity="flops", ax=ax)
    edftools.edf(errors, weights)                                    # and arrays, as ever

The subpackages (``edftools.analysis``, ``edftools.plot``, ``edftools.spaces``,
``edftools.stats``, ``edftools.store``, ``edftools.report``) also load on first attribute
access; ``edftools.train`` and ``edftools.models`` import torch (the ``train`` extra).
"""

__version__ = "0.1.0"

#: The public API: each name and the module it is re-exported from (to add one, add its name
#: here; it must be a public name of that module).
_API: dict[str, str] = {
    "refine": "edftools.analysis",
    "verdicts_by_epoch": "edftools.analysis",
    "compare": "edftools.analysis",
    "generalize": "edftools.analysis",
    "summarize": "edftools.analysis",
    "edf_band": "edftools.analysis",
    "step_test": "edftools.analysis",
    "plan": "edftools.analysis",
    "Settings": "edftools.analysis",
    "edf": "edftools.stats",
    "normalize_weights": "edftools.stats",
    "good_range": "edftools.stats",
    "trend": "edftools.stats",
    "power": "edftools.stats",
}

#: Subpackages reachable as attributes (``edftools.spaces.get_space``), imported on first use.
_SUBPACKAGES: tuple[str, ...] = (
    "analysis",
    "errors",
    "plot",
    "report",
    "spaces",
    "stats",
    "store",
)

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> object:
    """Load an :data:`_API` name, or a subpackage, on first use."""
    import importlib

    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"edftools.{name}")
    raise AttributeError(f"module 'edftools' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names: the API, the subpackages, ``__version__``."""
    return sorted({*_API, *_SUBPACKAGES, "__version__"})
