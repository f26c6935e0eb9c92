"""Design spaces: network configs, exact complexity, RegNet generation, sampling and counts.

Imports only numpy and the standard library (no torch, no scipy): ``edftools sample`` must
start fast, so the counts (``space_table``) and the RegNet fit (``fit_regnet``,
``fit_regnet_batch``, ``RegNetFit``) load on first use.
"""

from edftools.spaces.catalog import get_space, list_spaces, space_from_dict
from edftools.spaces.complexity import (
    Complexity,
    ComplexityBatch,
    complexity,
    complexity_batch,
    complexity_of_configs,
)
from edftools.spaces.config import NetConfig, StageConfig, adjust_group_compatibility
from edftools.spaces.regnet import generate_regnet, regnet_config
from edftools.spaces.restrictions import Band, Fixed, Monotone, Range, Shared
from edftools.spaces.space import ParamSpec, SampleBatch, Space

__all__ = [
    "Band",
    "Complexity",
    "ComplexityBatch",
    "Fixed",
    "Monotone",
    "NetConfig",
    "ParamSpec",
    "Range",
    "RegNetFit",
    "SampleBatch",
    "Shared",
    "Space",
    "StageConfig",
    "adjust_group_compatibility",
    "complexity",
    "complexity_batch",
    "complexity_of_configs",
    "fit_regnet",
    "fit_regnet_batch",
    "generate_regnet",
    "get_space",
    "list_spaces",
    "regnet_config",
    "space_from_dict",
    "space_table",
]

_LAZY = {
    "space_table": "edftools.spaces.count",
    "RegNetFit": "edftools.spaces.regnet_fit",
    "fit_regnet": "edftools.spaces.regnet_fit",
    "fit_regnet_batch": "edftools.spaces.regnet_fit",
}


def __getattr__(name: str):
    """Load the counting and fitting modules on first use (PEP 562)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edftools.spaces' has no attribute {name!r}")
