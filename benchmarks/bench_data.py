"""Image input pipeline: peak memory independent of dataset size, and throughput vs the old loader.

A synthetic ImageFolder of 256x256 JPEGs (2 classes; written once to a temporary folder) is
read through the streaming loader (``load_dataset("imagefolder", resolution=224)``: pycls's
random-resized crop + flip + lighting, a DataLoader with 2 workers, batches of 64) in a fresh
process per measurement:

* memory: a 1,000-image and an 8,000-image folder, 1,000 training images read from each; peak
  RSS of the main process plus the largest loader worker (``getrusage``). Target: the 8k peak
  is < 1.10x the 1k peak.
* throughput: images/s of the streaming loader (2 workers) vs the old loader (edftools before
  the streaming pipeline: every image decoded with Pillow in one thread, squashed to 224x224,
  stacked as float32 with a float64 temporary; reimplemented below as it was) on the same 1,000
  images.

* evaluation memory: ``train_network`` (one epoch on 4 training images, batch 4, the default
  ``eval_batch_size = 1024``) of a RegNetX-200MF config at 128 px (63 MF there), whose epoch
  ends with the test error over a validation folder of 48 and of 1,600 images (streamed, 2
  loader workers); peak RSS as above. Target: the 1,600-image peak is < 1.2x the 48-image
  peak (evaluation runs in chunks of ``min(eval_batch_size, batch_size)`` images and the test
  loader holds one batch per worker; before, one forward pass took up to 1,024 images:
  715 MB at 48, 2,211 MB at 1,600).

Exits with status 1 if a memory target is missed. Run: ``python benchmarks/bench_data.py``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET = 1.10
EVAL_TARGET = 1.2
EVAL_SIZES = (48, 1600)
SIZE = 256
READ = 1000
BATCH = 64
WORKERS = 2


def write_folder(root: Path, n: int, seed: int = 0) -> Path:
    """``n`` random-texture 256x256 JPEGs in ``root/{train,val}/{a,b}`` (val: 32 images)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    for split, count in (("train", n), ("val", 32)):
        for k, cls in enumerate(("a", "b")):
            folder = root / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count // 2):
                tile = np.roll(base, (i % 64, (7 * i) % 64), axis=(0, 1)) // (1 + k)
                im = Image.fromarray(np.tile(tile, (4, 4, 1))).resize((SIZE, SIZE))
                im.save(folder / f"{i:05d}.jpg", quality=85)
    return root


def _child_stream(root: str, read: int) -> dict:
    import torch

    from edftools.train import load_dataset
    from edftools.train.batches import StreamBatches

    torch.set_num_threads(1)
    data = load_dataset("imagefolder", path=root, resolution=224, loader_workers=WORKERS)
    source = StreamBatches(data, torch.device("cpu"), BATCH, BATCH, seed=0, workers=WORKERS)
    seen, start = 0, time.perf_counter()
    batches = source.train(0)
    for x, _ in batches:
        seen += len(x)
        if seen >= read:
            break
    seconds = time.perf_counter() - start
    del batches, source  # shut the workers down so that their peak RSS is reported
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"images": seen, "seconds": seconds, "rss_kib": own + workers}


def write_val_folder(root: Path, n_val: int, seed: int = 0) -> Path:
    """2 classes, 2 training and ``n_val / 2`` validation 160x160 JPEGs each."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, count in (("train", 2), ("val", n_val // 2)):
        for cls in ("a", "b"):
            folder = root / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (160, 160, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i:05d}.jpg", quality=85)
    return root


def _child_eval(root: str, read: int) -> dict:
    """One epoch of ``train_network`` on the folder: 4 training images, then the test error
    over its validation images (``read`` is unused: the folder's size is the variable)."""
    import torch

    from edftools.recipe import TrainSchedule
    from edftools.spaces import regnet_config
    from edftools.train import load_dataset, train_network

    torch.set_num_threads(1)
    data = load_dataset("imagefolder", path=root, resolution=128, loader_workers=WORKERS)
    cfg = regnet_config(w0=24, wa=24.48, wm=2.54, depth=13, group_width=8, resolution=128,
                        num_classes=2)  # fmt: skip
    schedule = TrainSchedule(epochs=1, batch_size=4)
    start = time.perf_counter()
    result = train_network(cfg, data, schedule, seed=0)
    seconds = time.perf_counter() - start
    assert result.status == "ok", result.message
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"images": data.n_test, "seconds": seconds, "rss_kib": own + workers}


def _child_old(root: str, read: int) -> dict:
    """The pre-streaming loader: decode, squash to 224x224, float32 stack, normalize."""
    from PIL import Image

    files = sorted(Path(root, "train").rglob("*.jpg"))[:read]
    start = time.perf_counter()
    images = []
    for f in files:
        with Image.open(f) as im:
            im = im.convert("RGB").resize((224, 224), Image.BILINEAR)
            images.append(np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0)
    x = np.stack(images)
    mean = x.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    std = x.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    x = ((x - mean) / std).astype(np.float32)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"images": len(x), "seconds": seconds, "rss_kib": rss}


def measure(kind: str, root: Path, read: int) -> dict:
    """Run one measurement in a fresh interpreter; returns its JSON result."""
    code = (
        f"import bench_data as b, json; print(json.dumps(b._child_{kind}({str(root)!r}, {read})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        small = write_folder(Path(tmp) / "k1", 1000)
        large = write_folder(Path(tmp) / "k8", 8000)
        m1 = measure("stream", small, READ)
        m8 = measure("stream", large, READ)
        old = measure("old", small, READ)
    ratio = m8["rss_kib"] / m1["rss_kib"]
    print(
        f"peak RSS, streaming: 1k images {m1['rss_kib'] / 1024:.0f} MiB, "
        f"8k images {m8['rss_kib'] / 1024:.0f} MiB: 8k / 1k = {ratio:.3f} (target < {TARGET})"
    )
    print(
        f"peak RSS, old loader on 1k images: {old['rss_kib'] / 1024:.0f} MiB "
        "(grows linearly with the number of images)"
    )
    new_rate = m1["images"] / m1["seconds"]
    old_rate = old["images"] / old["seconds"]
    print(
        f"input throughput at 224 px: streaming ({WORKERS} workers, pycls train transform) "
        f"{new_rate:.0f} images/s; old loader {old_rate:.0f} images/s: "
        f"{new_rate / old_rate:.2f}x"
    )
    with tempfile.TemporaryDirectory() as tmp:
        evals = [measure("eval", write_val_folder(Path(tmp) / f"v{n}", n), 0) for n in EVAL_SIZES]
    eval_ratio = evals[1]["rss_kib"] / evals[0]["rss_kib"]
    print(
        "peak RSS, evaluation (RegNetX-200MF at 128 px, eval_batch_size 1024): "
        + ", ".join(f"{m['images']} images {m['rss_kib'] / 1024:.0f} MiB" for m in evals)
        + f": {eval_ratio:.3f}x (target < {EVAL_TARGET})"
    )
    return 0 if ratio < TARGET and eval_ratio < EVAL_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
