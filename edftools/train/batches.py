"""Where the training loop's batches come from: tensors in memory, or a DataLoader stream.

Both sources give the loop the same three things: ``len(source)`` batches per epoch,
``source.train(epoch)`` yielding ``(x, y)`` on the device, ``source.test()`` likewise.

* :class:`MemoryBatches` (digits; CIFAR when it fits): the whole split lives on the device as
  one float32 tensor and an epoch is ``torch.randperm(n, generator)`` cut into batches of
  ``batch_size`` (the last partial batch dropped, as pycls; a set smaller than one batch is one
  batch). The generator is seeded with the run's seed. CIFAR's pycls augmentation (flip, then
  a crop of the 4-pixel zero-padded image) is drawn per batch from a second generator.
* :class:`StreamBatches` (ImageFolder, large CIFAR): a :class:`torch.utils.data.DataLoader`
  with worker processes, pinned memory and non-blocking copies on CUDA. :class:`EpochSampler`
  orders an epoch by ``randperm`` of a generator seeded with ``(seed, epoch)`` and gives every
  sample its own augmentation seed, so the batches of a run are the same whatever the number
  of loader workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator
from typing import Any

import torch

from edftools.train.transforms import CIFAR_PAD

SEED_BITS = 62


class MemoryBatches:
    """Batches from in-memory tensors (module docstring)."""

    def __init__(
        self,
        data: Any,
        dev: torch.device,
        batch_size: int,
        eval_batch_size: int,
        seed: int,
        augment: bool = False,
    ) -> None:
        self.dev, self.eval_batch_size, self.augment = dev, eval_batch_size, augment
        self.x_train, self.y_train = data.x_train.to(dev), data.y_train.to(dev)
        self.x_test, self.y_test = data.x_test.to(dev), data.y_test.to(dev)
        self.n_train, self.n_test = len(self.y_train), len(self.y_test)
        self.generator = torch.Generator().manual_seed(seed)
        self.aug_generator = torch.Generator().manual_seed(seed + 1) if augment else None
        n, bs = self.n_train, batch_size
        self.bounds = [(i * bs, (i + 1) * bs) for i in range(n // bs)] or [(0, n)]

    def __len__(self) -> int:
        return len(self.bounds)

    def train(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of shuffled batches (``epoch`` is implied by the generator's state)."""
        perm = torch.randperm(self.n_train, generator=self.generator).to(self.dev)
        for lo, hi in self.bounds:
            idx = perm[lo:hi]
            xb = self.x_train[idx]
            if self.augment:
                xb = self._flip_and_crop(xb)
            yield xb, self.y_train[idx]

    def test(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The test split in order, ``eval_batch_size`` at a time."""
        ebs = self.eval_batch_size
        for lo in range(0, self.n_test, ebs):
            yield self.x_test[lo : lo + ebs], self.y_test[lo : lo + ebs]

    def _flip_and_crop(self, xb: torch.Tensor) -> torch.Tensor:
        """pycls's CIFAR augmentation for a batch: per image a flip with probability 1/2 and
        an ``s x s`` window of the image zero-padded by 4, at offsets uniform in 0..7."""
        n, _, s, _ = xb.shape
        g, pad = self.aug_generator, CIFAR_PAD
        flip = (torch.rand(n, generator=g) < 0.5).to(self.dev)
        xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
        offsets = torch.randint(0, 2 * pad, (n, 2), generator=g).to(self.dev)
        padded = torch.nn.functional.pad(xb, (pad, pad, pad, pad))
        ar = torch.arange(s, device=self.dev)
        rows = (offsets[:, 0, None] + ar)[:, None, :, None]
        cols = (offsets[:, 1, None] + ar)[:, None, None, :]
        batch = torch.arange(n, device=self.dev)[:, None, None, None]
        chans = torch.arange(xb.shape[1], device=self.dev)[None, :, None, None]
        return padded[batch, chans, rows, cols]


class EpochSampler(torch.utils.data.Sampler):
    """Yields ``(index, sample_seed)`` for one epoch, seeded by ``(seed, epoch)``.

    Order: ``randperm(n)`` of a generator seeded with ``seed * 1_000_003 + epoch``; the sample
    seeds: ``randint(2^62)`` from the same generator, one per position. Call
    :meth:`set_epoch` before iterating.
    """

    def __init__(self, n: int, seed: int, shuffle: bool = True) -> None:
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[int, int]]:
        if not self.shuffle:
            yield from ((i, 0) for i in range(self.n))
            return
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.n, generator=g).tolist()
        seeds = torch.randint(0, 2**SEED_BITS, (self.n,), generator=g).tolist()
        yield from zip(order, seeds, strict=True)


@contextlib.contextmanager
def _children_allowed() -> Iterator[None]:
    """Let a daemonic process (a sweep worker) start DataLoader workers.

    multiprocessing refuses children to daemonic processes; the loader's workers are daemonic
    themselves and exit when this process dies (PyTorch's worker watchdog), so the rule's
    purpose (no orphans) holds. The flag is restored at once.
    """
    # the flag lives in a private dict; multiprocessing has no public way to set it
    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    daemon = config.get("daemon", False)
    config["daemon"] = False
    try:
        yield
    finally:
        config["daemon"] = daemon


class StreamBatches:
    """Batches from a DataLoader over lazily decoded samples (module docstring)."""

    def __init__(
        self,
        data: Any,
        dev: torch.device,
        batch_size: int,
        eval_batch_size: int,
        seed: int,
        workers: int,
    ) -> None:
        self.dev, self.n_train, self.n_test = dev, len(data.train), len(data.test)
        cuda = dev.type == "cuda"
        self.non_blocking = cuda
        self.sampler = EpochSampler(self.n_train, seed)
        common: dict[str, Any] = {"num_workers": workers, "pin_memory": cuda}
        if workers > 0:
            common.update(persistent_workers=True, prefetch_factor=4)
        self.train_loader = torch.utils.data.DataLoader(
            data.train,
            batch_size=min(batch_size, self.n_train),
            sampler=self.sampler,
            drop_last=True,
            **common,
        )
        test_common = dict(common)
        if workers > 0:  # one batch in flight per worker: test memory does not grow with it
            test_common["prefetch_factor"] = 1
        self.test_loader = torch.utils.data.DataLoader(
            data.test,
            batch_size=eval_batch_size,
            sampler=EpochSampler(self.n_test, seed, shuffle=False),
            **test_common,
        )

    def __len__(self) -> int:
        return len(self.train_loader)

    def _stream(self, loader: Any) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        with _children_allowed():
            batches = iter(loader)
        for x, y in batches:
            yield (
                x.to(self.dev, non_blocking=self.non_blocking),
                y.to(self.dev, non_blocking=self.non_blocking),
            )

    def train(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch: the sampler's order for ``epoch``, ``batch_size`` samples a batch."""
        self.sampler.set_epoch(epoch)
        return self._stream(self.train_loader)

    def test(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The test split in order."""
        return self._stream(self.test_loader)
