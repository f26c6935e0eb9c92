"""Training throughput (images/s) of RegNetX-200MF and RegNetX-400MF at 224x224 on CPU.

For each model: a plain PyTorch loop (forward, cross-entropy, backward, SGD step on one random
batch of 32 repeated; the baseline) and ``train_network`` on a streamed dataset of random
224x224 images (DataLoader with 2 workers, the pycls schedule; what a sweep runs), both with
the machine's cores as torch threads and the same number of steps (the plain loop after two
warm-up steps; the harness's epoch includes its first step and its test pass); best of two
alternating repeats. Prints images/s of both and the harness / plain ratio (the data pipeline
and bookkeeping overhead).

Run: ``python benchmarks/bench_train_throughput.py``. No target: a CPU figure for planning
(an ImageNet sweep needs a GPU: see ``benchmarks/gpu_check.sh``).
"""

from __future__ import annotations

import os
import sys
import time

import torch
from torch import nn

from edftools.models import build_network
from edftools.recipe import TrainSchedule
from edftools.spaces import regnet_config
from edftools.train import train_network
from edftools.train.data import StreamingDataset

MODELS = {"RegNetX-200MF": (24, 36.44, 2.49, 13, 8), "RegNetX-400MF": (24, 24.48, 2.54, 22, 16)}
BATCH = 32
STEPS = 4
REPEATS = 2


class RandomImages(torch.utils.data.Dataset):
    """``n`` random 3x224x224 images with random labels (seeded per sample)."""

    def __init__(self, n: int, classes: int = 1000) -> None:
        self.n, self.classes = n, classes

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key):
        i = key[0] if isinstance(key, tuple) else key
        g = torch.Generator().manual_seed(int(i))
        return torch.randn(3, 224, 224, generator=g), int(i) % self.classes


def plain_images_per_s(cfg, threads: int) -> float:
    torch.set_num_threads(threads)
    model = build_network(cfg, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.randn(BATCH, 3, 224, 224), torch.randint(0, 1000, (BATCH,))

    def step() -> None:
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    step()
    start = time.perf_counter()
    for _ in range(STEPS):
        step()
    return STEPS * BATCH / (time.perf_counter() - start)


def harness_images_per_s(cfg, threads: int) -> float:
    n = (STEPS + 1) * BATCH
    data = StreamingDataset("random", RandomImages(n), RandomImages(BATCH), 1000, 3, 224, 2)
    schedule = TrainSchedule(epochs=1, batch_size=BATCH, eval_batch_size=BATCH, threads=threads)
    result = train_network(cfg, data, schedule, seed=0)
    if result.status != "ok":
        raise SystemExit(f"training failed: {result.message}")
    # the epoch's seconds include its test pass; one step is warm-up like the plain loop's
    seconds = result.epochs[0].seconds
    return (STEPS + 1) * BATCH / seconds


def main() -> int:
    threads = max(1, len(os.sched_getaffinity(0)))
    for name, (w0, wa, wm, d, g) in MODELS.items():
        cfg = regnet_config(w0, wa, wm, d, g)
        plain = harness = 0.0
        for _ in range(REPEATS):  # alternate, keep the best of each (a shared machine)
            plain = max(plain, plain_images_per_s(cfg, threads))
            harness = max(harness, harness_images_per_s(cfg, threads))
        print(
            f"{name} at 224, batch {BATCH}, {threads} threads: plain loop {plain:.1f} images/s; "
            f"train_network (streamed, test pass included) {harness:.1f} images/s: "
            f"harness / plain = {harness / plain:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
