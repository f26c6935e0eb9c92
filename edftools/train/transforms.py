"""pycls's image transforms, on Pillow images and numpy arrays (no torch, no OpenCV).

Every random step takes a ``numpy.random.Generator``, so a sample's augmentation is fixed by
its seed whatever process (DataLoader worker) draws it.

ImageNet-style (``imagefolder``), as pycls's ``ImageNet._prepare_im``:

* train: :func:`random_resized_crop` (area fraction ``U(0.08, 1)`` of the image, aspect ratio
  ``U(3/4, 4/3)``, the two sides swapped with probability 1/2, up to 10 tries, else the test
  crop) to ``size x size``; horizontal flip with probability 1/2; pixels to [0, 1]; AlexNet PCA
  lighting noise (:func:`lighting`, ``alpha ~ N(0, 0.1)``); per-channel normalization with
  pycls's ImageNet mean and standard deviation.
* test: :func:`resize_shorter` to ``floor(size * 256 / 224)`` (pycls: ``TEST.IM_SIZE`` 256 for
  ``TRAIN.IM_SIZE`` 224), :func:`center_crop` to ``size``, the same normalization.

CIFAR-style, as pycls's ``Cifar10._prepare_im``: normalize, then (train) horizontal flip with
probability 1/2 and a random ``size x size`` crop of the image zero-padded by 4 pixels.
Resizing is bilinear (pycls uses OpenCV's ``INTER_LINEAR``; Pillow's bilinear filter
antialiases when it shrinks, so pixel values differ slightly from pycls's, the geometry not).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # Pillow is in the `train` extra, imported where an image is resized
    from PIL.Image import Image

# pycls's ImageNet statistics, given there in BGR order; here in RGB order, on [0, 1] pixels.
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
# AlexNet's PCA of ImageNet RGB pixels (pycls's _EIG_VALS / _EIG_VECS; rows are R, G, B).
IMAGENET_EIGVALS = np.array([0.2175, 0.0188, 0.0045])
IMAGENET_EIGVECS = np.array(
    [[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]]
)
LIGHTING_STD = 0.1
TEST_RESIZE_RATIO = 256 / 224
MIN_AREA_FRACTION = 0.08
CIFAR_PAD = 4


def eval_resize(size: int) -> int:
    """The shorter side before the center crop: ``floor(size * 256 / 224)`` (256 at 224)."""
    return math.floor(size * TEST_RESIZE_RATIO + 1e-9)


def random_resized_crop_box(
    rng: np.random.Generator, width: int, height: int, max_tries: int = 10
) -> tuple[int, int, int, int] | None:
    """pycls's Inception crop box ``(left, top, right, bottom)``, or None after ``max_tries``.

    Target area ``U(0.08, 1) * w * h`` and aspect ratio ``U(3/4, 4/3)``; crop sides
    ``round(sqrt(area * ratio))`` by ``round(sqrt(area / ratio))``, swapped with probability 1/2;
    kept if it fits, at a uniform offset.
    """
    area = width * height
    for _ in range(max_tries):
        target = rng.uniform(MIN_AREA_FRACTION, 1.0) * area
        ratio = rng.uniform(3.0 / 4.0, 4.0 / 3.0)
        w_crop = round(math.sqrt(target * ratio))
        h_crop = round(math.sqrt(target / ratio))
        if rng.uniform() < 0.5:
            w_crop, h_crop = h_crop, w_crop
        if 0 < h_crop <= height and 0 < w_crop <= width:
            y = 0 if h_crop == height else int(rng.integers(0, height - h_crop))
            x = 0 if w_crop == width else int(rng.integers(0, width - w_crop))
            return x, y, x + w_crop, y + h_crop
    return None


def center_box(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """The centered ``size x size`` box, offsets ``ceil((side - size) / 2)`` as pycls."""
    y = math.ceil((height - size) / 2)
    x = math.ceil((width - size) / 2)
    return x, y, x + size, y + size


def resize_shorter_size(width: int, height: int, shorter: int) -> tuple[int, int]:
    """``(w, h)`` with the shorter side ``shorter`` and the longer ``floor(long * s / short)``."""
    if width <= height:
        return shorter, math.floor(height / width * shorter)
    return math.floor(width / height * shorter), shorter


def imagenet_train(im: Image, size: int, rng: np.random.Generator) -> np.ndarray:
    """A Pillow RGB image → the pycls train crop as float32 ``(3, size, size)`` (normalized)."""
    from PIL.Image import Resampling

    box = random_resized_crop_box(rng, *im.size)
    resized = im.resize((size, size), Resampling.BILINEAR, box=box) if box else None
    out = _test_crop(im, size) if resized is None else resized
    x = np.asarray(out, dtype=np.float32)
    if rng.uniform() < 0.5:
        x = x[:, ::-1, :]
    x = x.transpose(2, 0, 1) / np.float32(255.0)
    x = lighting(x, rng)
    return normalize_chw(x, IMAGENET_MEAN, IMAGENET_STD)


def imagenet_test(im: Image, size: int) -> np.ndarray:
    """A Pillow RGB image → the pycls test view: shorter side to ``size·256/224``, center crop."""
    x = np.asarray(_test_crop(im, size), dtype=np.float32).transpose(2, 0, 1) / np.float32(255)
    return normalize_chw(x, IMAGENET_MEAN, IMAGENET_STD)


def _test_crop(im: Image, size: int) -> Image:
    from PIL.Image import Resampling

    shorter = max(size, eval_resize(size))
    w, h = resize_shorter_size(*im.size, shorter)
    if (w, h) != im.size:
        im = im.resize((w, h), Resampling.BILINEAR)
    return im.crop(center_box(w, h, size))


def lighting(x: np.ndarray, rng: np.random.Generator, std: float = LIGHTING_STD) -> np.ndarray:
    """AlexNet PCA noise on a ``(3, h, w)`` RGB array in [0, 1]:
    ``x_c += sum_k V[c, k] * alpha_k * lambda_k`` with ``alpha ~ N(0, std)``."""
    if std == 0:
        return x
    alpha = rng.normal(0.0, std, size=3)
    rgb = (IMAGENET_EIGVECS * (alpha * IMAGENET_EIGVALS)[None, :]).sum(axis=1)
    return x + rgb.astype(np.float32)[:, None, None]


def normalize_chw(x: np.ndarray, mean: Any, std: Any) -> np.ndarray:
    """Per-channel ``(x_c - mean_c) / std_c`` of a ``(C, h, w)`` array, as float32."""
    m = np.asarray(mean, dtype=np.float32)[:, None, None]
    s = np.asarray(std, dtype=np.float32)[:, None, None]
    return np.ascontiguousarray((x - m) / s, dtype=np.float32)


def cifar_train(x: np.ndarray, rng: np.random.Generator, pad: int = CIFAR_PAD) -> np.ndarray:
    """pycls's CIFAR train augmentation of a normalized ``(C, s, s)`` array: flip with
    probability 1/2, then a random ``s x s`` crop of the image zero-padded by ``pad``."""
    if rng.uniform() < 0.5:
        x = x[:, :, ::-1]
    s = x.shape[-1]
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    y0, x0 = (int(v) for v in rng.integers(0, 2 * pad, size=2))
    return np.ascontiguousarray(padded[:, y0 : y0 + s, x0 : x0 + s])
