"""edftools: design-space analysis of neural network architectures.

Sample networks from design spaces at a controlled complexity, train them cheaply, store every
result in DuckDB and compare the spaces' error distributions (EDFs) with proper statistics.

The statistics API is re-exported here and loaded lazily (``import edftools`` stays fast and
never imports torch)::

    import edftools
    res = edftools.edf(errors, weights)

The subpackages (``edftools.spaces``, ``edftools.stats``, ``edftools.store``,
``edftools.report``) also load on first attribute access; ``edftools.train`` and
``edftools.models`` import torch.
"""

__version__ = "0.1.0"

#: The public API: functions of :mod:`edftools.stats` re-exported here (to add one, append its
#: name; it must be a public name of ``edftools.stats``).
_API: tuple[str, ...] = (
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

#: Subpackages reachable as attributes (``edftools.spaces.get_space``), imported on first use.
_SUBPACKAGES: tuple[str, ...] = ("errors", "report", "spaces", "stats", "store")

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> object:
    """Load an :data:`_API` function from :mod:`edftools.stats`, or a subpackage, on first use."""
    import importlib

    if name in _API:
        return getattr(importlib.import_module("edftools.stats"), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"edftools.{name}")
    raise AttributeError(f"module 'edftools' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names: the API functions, the subpackages, ``__version__``."""
    return sorted({*_API, *_SUBPACKAGES, "__version__"})
