"""The training loop: metrics per epoch, determinism, divergence, failures, caller errors."""

from __future__ import annotations

import math

import pytest
import torch

from edftools.errors import ConfigError
from edftools.recipe import TrainSchedule
from edftools.records import RunResult
from edftools.spaces.config import NetConfig
from edftools.train import loop
from edftools.train.data import LoadedDataset, load_dataset
from edftools.train.loop import train_network


@pytest.fixture(scope="module")
def digits() -> LoadedDataset:
    return load_dataset("digits")


@pytest.fixture(scope="module")
def small_digits(digits: LoadedDataset) -> LoadedDataset:
    """The first 320 train / 160 test images (fast tests)."""
    return LoadedDataset(
        "digits-small",
        digits.x_train[:320],
        digits.y_train[:320],
        digits.x_test[:160],
        digits.y_test[:160],
        num_classes=10,
        in_channels=1,
        resolution=8,
    )


def tiny(block_type: str = "X") -> NetConfig:
    return NetConfig.from_stages(
        [1, 1, 1],
        [8, 16, 32],
        1,
        8,
        [1, 2, 2],
        block_type=block_type,
        stem_type="small",
        stem_width=8,
        resolution=8,
        num_classes=10,
        in_channels=1,
    )


FAST = TrainSchedule(epochs=2, batch_size=64, base_lr=0.1, weight_decay=5e-4, warmup_epochs=0.5)


def test_records_per_epoch(small_digits: LoadedDataset) -> None:
    res = train_network(tiny(), small_digits, FAST, seed=0)
    assert isinstance(res, RunResult) and res.status == "ok" and res.message == ""
    assert [e.epoch for e in res.epochs] == [0, 1]
    assert res.error == res.epochs[-1].test_error
    assert res.best_error == min(e.test_error for e in res.epochs)
    for e in res.epochs:
        assert e.lr == FAST.lr_at(e.epoch)
        assert 0 <= e.train_error <= 100 and 0 <= e.test_error <= 100 and e.seconds > 0
        assert math.isfinite(e.train_loss) and e.train_loss > 0
        # test error is a whole number of images out of 160
        assert (e.test_error * 160 / 100) == pytest.approx(round(e.test_error * 1.6))
    assert res.train_seconds >= sum(e.seconds for e in res.epochs)
    assert res.device == "cpu"
    assert torch.get_num_threads() == FAST.threads


def test_deterministic_on_cpu(small_digits: LoadedDataset) -> None:
    schedule = TrainSchedule(epochs=2, batch_size=32, base_lr=0.2, label_smoothing=0.1)
    a = train_network(tiny("Y"), small_digits, schedule, seed=3)
    b = train_network(tiny("Y"), small_digits, schedule, seed=3)
    c = train_network(tiny("Y"), small_digits, schedule, seed=4)
    key = [(e.train_loss, e.train_error, e.test_error) for e in a.epochs]
    assert key == [(e.train_loss, e.train_error, e.test_error) for e in b.epochs]
    assert key != [(e.train_loss, e.train_error, e.test_error) for e in c.epochs]
    assert (a.error, a.best_error) == (b.error, b.best_error)
    assert not torch.are_deterministic_algorithms_enabled()  # restored afterwards


def test_cuda_only_settings_are_inert_on_cpu(small_digits: LoadedDataset) -> None:
    """AMP and channels_last apply on CUDA only: on CPU a recipe that asks for them trains the
    same network to the same numbers (so one recipe serves both devices)."""
    import dataclasses

    plain = TrainSchedule(epochs=1, batch_size=64, base_lr=0.2)
    gpu_style = dataclasses.replace(plain, amp=True, channels_last=True)
    a = train_network(tiny("X"), small_digits, plain, seed=5)
    b = train_network(tiny("X"), small_digits, gpu_style, seed=5)
    assert a.status == b.status == "ok"
    assert [e.train_loss for e in a.epochs] == [e.train_loss for e in b.epochs]
    assert (a.error, a.best_error) == (b.error, b.best_error)


def test_learns_digits(digits: LoadedDataset) -> None:
    schedule = TrainSchedule(epochs=3, batch_size=64, base_lr=0.4, zero_init_last_bn=True)
    res = train_network(tiny("VR"), digits, schedule, seed=0)
    assert res.status == "ok"
    assert res.best_error < 25  # chance is 90%
    assert res.epochs[-1].train_loss < res.epochs[0].train_loss


def test_divergence_is_a_status(small_digits: LoadedDataset) -> None:
    schedule = TrainSchedule(epochs=3, batch_size=64, base_lr=1e38, weight_decay=0.0)
    res = train_network(tiny("V"), small_digits, schedule, seed=0)
    assert res.status == "diverged"
    assert res.error == res.best_error == 100.0
    assert not math.isfinite(res.epochs[-1].train_loss)
    assert "non-finite" in res.message


def test_exception_in_training_is_failed(
    small_digits: LoadedDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = loop._Trainer.test_error

    def flaky(self: loop._Trainer) -> float:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("out of memory\nwhile evaluating")
        return real(self)

    monkeypatch.setattr(loop._Trainer, "test_error", flaky)
    res = train_network(tiny(), small_digits, FAST, seed=0)
    assert res.status == "failed"
    assert res.message == "RuntimeError: out of memory while evaluating"
    assert math.isnan(res.error) and math.isnan(res.best_error)
    assert len(res.epochs) == 1  # the epoch finished before the failure is kept


def test_caller_errors_raise(small_digits: LoadedDataset) -> None:
    wrong = NetConfig.from_stages([1], [8], stem_type="small", resolution=8, num_classes=10)
    with pytest.raises(ConfigError, match="in_channels = 3"):
        train_network(wrong, small_digits, FAST, seed=0)
    with pytest.raises(ConfigError, match="not supported"):
        train_network(tiny(), small_digits, FAST, seed=0, device="abacus")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            train_network(tiny(), small_digits, FAST, seed=0, device="cuda")


def test_batch_larger_than_dataset(small_digits: LoadedDataset) -> None:
    schedule = TrainSchedule(epochs=1, batch_size=1000, eval_batch_size=7)
    res = train_network(tiny("R"), small_digits, schedule, seed=0)
    assert res.status == "ok" and len(res.epochs) == 1
