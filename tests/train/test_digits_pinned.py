"""The digits path is bit-identical across data-pipeline changes.

``tests/data/digits_pinned_training.json`` holds, for three configs of the shipped reference
sweep, computed before the streaming data pipeline was added:

- ``batch_sha256``: the SHA-256 of every training batch of two epochs (inputs and labels, in
  order) followed by the whole test split. This is machine-independent: the shipped reference
  data depends on the digits batches staying exactly the same, on every CPU.
- ``epochs``: per-epoch train loss, train error and test error (``float.hex``), trained for two
  epochs with the reference recipe's schedule on one thread. Floating-point kernels differ
  between CPU instruction sets (torch dispatches AVX2 and AVX-512 kernels differently, and the
  bf16 autocast path with them), so these are compared bit for bit on a CPU whose torch
  capability is the pinned one (``cpu_capability``, as recorded in the shipped runs'
  ``versions``) and skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from edftools.recipe import TrainSchedule
from edftools.spaces.config import NetConfig
from edftools.train import load_dataset, train_network
from edftools.train.loop import batch_source

PINNED = Path(__file__).resolve().parents[1] / "data" / "digits_pinned_training.json"


@pytest.fixture(scope="module")
def pinned() -> dict:
    return json.loads(PINNED.read_text())


def batch_digest(data, schedule: TrainSchedule, seed: int) -> str:
    """SHA-256 over every training batch of ``schedule.epochs`` epochs, then the test split."""
    batches = batch_source(data, schedule, seed, torch.device("cpu"))
    digest = hashlib.sha256()
    for epoch in range(schedule.epochs):
        for x, y in batches.train(epoch):
            digest.update(x.contiguous().numpy().tobytes())
            digest.update(y.numpy().tobytes())
    xs, ys = zip(*batches.test(), strict=True)
    digest.update(torch.cat(xs).contiguous().numpy().tobytes())
    digest.update(torch.cat(ys).numpy().tobytes())
    return digest.hexdigest()


def test_digits_batches_are_bit_identical_to_the_pinned_ones(pinned: dict) -> None:
    schedule = TrainSchedule.from_dict(pinned["schedule"])
    data = load_dataset("digits")
    for run in pinned["runs"]:
        assert batch_digest(data, schedule, run["seed"]) == run["batch_sha256"], run["run_id"]


def test_digits_training_is_bit_identical_to_the_pinned_runs(pinned: dict) -> None:
    capability = torch.backends.cpu.get_cpu_capability()
    if capability != pinned["cpu_capability"]:
        pytest.skip(
            f"training is pinned on a {pinned['cpu_capability']} CPU; this one is {capability}"
        )
    schedule = TrainSchedule.from_dict(pinned["schedule"])
    data = load_dataset("digits")
    for run in pinned["runs"]:
        result = train_network(NetConfig.from_dict(run["config"]), data, schedule, run["seed"])
        assert result.status == "ok", result.message
        got = [[e.train_loss.hex(), e.train_error.hex(), e.test_error.hex()] for e in result.epochs]
        assert got == run["epochs"], run["run_id"]
