"""Datasets: digits (fixed stratified split), cifar10 pickles and imagefolder, error cases."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from edftools.errors import DatasetError
from edftools.train.data import LoadedDataset, StreamingDataset, load_dataset


@pytest.fixture(scope="module")
def digits() -> LoadedDataset:
    return load_dataset("digits")


def test_digits_shapes_and_split(digits: LoadedDataset) -> None:
    assert (digits.n_train, digits.n_test) == (1198, 599)  # a third of 1,797 for testing
    assert tuple(digits.x_train.shape) == (1198, 1, 8, 8)
    assert tuple(digits.x_test.shape) == (599, 1, 8, 8)
    assert digits.x_train.dtype == torch.float32 and digits.y_train.dtype == torch.int64
    assert (digits.num_classes, digits.in_channels, digits.resolution) == (10, 1, 8)
    # standardized with train statistics
    assert digits.x_train.mean().item() == pytest.approx(0, abs=1e-5)
    assert digits.x_train.std().item() == pytest.approx(1, abs=1e-3)
    # stratified: every class has about a third of its images in the test split
    test_counts = torch.bincount(digits.y_test, minlength=10).numpy()
    all_counts = test_counts + torch.bincount(digits.y_train, minlength=10).numpy()
    assert np.all(np.abs(test_counts - all_counts / 3) <= 1)


def test_digits_split_is_fixed_by_seed(digits: LoadedDataset) -> None:
    again = load_dataset("digits", split_seed=0)
    assert torch.equal(again.x_test, digits.x_test) and torch.equal(again.y_train, digits.y_train)
    other = load_dataset("digits", split_seed=1)
    assert not torch.equal(other.y_test, digits.y_test)
    half = load_dataset("digits", test_fraction=0.5)
    assert abs(half.n_test - 1797 / 2) <= 1


def test_digits_resized() -> None:
    data = load_dataset("digits", resolution=16)
    assert tuple(data.x_train.shape[1:]) == (1, 16, 16) and data.resolution == 16


def write_cifar(root: Path, per_batch: int = 4, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, per_batch).tolist(),
            b"batch_label": name.encode(),
        }
        with (root / name).open("wb") as fh:
            pickle.dump(batch, fh)


def test_cifar10_pickles(tmp_path: Path) -> None:
    write_cifar(tmp_path)
    data = load_dataset("cifar10", path=tmp_path)
    assert tuple(data.x_train.shape) == (20, 3, 32, 32)
    assert tuple(data.x_test.shape) == (4, 3, 32, 32)
    assert (data.num_classes, data.in_channels, data.resolution) == (10, 3, 32)
    # channel-major layout: the first 1024 bytes are the red plane of image 0
    with (tmp_path / "data_batch_1").open("rb") as fh:
        raw = pickle.load(fh, encoding="bytes")[b"data"][0, :1024].reshape(32, 32) / 255.0
    red = data.x_train[0, 0].numpy()
    corr = np.corrcoef(red.ravel(), raw.ravel())[0, 1]
    assert corr == pytest.approx(1.0, abs=1e-6)
    small = load_dataset("cifar10", path=tmp_path, resolution=16)
    assert tuple(small.x_test.shape) == (4, 3, 16, 16)


def test_cifar10_nested_folder(tmp_path: Path) -> None:
    write_cifar(tmp_path / "cifar-10-batches-py")
    assert load_dataset("cifar10", path=str(tmp_path)).n_train == 20


def test_cifar10_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="needs a path"):
        load_dataset("cifar10")
    with pytest.raises(DatasetError, match="not a directory"):
        load_dataset("cifar10", path=tmp_path / "nope")
    write_cifar(tmp_path)
    (tmp_path / "test_batch").unlink()
    with pytest.raises(DatasetError, match=r"test_batch.*missing"):
        load_dataset("cifar10", path=tmp_path)
    (tmp_path / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(DatasetError, match="not a CIFAR-10 pickle"):
        load_dataset("cifar10", path=tmp_path)
    with (tmp_path / "test_batch").open("wb") as fh:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, fh)
    with pytest.raises(DatasetError, match="shape"):
        load_dataset("cifar10", path=tmp_path)


def write_imagefolder(root: Path, classes=("cat", "dog"), n: int = 3) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for k, cls in enumerate(classes):
            d = root / split / cls
            d.mkdir(parents=True)
            for i in range(n):
                pixels = rng.integers(0, 256, (10 + i, 12, 3), dtype=np.uint8)
                pixels[..., 0] = 255 * k  # class k has a constant red channel
                Image.fromarray(pixels).save(d / f"{i}.png")
            (d / "notes.txt").write_text("ignored")


def test_imagefolder(tmp_path: Path) -> None:
    write_imagefolder(tmp_path)
    data = load_dataset("imagefolder", path=tmp_path, resolution=8, loader_workers=0)
    assert isinstance(data, StreamingDataset)  # an ImageFolder always streams
    assert (data.n_train, data.n_test) == (6, 6)
    assert (data.num_classes, data.in_channels, data.resolution) == (2, 3, 8)
    views = [data.test[i] for i in range(6)]
    assert all(tuple(x.shape) == (3, 8, 8) and x.dtype == torch.float32 for x, _ in views)
    assert [y for _, y in views] == [0, 0, 0, 1, 1, 1]
    assert [data.train[(i, 7)][1] for i in range(6)] == [0, 0, 0, 1, 1, 1]
    red = torch.stack([x[0].mean() for x, _ in views])
    assert torch.all(red[:3] < red[3:])


def test_imagefolder_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="needs a path"):
        load_dataset("imagefolder")
    (tmp_path / "train" / "a").mkdir(parents=True)
    with pytest.raises(DatasetError, match="train/ and val/"):
        load_dataset("imagefolder", path=tmp_path)
    (tmp_path / "val" / "a").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no images"):
        load_dataset("imagefolder", path=tmp_path)
    (tmp_path / "val" / "b").mkdir()
    with pytest.raises(DatasetError, match="not in train"):
        load_dataset("imagefolder", path=tmp_path)
    (tmp_path / "val" / "b").rmdir()
    (tmp_path / "train" / "a" / "broken.png").write_bytes(b"not an image")
    (tmp_path / "val" / "a" / "broken.png").write_bytes(b"not an image")
    data = load_dataset("imagefolder", path=tmp_path)  # images are read lazily
    with pytest.raises(DatasetError, match="cannot read"):
        data.train[0]


def test_unknown_dataset_and_bad_arguments() -> None:
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset("mnist")
    with pytest.raises(DatasetError, match="test_fraction"):
        load_dataset("digits", test_fraction=1.0)
    with pytest.raises(DatasetError, match="resolution"):
        load_dataset("digits", resolution=0)


def test_loaded_dataset_checks_shapes() -> None:
    x, y = torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(DatasetError, match="shape"):
        LoadedDataset("d", x, y, x, y, num_classes=2, in_channels=3, resolution=8)
    with pytest.raises(DatasetError, match="labels"):
        LoadedDataset("d", x, y[:3], x, y, num_classes=2, in_channels=1, resolution=8)


def test_digits_split_cache_is_the_split_bit_for_bit(tmp_path, monkeypatch) -> None:
    """The cached digits arrays are exactly scikit-learn's split; a second load reads them."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from edftools.train.data import cache_dir, digits_split

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    bunch = load_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[:, None, :, :]
    want = train_test_split(x, bunch.target.astype(np.int64), test_size=1 / 3, random_state=3,
                            stratify=bunch.target)  # fmt: skip
    first = digits_split(3, 1 / 3)
    assert len(list(cache_dir().glob("digits-*-3-*.npz"))) == 1
    again = digits_split(3, 1 / 3)
    for w, a, b in zip(want, first, again, strict=True):
        assert w.dtype == a.dtype == b.dtype and np.array_equal(w, a) and np.array_equal(w, b)
