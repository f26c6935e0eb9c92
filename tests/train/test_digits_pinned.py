"""The digits path is bit-identical across data-pipeline changes.

``tests/data/digits_pinned_training.json`` holds per-epoch train loss, train error and test
error (as ``float.hex``) of three configs of the shipped reference sweep, trained for two epochs
with the reference recipe's schedule on one thread, computed before the streaming data pipeline
was added. The shipped reference data depends on the digits batches staying exactly the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edftools.recipe import TrainSchedule
from edftools.spaces.config import NetConfig
from edftools.train import load_dataset, train_network

PINNED = Path(__file__).resolve().parents[1] / "data" / "digits_pinned_training.json"


@pytest.fixture(scope="module")
def pinned() -> dict:
    return json.loads(PINNED.read_text())


def test_digits_training_is_bit_identical_to_the_pinned_runs(pinned: dict) -> None:
    schedule = TrainSchedule.from_dict(pinned["schedule"])
    data = load_dataset("digits")
    for run in pinned["runs"]:
        result = train_network(NetConfig.from_dict(run["config"]), data, schedule, run["seed"])
        assert result.status == "ok", result.message
        got = [[e.train_loss.hex(), e.train_error.hex(), e.test_error.hex()] for e in result.epochs]
        assert got == run["epochs"], run["run_id"]
