"""Image datasets read lazily, one sample at a time: ImageFolder files and CIFAR pickles.

A :class:`~torch.utils.data.Dataset` here holds only an index (relative paths as one numpy
byte array and int32 labels for an ImageFolder: about 60 bytes per image, so ImageNet's 1.28M
images index in ~80 MB and forked DataLoader workers share it without copy-on-write; the uint8
pixels for CIFAR, 150 MB for all of CIFAR-100) and decodes and augments each sample on
request, in whatever DataLoader worker asks. Memory therefore does not grow with the number
of images read.

A sample is requested by ``(index, seed)``: the augmentation of that sample draws from
``numpy.random.default_rng(seed)``, so it is the same whichever worker, and however many
workers, decode it (:class:`~edftools.train.batches.EpochSampler` hands out the seeds). A
plain integer index means seed 0 (test views draw nothing).
"""

from __future__ import annotations

import functools
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edftools.errors import DatasetError
from edftools.train import transforms

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".tif", ".tiff")
CIFAR_LAYOUTS: dict[str, dict[str, Any]] = {
    "cifar10": {
        "folder": "cifar-10-batches-py",
        "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
        "test": ("test_batch",),
        "labels": b"labels",
        "classes": 10,
    },
    "cifar100": {
        "folder": "cifar-100-python",
        "train": ("train",),
        "test": ("test",),
        "labels": b"fine_labels",
        "classes": 100,
    },
}


def _key(key: Any) -> tuple[int, int]:
    if isinstance(key, tuple | list):
        return int(key[0]), int(key[1])
    return int(key), 0


class ImageFolderIndex:
    """The files of ``root/<split>/<class>/*`` (sorted), as numpy arrays, without decoding.

    ``classes`` are the sorted class folders of ``train/``; a ``val/`` class not in ``train/``
    is an error. Raises :class:`DatasetError` with one line for any layout problem.
    """

    def __init__(self, root: Path, split: str, classes: list[str] | None = None) -> None:
        split_dir = root / split
        if not split_dir.is_dir():
            raise DatasetError(f"imagefolder {str(root)!r} needs train/ and val/ subfolders")
        found = sorted(e.name for e in os.scandir(split_dir) if e.is_dir())
        if classes is None:
            classes = found
            if not classes:
                raise DatasetError(f"imagefolder {str(split_dir)!r} has no class folders")
        extra = sorted(set(found) - set(classes))
        if extra:
            raise DatasetError(f"imagefolder {split}/ has classes not in train/: {extra}")
        paths: list[bytes] = []
        labels: list[int] = []
        for label, cls in enumerate(classes):
            class_dir = split_dir / cls
            if not class_dir.is_dir():
                continue
            names = sorted(
                e.name
                for e in os.scandir(class_dir)
                if e.is_file() and os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES
            )
            paths += [f"{split}/{cls}/{n}".encode() for n in names]
            labels += [label] * len(names)
        if not paths:
            raise DatasetError(f"imagefolder {str(split_dir)!r} has no images ({IMAGE_SUFFIXES})")
        self.root, self.classes = root, classes
        self.paths = np.array(paths)  # one fixed-width byte array: no per-path objects
        self.labels = np.asarray(labels, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.labels)


@functools.cache
def torchvision_jpeg_decoder() -> Any:
    """torchvision's libjpeg-turbo decoder ``(path) -> uint8 (3, h, w) tensor``, or None.

    An optional fast path: torchvision's wheels are built against one torch build and often
    fail to import beside another (here: the CPU torch), so Pillow is the default decoder.
    """
    try:
        from torchvision.io import ImageReadMode, decode_jpeg, read_file
    except Exception:  # not installed, or built for another torch
        return None

    def decode(path: Path) -> torch.Tensor:
        return decode_jpeg(read_file(str(path)), mode=ImageReadMode.RGB)

    return decode


def open_rgb(path: Path) -> Any:
    """The image at ``path`` as a decoded Pillow RGB image (DatasetError when unreadable).

    JPEGs decode with :func:`torchvision_jpeg_decoder` when torchvision imports, else (and for
    other formats) with Pillow.
    """
    try:
        from PIL import Image
    except ImportError:
        raise DatasetError("the imagefolder dataset needs Pillow (pip install pillow)") from None
    try:
        decode = torchvision_jpeg_decoder()
        if decode is not None and path.suffix.lower() in (".jpg", ".jpeg"):
            return Image.fromarray(decode(path).permute(1, 2, 0).numpy())
        with Image.open(path) as im:
            return im.convert("RGB")
    except Exception as exc:  # report any unreadable image in one line
        raise DatasetError(f"imagefolder cannot read {str(path)!r}: {exc}") from None


