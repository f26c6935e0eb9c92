"""Datasets held in memory as tensors: ``digits``, ``cifar10`` (local pickles), ``imagefolder``.

Images are float32 ``(N, C, H, W)`` tensors normalized per channel with the *train* split's
mean and standard deviation (``x' = (x - mean_c) / std_c``, pixels first scaled to [0, 1]);
labels are int64. Training draws batches by index permutation from these tensors (no
DataLoader), so small-data training is not bound by data loading.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from edftools.errors import DatasetError
from edftools.registry import dataset_kind

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".tif", ".tiff")


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


def load_dataset(
    name: str,
    path: str | Path | None = None,
    split_seed: int = 0,
    test_fraction: float = 1 / 3,
    resolution: int | None = None,
) -> LoadedDataset:
    """Load dataset ``name`` into memory.

    * ``digits``: scikit-learn's 1,797 8x8 digits (1 channel, pixels / 16), split stratified
      by class with ``split_seed``; ``test_fraction`` of the images (599 of 1,797 at 1/3) are
      the test set. ``path`` is ignored.
    * ``cifar10``: ``path`` holds ``data_batch_1`` ... ``data_batch_5`` and ``test_batch``
      (the python-pickle layout); 32x32 RGB, or resized to ``resolution``.
    * ``imagefolder``: ``path/train/<class>/*`` and ``path/val/<class>/*`` images (read with
      Pillow, RGB), resized to ``resolution`` (default 32); classes = sorted train folders.

    A missing path or a wrong layout raises :class:`DatasetError` with one line.
    """
    if name == "digits":
        return _load_digits(split_seed, test_fraction, resolution)
    dataset_kind(name)
    if path is None:
        raise DatasetError(f"dataset {name} needs a path")
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"{name} path {str(root)!r} is not a directory")
    if name == "cifar10":
        return _load_cifar10(root, resolution)
    return _load_imagefolder(root, 32 if resolution is None else resolution)


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


def _load_digits(split_seed: int, test_fraction: float, resolution: int | None) -> LoadedDataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise DatasetError(f"test_fraction must be in (0, 1), got {test_fraction}")
    _check_resolution(resolution)
    bunch = load_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_fraction, random_state=split_seed, stratify=y
    )
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


def _read_cifar_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    if not file.is_file():
        raise DatasetError(
            f"cifar10 file {str(file)!r} is missing (expected data_batch_1..5 and test_batch)"
        )
    try:
        with file.open("rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as exc:  # any unreadable pickle is a layout error
        raise DatasetError(f"cifar10 file {str(file)!r} is not a CIFAR-10 pickle: {exc}") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise DatasetError(f"cifar10 file {str(file)!r} has data of shape {data.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise DatasetError(f"cifar10 file {str(file)!r} has labels outside 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def _load_cifar10(root: Path, resolution: int | None) -> LoadedDataset:
    _check_resolution(resolution)
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    train = [_read_cifar_batch(root / f"data_batch_{i}") for i in range(1, 6)]
    x_te, y_te = _read_cifar_batch(root / "test_batch")
    x_tr = np.concatenate([b[0] for b in train])
    y_tr = np.concatenate([b[1] for b in train])
    x_tr = _resize(x_tr.astype(np.float32) / 255.0, resolution)
    x_te = _resize(x_te.astype(np.float32) / 255.0, resolution)
    xt_tr, xt_te = normalize(x_tr, x_te)
    return LoadedDataset(
        name="cifar10",
        x_train=xt_tr,
        y_train=torch.from_numpy(y_tr),
        x_test=xt_te,
        y_test=torch.from_numpy(y_te),
        num_classes=10,
        in_channels=3,
        resolution=x_tr.shape[-1],
    )


def _read_image_split(split_dir: Path, classes: list[str], resolution: int) -> tuple:
    try:
        from PIL import Image
    except ImportError:
        raise DatasetError("the imagefolder dataset needs Pillow (pip install pillow)") from None
    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, cls in enumerate(classes):
        class_dir = split_dir / cls
        if not class_dir.is_dir():
            raise DatasetError(f"imagefolder {str(split_dir)!r} lacks class folder {cls!r}")
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(file) as im:
                    im = im.convert("RGB").resize((resolution, resolution), Image.BILINEAR)
                    images.append(np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0)
            except Exception as exc:  # report any unreadable image in one line
                raise DatasetError(f"imagefolder cannot read {str(file)!r}: {exc}") from None
            labels.append(label)
    if not images:
        raise DatasetError(f"imagefolder {str(split_dir)!r} has no images ({IMAGE_SUFFIXES})")
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def _load_imagefolder(root: Path, resolution: int) -> LoadedDataset:
    _check_resolution(resolution)
    train_dir, val_dir = root / "train", root / "val"
    for d in (train_dir, val_dir):
        if not d.is_dir():
            raise DatasetError(f"imagefolder {str(root)!r} needs train/ and val/ subfolders")
    classes = sorted(p.name for p in train_dir.iterdir() if p.is_dir())
    if not classes:
        raise DatasetError(f"imagefolder {str(train_dir)!r} has no class folders")
    val_classes = sorted(p.name for p in val_dir.iterdir() if p.is_dir())
    extra = sorted(set(val_classes) - set(classes))
    if extra:
        raise DatasetError(f"imagefolder val/ has classes not in train/: {extra}")
    x_tr, y_tr = _read_image_split(train_dir, classes, resolution)
    x_te, y_te = _read_image_split(val_dir, val_classes, resolution)
    y_te = np.asarray([classes.index(val_classes[i]) for i in y_te], dtype=np.int64)
    xt_tr, xt_te = normalize(x_tr, x_te)
    return LoadedDataset(
        name="imagefolder",
        x_train=xt_tr,
        y_train=torch.from_numpy(y_tr),
        x_test=xt_te,
        y_test=torch.from_numpy(y_te),
        num_classes=len(classes),
        in_channels=3,
        resolution=resolution,
    )
