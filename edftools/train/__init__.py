"""Training: datasets in memory, the training loop, and (in submodules) sweeps and executors.

The names below are loaded lazily, so ``import edftools.train`` does not import torch until a
torch-backed name is used. The schedule is recipe content and lives in :mod:`edftools.recipe`::

    from edftools.recipe import TrainSchedule
    from edftools.train import load_dataset, train_network
    data = load_dataset("digits")
    result = train_network(cfg, data, TrainSchedule(epochs=10), seed=0)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "LoadedDataset": "edftools.train.data",
    "StreamingDataset": "edftools.train.data",
    "load_dataset": "edftools.train.data",
    "DATASETS": "edftools.registry",
    "train_network": "edftools.train.loop",
    "check_compatible": "edftools.train.loop",
    "resolve_device": "edftools.train.loop",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'edftools.train' has no attribute {name!r}")
