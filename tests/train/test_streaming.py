"""Streaming datasets: ImageFolder JPEGs and CIFAR pickles through a DataLoader, pycls's
transforms, worker-count independence, and the paper recipe end to end on a tiny folder."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from edftools.recipe import TrainSchedule
from edftools.spaces import NetConfig
from edftools.store import open_store
from edftools.train import load_dataset, train_network
from edftools.train import transforms as T
from edftools.train.batches import EpochSampler, MemoryBatches
from edftools.train.data import LoadedDataset, StreamingDataset

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = TrainSchedule(epochs=2, batch_size=8, base_lr=0.1, eval_batch_size=16)


def write_jpeg_folder(root: Path, n_train: int = 8, n_val: int = 3, classes: int = 2) -> Path:
    """``root/{train,val}/<class>/*.jpg`` of varied sizes (class k: a brighter red)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("val", n_val)):
        for k in range(classes):
            folder = root / split / f"n{k:08d}"
            folder.mkdir(parents=True)
            for i in range(n):
                h, w = int(rng.integers(20, 41)), int(rng.integers(20, 41))
                pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                pixels[..., 0] = 60 + 150 * k
                Image.fromarray(pixels).save(folder / f"{i}.jpg", quality=90)
    return root


def write_cifar100(root: Path, n_train: int = 24, n_test: int = 8) -> Path:
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name, n in (("train", n_train), ("test", n_test)):
        batch = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"fine_labels": rng.integers(0, 100, n).tolist(),
            b"coarse_labels": rng.integers(0, 20, n).tolist(),
        }
        with (folder / name).open("wb") as fh:
            pickle.dump(batch, fh)
    return root


def tiny_net(resolution: int, classes: int) -> NetConfig:
    return NetConfig.from_stages(
        [1, 1],
        [8, 16],
        1,
        8,
        [1, 2],
        block_type="X",
        stem_type="small",
        stem_width=8,
        resolution=resolution,
        num_classes=classes,
    )


def test_transforms_follow_pycls() -> None:
    from PIL import Image

    assert T.eval_resize(224) == 256
    im = Image.fromarray(np.zeros((30, 50, 3), dtype=np.uint8))
    assert T.imagenet_test(im, 16).shape == (3, 16, 16)
    rng = np.random.default_rng(0)
    boxes = [T.random_resized_crop_box(rng, 50, 30) for _ in range(50)]
    found = [box for box in boxes if box is not None]  # None: no box found, center crop
    assert len(found) >= 40, boxes
    for x0, y0, x1, y1 in found:
        assert 0 <= x0 < x1 <= 50 and 0 <= y0 < y1 <= 30
        assert (x1 - x0) * (y1 - y0) >= 0.07 * 50 * 30
    a = T.imagenet_train(im, 16, np.random.default_rng(5))
    b = T.imagenet_train(im, 16, np.random.default_rng(5))
    assert a.shape == (3, 16, 16) and np.array_equal(a, b)  # the seed fixes the sample
    assert T.resize_shorter_size(50, 30, 18) == (30, 18)
    x = np.arange(3 * 8 * 8, dtype=np.float32).reshape(3, 8, 8)
    out = T.cifar_train(x, np.random.default_rng(2))
    assert out.shape == x.shape


def test_epoch_sampler_is_seeded_per_epoch() -> None:
    s = EpochSampler(10, seed=3)
    first = list(s)
    assert sorted(i for i, _ in first) == list(range(10)) and first == list(s)
    s.set_epoch(1)
    assert list(s) != first
    assert list(EpochSampler(4, 3, shuffle=False)) == [(i, 0) for i in range(4)]


def test_imagefolder_trains_the_same_with_any_number_of_workers(tmp_path: Path) -> None:
    root = write_jpeg_folder(tmp_path)
    results = []
    for workers in (0, 2):
        data = load_dataset("imagefolder", path=root, resolution=16, loader_workers=workers)
        assert isinstance(data, StreamingDataset) and data.workers == workers
        result = train_network(tiny_net(16, 2), data, SCHEDULE, seed=4)
        assert result.status == "ok", result.message
        results.append([(e.train_loss, e.test_error) for e in result.epochs])
    assert results[0] == results[1]  # batches and augmentation do not depend on workers


def test_cifar100_streams_and_fits_in_memory(tmp_path: Path) -> None:
    root = write_cifar100(tmp_path)
    memory = load_dataset("cifar100", path=root)
    assert isinstance(memory, LoadedDataset) and memory.num_classes == 100 and memory.augment
    stream = load_dataset("cifar100", path=root, loader="stream", loader_workers=1)
    assert isinstance(stream, StreamingDataset) and (stream.n_train, stream.n_test) == (24, 8)
    x, y = stream.test[0]
    assert tuple(x.shape) == (3, 32, 32) and 0 <= y < 100
    # train statistics normalize the memory and the stream path alike
    assert torch.allclose(x, memory.x_test[0], atol=1e-4)
    for data in (memory, stream):
        result = train_network(tiny_net(32, 100), data, SCHEDULE, seed=0)
        assert result.status == "ok", result.message


def test_memory_cifar_augmentation_is_flip_then_padded_crop() -> None:
    x = torch.arange(4 * 3 * 6 * 6, dtype=torch.float32).reshape(4, 3, 6, 6)
    data = LoadedDataset(
        "cifar10",
        x,
        torch.zeros(4, dtype=torch.int64),
        x[:1],
        torch.zeros(1, dtype=torch.int64),
        10,
        3,
        6,
        augment=True,
    )
    src = MemoryBatches(data, torch.device("cpu"), 4, 4, seed=0, augment=True)
    g = torch.Generator().manual_seed(1)  # the augmentation generator: seed + 1
    flip = torch.rand(4, generator=g) < 0.5
    offsets = torch.randint(0, 8, (4, 2), generator=g)
    xb = x.clone()
    out = src._flip_and_crop(xb)
    for i in range(4):
        img = x[i].flip(2) if flip[i] else x[i]
        padded = torch.nn.functional.pad(img, (4, 4, 4, 4))
        r, c = offsets[i].tolist()
        assert torch.equal(out[i], padded[:, r : r + 6, c : c + 6])


@pytest.mark.slow  # 20 s of RegNetX-400MF at 224 on CPU; `make test-full` (and CI) run it
def test_paper_imagenet_recipe_runs_end_to_end(tmp_path: Path) -> None:
    # the recipe as shipped, on a 2-class folder: 1 epoch of 2 steps, 1 model, 2 loader workers
    # in a (daemonic) sweep worker process, through the normal sweep path
    root = write_jpeg_folder(tmp_path / "imagenet", n_train=4, n_val=2)
    text = (ROOT / "recipes" / "paper_imagenet.toml").read_text()
    for old, new in (
        ('path = "/data/imagenet"', f'path = "{root}"'),
        ('device = "cuda"', 'device = "cpu"'),
        ("loader_workers = 8 ", "loader_workers = 2 "),
        ("epochs = 10 ", "epochs = 1 "),
        ("batch_size = 128 ", "batch_size = 4 "),
        ('name = "RegNetX"\n', 'name = "RegNetX"\noverrides = { num_classes = 2 }\n'),
    ):
        assert old in text, old
        text = text.replace(old, new)
    recipe = tmp_path / "paper.toml"
    recipe.write_text(text)
    store = tmp_path / "s.duckdb"
    cmd = [sys.executable, "-m", "edftools", "sweep", str(recipe), "--store", str(store)]
    done = subprocess.run(
        [*cmd, "--n", "1", "--space", "RegNetX", "--workers", "1", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    with open_store(store, read_only=True) as s:
        rows = s.fetch("SELECT status, message, flops, epochs, dataset FROM runs")[1]
    assert len(rows) == 1 and rows[0][0] == "ok", rows
    assert 360e6 <= rows[0][2] <= 400e6 and rows[0][3:] == (1, "imagefolder")


@pytest.mark.parametrize("loader", ["memory", "bogus"])
def test_imagefolder_loader_choices(tmp_path: Path, loader: str) -> None:
    from edftools.errors import DatasetError

    root = write_jpeg_folder(tmp_path, n_train=1, n_val=1)
    with pytest.raises(DatasetError, match="loader"):
        load_dataset("imagefolder", path=root, loader=loader)


def test_torchvision_fast_path_decodes_like_pillow(tmp_path: Path) -> None:
    from PIL import Image

    from edftools.train.image_data import torchvision_jpeg_decoder

    decode = torchvision_jpeg_decoder()
    if decode is None:
        pytest.skip("torchvision does not import beside this torch: Pillow decodes")
    path = write_jpeg_folder(tmp_path, n_train=1, n_val=1) / "train" / "n00000000" / "0.jpg"
    with Image.open(path) as im:
        ref = np.asarray(im.convert("RGB"), dtype=np.int16)
    ours = decode(path).permute(1, 2, 0).numpy().astype(np.int16)
    assert ours.shape == ref.shape and np.abs(ours - ref).max() <= 2  # libjpeg IDCT rounding


def test_recipe_dataset_options_come_from_the_registry() -> None:
    from edftools.errors import RecipeError
    from edftools.recipe import parse_recipe

    base = 'name = "r"\nn = 1\n[[spaces]]\nname = "RegNetX"\n[dataset]\n'
    one = parse_recipe(base + 'name = "cifar100"\npath = "/x"\naugment = false\nloader_workers = 3')
    two = parse_recipe(base + 'name = "cifar100"\npath = "/x"\naugment = false\nloader_workers = 9')
    assert dict(one.dataset.options) == {"augment": False, "loader_workers": 3}
    # DataLoader workers change how fast batches come, not which: not part of run ids
    assert one.training_key() == two.training_key()
    assert one.training_key()["dataset"]["options"] == {"augment": False}
    with pytest.raises(RecipeError, match=r"dataset\.split_seed: not an option of dataset"):
        parse_recipe(base + 'name = "imagefolder"\npath = "/x"\nsplit_seed = 1')
    with pytest.raises(RecipeError, match=r"dataset\.loader: must be one of auto, memory, stream"):
        parse_recipe(base + 'name = "cifar10"\npath = "/x"\nloader = "disk"')


def test_evaluation_is_chunked_and_its_loader_holds_one_batch_per_worker(tmp_path: Path) -> None:
    """Test batches are at most min(eval_batch_size, batch_size) images, in memory and
    streamed, and the streamed test loader prefetches one batch per worker: evaluation memory
    does not grow with the test set."""
    from edftools.train.loop import batch_source, eval_chunk

    schedule = TrainSchedule(epochs=1, batch_size=4, eval_batch_size=1024)
    assert eval_chunk(schedule) == 4
    folder = write_jpeg_folder(tmp_path / "f", n_train=8, n_val=9)
    streamed = load_dataset("imagefolder", path=folder, resolution=16, loader_workers=2)
    source = batch_source(streamed, schedule, seed=0, dev=torch.device("cpu"))
    assert source.test_loader.prefetch_factor == 1 and source.test_loader.num_workers == 2
    sizes = [len(y) for _, y in source.test()]
    assert sizes == [4, 4, 4, 4, 2] and sum(sizes) == streamed.n_test
    memory = LoadedDataset("m", torch.zeros(8, 1, 4, 4), torch.zeros(8, dtype=torch.int64),
                           torch.zeros(10, 1, 4, 4), torch.zeros(10, dtype=torch.int64),
                           num_classes=2, in_channels=1, resolution=4)  # fmt: skip
    sizes = [len(y) for _, y in batch_source(memory, schedule, 0, torch.device("cpu")).test()]
    assert sizes == [4, 4, 2]
