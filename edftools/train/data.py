"""Datasets: small ones held in memory as tensors, large ones streamed through a DataLoader.

:func:`load_dataset` returns either

* a :class:`LoadedDataset` (``digits``; ``cifar10``/``cifar100`` when they fit): float32
  ``(N, C, H, W)`` tensors normalized per channel with the *train* split's mean and standard
  deviation (``x' = (x - mean_c) / std_c``, pixels first scaled to [0, 1]), int64 labels;
  training draws batches by index permutation from them (no DataLoader), so small-data
  training is not bound by data loading; or
* a :class:`StreamingDataset` (``imagefolder``; CIFAR above :data:`MEMORY_LIMIT_BYTES` or with
  ``loader = "stream"``): two lazily decoding datasets (:mod:`edftools.train.image_data`) that
  the trainer reads through a :class:`torch.utils.data.DataLoader` with worker processes, so
  memory does not grow with the number of images (ImageNet-scale folders).

The training loop sees batches either way (:mod:`edftools.train.batches`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edftools.errors import DatasetError
from edftools.registry import DATASET_KINDS, LOADERS, dataset_kind
from edftools.train import image_data
from edftools.train.environment import usable_cores
from edftools.train.image_data import IMAGE_SUFFIXES, ImageFolderIndex

__all__ = [
    "IMAGE_SUFFIXES",
    "MEMORY_LIMIT_BYTES",
    "LoadedDataset",
    "StreamingDataset",
    "load_dataset",
]

MEMORY_LIMIT_BYTES = 2**30
"""A CIFAR split set whose float32 tensors (train + test) exceed this streams instead."""


@dataclass(frozen=True, eq=False)
class LoadedDataset:
    """A train/test split in memory: images ``(N, C, H, W)`` float32, labels ``(N,)`` int64."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    in_channels: int
    resolution: int
    augment: bool = False  # CIFAR: pycls's flip + pad-4 crop per training batch

    def __post_init__(self) -> None:
        shape = (self.in_channels, self.resolution, self.resolution)
        splits = (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test))
        for split, x, y in splits:
            if x.ndim != 4 or tuple(x.shape[1:]) != shape:
                raise DatasetError(f"{self.name} {split} images have shape {tuple(x.shape)}")
            if y.ndim != 1 or len(y) != len(x) or len(x) == 0:
                raise DatasetError(f"{self.name} {split} has {len(x)} images, {len(y)} labels")

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        return len(self.y_test)


@dataclass(frozen=True, eq=False)
class StreamingDataset:
    """A train/test split read lazily: ``train`` and ``test`` are torch Datasets whose items
    are ``(float32 (C, H, W) tensor, label)``; ``workers`` DataLoader worker processes."""

    name: str
    train: Any
    test: Any
    num_classes: int
    in_channels: int
    resolution: int
    workers: int = 0

    @property
    def n_train(self) -> int:
        return len(self.train)

    @property
    def n_test(self) -> int:
        return len(self.test)


def default_loader_workers() -> int:
    """DataLoader workers when a recipe does not say: ``min(8, usable cores)``."""
    return max(1, min(8, usable_cores()))


