"""Design spaces: network configs, exact complexity, RegNet generation, sampling and counts.

Imports only numpy and the standard library (no torch, scipy or pandas): ``edftools sample``
must start fast. Every import of the package is at module top and its modules form an acyclic
graph (``tests/spaces/test_import_graph.py``), bottom up: config, params, sampling; complexity,
regnet, regnet_fit_rows; restrictions, regnet_fit, regnet_count; definition (a space's data);
band_sampler, naive (the samplers); space (``Space`` = definition + sampling); catalog; count.
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
from edftools.spaces.count import space_table
from edftools.spaces.regnet import generate_regnet, regnet_config
from edftools.spaces.regnet_fit import RegNetFit, fit_regnet, fit_regnet_batch
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