class ImageFolderDataset(torch.utils.data.Dataset):
    """Lazily decoded ImageFolder images with pycls's train or test transform."""

    def __init__(self, index: ImageFolderIndex, size: int, train: bool, augment: bool) -> None:
        self.index, self.size, self.train, self.augment = index, size, train, augment

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, key: Any) -> tuple[torch.Tensor, int]:
        i, seed = _key(key)
        im = open_rgb(self.index.root / self.index.paths[i].decode())
        if self.train and self.augment:
            x = transforms.imagenet_train(im, self.size, np.random.default_rng(seed))
        else:
            x = transforms.imagenet_test(im, self.size)
        return torch.from_numpy(x), int(self.index.labels[i])


def read_cifar(root: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)`` of a CIFAR pickle folder, pixels uint8 NCHW.

    ``root`` is the ``cifar-10-batches-py`` / ``cifar-100-python`` folder or its parent.
    """
    layout = CIFAR_LAYOUTS[name]
    if (root / layout["folder"]).is_dir():
        root = root / layout["folder"]
    out = []
    for split in ("train", "test"):
        parts = [_read_cifar_file(root / f, name, layout) for f in layout[split]]
        out += [np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])]
    return out[0], out[1], out[2], out[3]


#: The only globals a CIFAR batch pickle may name: numpy arrays and dtypes (numpy 1 and 2
#: module paths, pickle protocols 2 to 5) and ``_codecs.encode`` (bytes in protocol 2).
CIFAR_PICKLE_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("_codecs", "encode"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }
)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR batch (dicts, lists, bytes, numpy arrays) and refuses any other
    global, so a crafted file in a dataset folder cannot run code when it is read."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in CIFAR_PICKLE_GLOBALS:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name} (a CIFAR batch holds only arrays, lists "
                "and bytes)"
            )
        return super().find_class(module, name)


def _read_cifar_file(file: Path, name: str, layout: dict) -> tuple[np.ndarray, np.ndarray]:
    files = ", ".join(layout["train"] + layout["test"])
    if not file.is_file():
        raise DatasetError(f"{name} file {str(file)!r} is missing (expected {files})")
    try:
        with file.open("rb") as fh:
            batch = _ArrayUnpickler(fh, encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[layout["labels"]], dtype=np.int64)
    except Exception as exc:  # any unreadable pickle is a layout error
        kind = "CIFAR-10" if name == "cifar10" else "CIFAR-100"
        raise DatasetError(f"{name} file {str(file)!r} is not a {kind} pickle: {exc}") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise DatasetError(f"{name} file {str(file)!r} has data of shape {data.shape}")
    top = layout["classes"] - 1
    if len(labels) and (labels.min() < 0 or labels.max() > top):
        raise DatasetError(f"{name} file {str(file)!r} has labels outside 0..{top}")
    return data.reshape(-1, 3, 32, 32), labels


def channel_stats(x: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of uint8 NCHW pixels scaled to [0, 1].

    Computed in float64 over chunks (no whole-set float copy); a channel with zero spread gets
    standard deviation 1.
    """
    total = np.zeros(x.shape[1])
    squares = np.zeros(x.shape[1])
    for lo in range(0, len(x), chunk):
        part = x[lo : lo + chunk].astype(np.float64) / 255.0
        total += part.sum(axis=(0, 2, 3))
        squares += (part * part).sum(axis=(0, 2, 3))
    count = len(x) * x.shape[2] * x.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean * mean, 0.0))
    std[std == 0] = 1.0
    return mean, std


class CifarDataset(torch.utils.data.Dataset):
    """CIFAR images from uint8 pixels: normalized per channel (train statistics), resized to
    ``size`` when it is not 32 (bilinear), with pycls's flip + pad-4 crop when training."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
        size: int,
        train: bool,
        augment: bool,
    ) -> None:
        self.x, self.y, self.mean, self.std = x, y, mean, std
        self.size, self.train, self.augment = size, train, augment

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, key: Any) -> tuple[torch.Tensor, int]:
        i, seed = _key(key)
        x = self.x[i].astype(np.float32) / np.float32(255.0)
        if self.size != x.shape[-1]:
            t = torch.nn.functional.interpolate(
                torch.from_numpy(x)[None],
                size=(self.size, self.size),
                mode="bilinear",
                antialias=True,
            )
            x = t[0].numpy()
        x = transforms.normalize_chw(x, self.mean, self.std)
        if self.train and self.augment:
            x = transforms.cifar_train(x, np.random.default_rng(seed))
        return torch.from_numpy(x), int(self.y[i])