def load_dataset(
    name: str,
    path: str | Path | None = None,
    split_seed: int = 0,
    test_fraction: float = 1 / 3,
    resolution: int | None = None,
    augment: bool = True,
    loader: str = "auto",
    loader_workers: int | None = None,
) -> LoadedDataset | StreamingDataset:
    """Load dataset ``name`` (its options are those of :mod:`edftools.registry`).

    * ``digits``: scikit-learn's 1,797 8x8 digits (1 channel, pixels / 16), split stratified
      by class with ``split_seed``; ``test_fraction`` of the images (599 of 1,797 at 1/3) are
      the test set. In memory; ``path`` is ignored; no augmentation.
    * ``cifar10`` / ``cifar100``: ``path`` holds the python-pickle layout
      (``cifar-10-batches-py``: ``data_batch_1..5``, ``test_batch``; ``cifar-100-python``:
      ``train``, ``test``, fine labels); 32x32 RGB, or resized to ``resolution``; normalized
      with the train split's per-channel statistics; with ``augment`` pycls's training
      augmentation (flip, 4-pixel padded crop). ``loader``: ``memory`` (tensors), ``stream``
      (DataLoader), or ``auto``: memory when the float32 tensors fit in
      :data:`MEMORY_LIMIT_BYTES`.
    * ``imagefolder``: ``path/train/<class>/*`` and ``path/val/<class>/*`` images (Pillow,
      RGB; classes = sorted train folders), always streamed, at ``resolution`` (default 224)
      with pycls's ImageNet transforms (:mod:`edftools.train.transforms`).

    ``loader_workers``: DataLoader worker processes (default :func:`default_loader_workers`);
    it does not change the batches. A missing path or a wrong layout raises
    :class:`DatasetError` with one line.
    """
    if name == "digits":
        return _load_digits(split_seed, test_fraction, resolution)
    dataset_kind(name)
    if path is None:
        raise DatasetError(f"dataset {name} needs a path")
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"{name} path {str(root)!r} is not a directory")
    _check_resolution(resolution)
    if loader not in LOADERS:
        raise DatasetError(f"loader must be one of {', '.join(LOADERS)}, got {loader!r}")
    if loader_workers is not None and (isinstance(loader_workers, bool) or loader_workers < 0):
        raise DatasetError(f"loader_workers must be >= 0, got {loader_workers!r}")
    workers = default_loader_workers() if loader_workers is None else int(loader_workers)
    if name in image_data.CIFAR_LAYOUTS:
        return _load_cifar(root, name, resolution, augment, loader, workers)
    if loader == "memory":
        raise DatasetError("imagefolder is always streamed; use loader = 'auto' or 'stream'")
    size = DATASET_KINDS[name].resolution if resolution is None else resolution
    return _load_imagefolder(root, size, augment, workers)


