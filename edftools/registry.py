"""The datasets and devices a run can train on: one registry for recipe validation and training.

Torch-free, so a recipe is validated without importing torch. :mod:`edftools.recipe` checks a
recipe's ``dataset`` and ``device`` against it, and :mod:`edftools.train` loads and places data
through the same names, so the two can never disagree about what exists.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edftools.errors import ConfigError, DatasetError


@dataclass(frozen=True)
class DatasetKind:
    """A dataset kind: its name, whether it reads a local ``path``, and its option keys.

    ``runtime_options`` are options that change how fast data arrives but not what a run
    computes (DataLoader workers): they are not part of a run's identity.
    """

    name: str
    needs_path: bool
    options: tuple[str, ...]
    description: str
    runtime_options: tuple[str, ...] = ()
    in_channels: int = 3
    num_classes: int | None = None  # None: counted from the data (imagefolder's class folders)
    resolution: int = 224  # without a ``resolution`` option


LOADERS: tuple[str, ...] = ("auto", "memory", "stream")
"""How an image dataset reaches the trainer: ``memory`` (tensors), ``stream`` (DataLoader) or
``auto`` (CIFAR in memory when it fits; ImageFolder always streams)."""

_IMAGE_OPTIONS = ("resolution", "augment", "loader", "loader_workers")


DATASET_KINDS: dict[str, DatasetKind] = {
    kind.name: kind
    for kind in (
        DatasetKind(
            "digits",
            False,
            ("split_seed", "test_fraction", "resolution"),
            "scikit-learn's 1,797 8x8 digits (bundled, no download)",
            in_channels=1,
            num_classes=10,
            resolution=8,
        ),
        DatasetKind(
            "cifar10",
            True,
            _IMAGE_OPTIONS,
            "a local cifar-10-batches-py folder (python pickles)",
            ("loader_workers",),
            num_classes=10,
            resolution=32,
        ),
        DatasetKind(
            "cifar100",
            True,
            _IMAGE_OPTIONS,
            "a local cifar-100-python folder (python pickles, fine labels)",
            ("loader_workers",),
            num_classes=100,
            resolution=32,
        ),
        DatasetKind(
            "imagefolder",
            True,
            _IMAGE_OPTIONS,
            "a local folder with train/<class>/* and val/<class>/* images (streamed)",
            ("loader_workers",),
        ),
    )
}
DATASETS: tuple[str, ...] = tuple(DATASET_KINDS)

DEVICE_TYPES: tuple[str, ...] = ("cpu", "cuda")
_DEVICE_RE = re.compile(r"^(cpu|cuda(:[0-9]+)?)$")


def dataset_kind(name: str) -> DatasetKind:
    """The registered :class:`DatasetKind` called ``name``, or :class:`DatasetError`."""
    try:
        return DATASET_KINDS[name]
    except KeyError:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


#: The network settings a dataset defines (a catalog space takes them unless it sets them).
INPUT_KEYS: tuple[str, ...] = ("in_channels", "num_classes", "resolution")


def dataset_input(
    name: str, path: str | None = None, options: Mapping[str, Any] | None = None
) -> dict[str, int]:
    """``{in_channels, num_classes, resolution}`` of a dataset, without loading it.

    ``resolution``: the ``resolution`` option, else the kind's native/default size; the
    classes of ``imagefolder``: its ``train/`` class folders, counted (left out when the folder
    cannot be read: the dataset check before training reports that).
    """
    kind = dataset_kind(name)
    opts = dict(options or {})
    out = {"in_channels": kind.in_channels, "resolution": opts.get("resolution", kind.resolution)}
    classes = kind.num_classes
    if classes is None and path is not None:
        try:
            classes = sum(e.is_dir() for e in os.scandir(os.path.join(path, "train"))) or None
        except OSError:
            classes = None
    if classes is not None:
        out["num_classes"] = classes
    return out


def check_device(device: str) -> str:
    """``device`` if it names a supported device (``cpu``, ``cuda``, ``cuda:N``), else
    :class:`ConfigError`. Whether a CUDA device is present is checked by the trainer."""
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise ConfigError(f"device {device!r} is not supported; use cpu, cuda or cuda:N")
    return device
