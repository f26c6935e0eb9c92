"""Harness overhead: ``train_network`` vs a plain PyTorch loop doing the same work.

Both train the same digits-scale network (identical init) on the same in-memory digits tensors
for the same epochs, batch size, optimizer and per-iteration learning rate, on one thread, and
both evaluate the test error after every epoch (what a run reports). The harness additionally
tracks train loss/error, timing, divergence and failure handling, and runs with deterministic
algorithms. Repeats alternate between the two and the minimum time of each is compared.

Target: harness / plain <= 1.05. Exits with status 1 if the target is missed.
"""

from __future__ import annotations

import math
import sys
import time

import torch
from torch import nn

from edftools.models import build_network
from edftools.recipe import TrainSchedule
from edftools.spaces.complexity import complexity
from edftools.spaces.config import NetConfig
from edftools.train import load_dataset, train_network

TARGET = 1.05
REPEATS = 3
SEED = 0


def plain_loop(cfg: NetConfig, data, schedule: TrainSchedule, seed: int) -> float:
    """A minimal hand-written loop; returns the final test error (%)."""
    torch.manual_seed(seed)
    model = build_network(cfg, zero_init_last_bn=schedule.zero_init_last_bn)
    opt = torch.optim.SGD(
        model.parameters(),
        lr=schedule.lr,
        momentum=schedule.momentum,
        nesterov=schedule.nesterov,
        weight_decay=schedule.weight_decay,
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=schedule.label_smoothing)
    gen = torch.Generator().manual_seed(seed)
    n, bs = len(data.y_train), schedule.batch_size
    iters = n // bs
    error = 100.0
    for epoch in range(schedule.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        for i in range(iters):
            t = epoch + i / iters
            lr = schedule.lr * 0.5 * (1 + math.cos(math.pi * t / schedule.epochs))
            if t < schedule.warmup_epochs:
                a = t / schedule.warmup_epochs
                lr *= schedule.warmup_factor * (1 - a) + a
            for g in opt.param_groups:
                g["lr"] = lr
            idx = perm[i * bs : (i + 1) * bs]
            loss = loss_fn(model(data.x_train[idx]), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(data.x_test).argmax(1)
        error = 100.0 * (pred != data.y_test).sum().item() / len(data.y_test)
    return error


def main() -> int:
    torch.set_num_threads(1)
    data = load_dataset("digits")
    cfg = NetConfig.from_stages(
        [1, 2, 2, 1],
        [16, 32, 64, 128],
        1,
        8,
        [1, 2, 2, 2],
        block_type="X",
        stem_type="small",
        stem_width=16,
        resolution=8,
        num_classes=10,
        in_channels=1,
    )
    schedule = TrainSchedule(
        epochs=3, batch_size=64, base_lr=0.4, weight_decay=5e-4, warmup_epochs=0.5, threads=1
    )
    cx = complexity(cfg)
    print(
        f"model: X block, {cx.flops / 1e6:.2f} MFLOPs, {cx.params / 1e3:.1f} k params; "
        f"digits {data.n_train}/{data.n_test}; {schedule.epochs} epochs, batch "
        f"{schedule.batch_size}, 1 thread; best of {REPEATS} alternating repeats"
    )
    plain_times, harness_times = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        plain_err = plain_loop(cfg, data, schedule, SEED)
        plain_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        res = train_network(cfg, data, schedule, seed=SEED)
        harness_times.append(time.perf_counter() - t0)
        assert res.status == "ok", res.message
    plain, harness = min(plain_times), min(harness_times)
    ratio = harness / plain
    print(f"plain loop : {plain:6.2f} s  (final test error {plain_err:.1f}%)")
    print(f"harness    : {harness:6.2f} s  (final test error {res.error:.1f}%)")
    verdict = "OK" if ratio <= TARGET else "MISSED"
    print(f"overhead ratio harness/plain = {ratio:.3f} (target <= {TARGET}) {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
