"""GPU checks run by ``benchmarks/gpu_check.sh`` (needs a CUDA device; prints numbers).

1. ``stream``: a synthetic ImageFolder (512 train / 64 val 256x256 JPEGs, 4 classes) trained
   for 2 epochs through the streaming loader (8 workers, pinned memory, non-blocking copies)
   with AMP + channels_last; prints the images/s of the run and fails unless status ``ok``.
2. ``regnets``: training images/s (forward, backward, SGD step; AMP bf16 + channels_last,
   batch 128, 224x224 random data) of published RegNets.

Usage: ``python benchmarks/gpu_check.py stream|regnets``; exit status 1 on failure.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from edftools.models import build_network
from edftools.recipe import TrainSchedule
from edftools.spaces import NetConfig, regnet_config
from edftools.train import load_dataset, train_network

REGNETS = {
    "RegNetX-200MF": (24, 36.44, 2.49, 13, 8, False),
    "RegNetX-400MF": (24, 24.48, 2.54, 22, 16, False),
    "RegNetX-600MF": (48, 36.97, 2.24, 16, 24, False),
    "RegNetY-600MF": (48, 32.54, 2.32, 15, 16, True),
    "RegNetX-3.2GF": (88, 26.31, 2.25, 25, 48, False),
}


def write_folder(root: Path, n_train: int, n_val: int, classes: int = 4) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("val", n_val)):
        for k in range(classes):
            folder = root / split / f"c{k}"
            folder.mkdir(parents=True)
            for i in range(n // classes):
                px = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
                px[..., k % 3] = 40 * k
                Image.fromarray(px).save(folder / f"{i}.jpg", quality=85)
    return root


def check_stream() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_folder(Path(tmp), 512, 64)
        data = load_dataset("imagefolder", path=root, resolution=224, loader_workers=8)
        cfg = NetConfig.from_stages(
            [1, 2, 4, 2], [32, 64, 160, 384], 1, 16, 2, num_classes=4, resolution=224
        )
        schedule = TrainSchedule(epochs=2, batch_size=64, base_lr=0.1, amp=True)
        result = train_network(cfg, data, schedule, seed=0, device="cuda")
    if result.status != "ok":
        print(f"stream: FAILED: {result.status} {result.message}")
        return 1
    images = 2 * data.n_train + 2 * data.n_test
    print(
        f"stream: ImageFolder 512 JPEGs 256px -> 224, 8 workers, AMP + channels_last on "
        f"{result.device}: {images / result.train_seconds:.0f} images/s (train + test, 2 "
        f"epochs), final error {result.error:.1f}%"
    )
    return 0


def train_rate(cfg: NetConfig, steps: int, batch: int) -> tuple[float, torch.dtype]:
    """Training images/s of ``cfg`` on random 224x224 data (AMP, channels_last, SGD)."""
    dev = torch.device("cuda")
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    model = build_network(cfg, seed=0).to(dev, memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(batch, 3, 224, 224, device=dev).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device=dev)

    def step() -> None:
        with torch.autocast("cuda", dtype=dtype):
            loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(5):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start), dtype


def check_regnets(steps: int = 20, batch: int = 128) -> int:
    for name, (w0, wa, wm, d, g, se) in REGNETS.items():
        rate, dtype = train_rate(regnet_config(w0, wa, wm, d, g, se=se), steps, batch)
        print(f"regnets: {name} train, batch {batch}, {dtype}, channels_last: {rate:.0f} images/s")
    return 0


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: torch", torch.__version__)
        return 1
    checks = {"stream": check_stream, "regnets": check_regnets}
    return max(checks[name]() for name in sys.argv[1:] or checks)


if __name__ == "__main__":
    sys.exit(main())