def normalize(x_train: np.ndarray, x_test: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel standardization with train statistics: ``(x - mean_c) / std_c``.

    Inputs are ``(N, C, H, W)`` arrays scaled to [0, 1]; a channel with zero spread keeps
    ``std_c = 1``.
    """
    mean = x_train.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    std = x_train.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    std[std == 0] = 1.0
    out = [torch.from_numpy(((x - mean) / std).astype(np.float32)) for x in (x_train, x_test)]
    return out[0].contiguous(), out[1].contiguous()


def _resize(x: np.ndarray, resolution: int | None) -> np.ndarray:
    if resolution is None or resolution == x.shape[-1]:
        return x
    t = torch.nn.functional.interpolate(
        torch.from_numpy(x), size=(resolution, resolution), mode="bilinear", antialias=True
    )
    return t.numpy()


def _check_resolution(resolution: int | None) -> None:
    if resolution is not None and resolution < 1:
        raise DatasetError(f"resolution must be >= 1, got {resolution}")


def digits_split(split_seed: int, test_fraction: float) -> tuple[np.ndarray, ...]:
    """scikit-learn's digits as ``(x_train, x_test, y_train, y_test)``: pixels / 16 as float32
    ``(N, 1, 8, 8)``, int64 labels, ``train_test_split(..., stratify=y)`` with ``split_seed``.

    Cached as an ``.npz`` in :func:`cache_dir` per scikit-learn version, seed and fraction (the
    same arrays, bit for bit): importing scikit-learn costs a sweep worker 1.5-3.3 s, reading
    the cache a few milliseconds. Without a writable cache folder the split is made each time.
    """
    from importlib.metadata import version

    name = f"digits-{version('scikit-learn')}-{split_seed}-{test_fraction!r}.npz"
    cached = cache_dir() / name
    with contextlib.suppress(OSError, ValueError, KeyError), np.load(cached) as z:
        return tuple(z[k] for k in DIGITS_ARRAYS)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    arrays = tuple(
        train_test_split(x, y, test_size=test_fraction, random_state=split_seed, stratify=y)
    )
    with contextlib.suppress(OSError):  # atomic: a concurrent reader sees all or nothing
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, **dict(zip(DIGITS_ARRAYS, arrays, strict=True)))
        os.replace(tmp, cached)
    return arrays


DIGITS_ARRAYS = ("x_train", "x_test", "y_train", "y_test")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/edftools`` (default ``~/.cache/edftools``): derived files only,
    safe to delete."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "edftools"


def _load_digits(split_seed: int, test_fraction: float, resolution: int | None) -> LoadedDataset:
    if not 0 < test_fraction < 1:
        raise DatasetError(f"test_fraction must be in (0, 1), got {test_fraction}")
    _check_resolution(resolution)
    x_tr, x_te, y_tr, y_te = digits_split(split_seed, test_fraction)
    x_tr, x_te = _resize(x_tr, resolution), _resize(x_te, resolution)
    xt_tr, xt_te = normalize(x_tr, x_te)
    return LoadedDataset(
        name="digits",
        x_train=xt_tr,
        y_train=torch.from_numpy(y_tr),
        x_test=xt_te,
        y_test=torch.from_numpy(y_te),
        num_classes=10,
        in_channels=1,
        resolution=x_tr.shape[-1],
    )


def _load_cifar(
    root: Path, name: str, resolution: int | None, augment: bool, loader: str, workers: int
) -> LoadedDataset | StreamingDataset:
    x_tr, y_tr, x_te, y_te = image_data.read_cifar(root, name)
    classes = image_data.CIFAR_LAYOUTS[name]["classes"]
    size = 32 if resolution is None else resolution
    tensor_bytes = (len(x_tr) + len(x_te)) * 3 * size * size * 4
    if loader == "memory" or (loader == "auto" and tensor_bytes <= MEMORY_LIMIT_BYTES):
        f_tr = _resize(x_tr.astype(np.float32) / 255.0, resolution)
        f_te = _resize(x_te.astype(np.float32) / 255.0, resolution)
        xt_tr, xt_te = normalize(f_tr, f_te)
        return LoadedDataset(
            name=name,
            x_train=xt_tr,
            y_train=torch.from_numpy(y_tr),
            x_test=xt_te,
            y_test=torch.from_numpy(y_te),
            num_classes=classes,
            in_channels=3,
            resolution=f_tr.shape[-1],
            augment=augment,
        )
    mean, std = image_data.channel_stats(x_tr)
    sets = [
        image_data.CifarDataset(x, y, mean, std, size, train, augment)
        for x, y, train in ((x_tr, y_tr, True), (x_te, y_te, False))
    ]
    return StreamingDataset(name, sets[0], sets[1], classes, 3, size, workers)


def _load_imagefolder(root: Path, size: int, augment: bool, workers: int) -> StreamingDataset:
    if not (root / "train").is_dir() or not (root / "val").is_dir():
        raise DatasetError(f"imagefolder {str(root)!r} needs train/ and val/ subfolders")
    folders = {s: {p.name for p in (root / s).iterdir() if p.is_dir()} for s in ("train", "val")}
    extra = sorted(folders["val"] - folders["train"])
    if extra:
        raise DatasetError(f"imagefolder val/ has classes not in train/: {extra}")
    train = ImageFolderIndex(root, "train")
    test = ImageFolderIndex(root, "val", classes=train.classes)
    return StreamingDataset(
        "imagefolder",
        image_data.ImageFolderDataset(train, size, True, augment),
        image_data.ImageFolderDataset(test, size, False, augment),
        num_classes=len(train.classes),
        in_channels=3,
        resolution=size,
        workers=workers,
    )
