"""A CIFAR batch is unpickled with an allow-list: arrays, lists and bytes load (every pickle
protocol), a crafted file that names any other global is refused before it can run."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from edftools.errors import DatasetError
from edftools.train.image_data import read_cifar

NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _write(root: Path, protocol: int) -> None:
    rng = np.random.default_rng(protocol)
    for name in NAMES:
        batch = {
            b"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, 3).tolist(),
            b"batch_label": name.encode(),
        }
        (root / name).write_bytes(pickle.dumps(batch, protocol=protocol))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_protocol_of_a_genuine_batch_loads(tmp_path: Path, protocol: int) -> None:
    _write(tmp_path, protocol)
    x_train, y_train, x_test, _ = read_cifar(tmp_path, "cifar10")
    assert x_train.shape == (15, 3, 32, 32) and x_test.shape == (3, 3, 32, 32)
    assert y_train.dtype == np.int64


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # what a crafted pickle does: call a function on load
        return (os.mkdir, (str(self.marker),))


def test_a_crafted_batch_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    _write(tmp_path, 4)
    marker = tmp_path / "pwned"
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": _Payload(marker), b"labels": [0]}))
    with pytest.raises(DatasetError, match=r"refused to load posix\.mkdir"):
        read_cifar(tmp_path, "cifar10")
    assert not marker.exists()
