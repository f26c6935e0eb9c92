"""TrainSchedule: learning-rate formula, validation, dict round trip."""

from __future__ import annotations

import itertools
import math

import pytest

from edftools.errors import RecipeError
from edftools.recipe import DIGITS_SCHEDULE, TrainSchedule


def test_linear_lr_scaling() -> None:
    assert TrainSchedule(base_lr=0.05, batch_size=256, ref_batch_size=128).lr == pytest.approx(0.1)
    assert TrainSchedule(base_lr=0.1, batch_size=64, ref_batch_size=128).lr == pytest.approx(0.05)


def test_half_period_cosine() -> None:
    s = TrainSchedule(epochs=10, base_lr=0.4, batch_size=128, ref_batch_size=128)
    assert s.lr_at(0) == pytest.approx(0.4)
    assert s.lr_at(5) == pytest.approx(0.2)
    assert s.lr_at(10) == pytest.approx(0.0, abs=1e-12)
    assert s.lr_at(2.5) == pytest.approx(0.2 * (1 + math.cos(math.pi / 4)))
    lrs = [s.lr_at(t / 10) for t in range(101)]
    assert all(a >= b for a, b in itertools.pairwise(lrs))


def test_linear_warmup_fractional() -> None:
    s = TrainSchedule(epochs=10, base_lr=1.0, warmup_epochs=0.5, warmup_factor=0.1)
    cos = TrainSchedule(epochs=10, base_lr=1.0)
    assert s.lr_at(0) == pytest.approx(0.1)
    assert s.lr_at(0.25) == pytest.approx(cos.lr_at(0.25) * 0.55)
    assert s.lr_at(0.5) == pytest.approx(cos.lr_at(0.5))
    assert s.lr_at(3) == cos.lr_at(3)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("epochs", 0, "epochs"),
        ("batch_size", 1.5, "batch_size"),
        ("threads", True, "threads"),
        ("base_lr", 0.0, "base_lr"),
        ("base_lr", float("nan"), "base_lr"),
        ("momentum", 1.0, "momentum"),
        ("weight_decay", -1e-4, "weight_decay"),
        ("label_smoothing", 1.0, "label_smoothing"),
        ("warmup_factor", 2.0, "warmup_factor"),
        ("warmup_epochs", 11, "warmup_epochs"),
        ("amp", "yes", "amp"),
        ("base_lr", "0.1", "base_lr"),
    ],
)
def test_invalid_values(field: str, value: object, match: str) -> None:
    with pytest.raises(RecipeError, match=match):
        TrainSchedule(**{field: value})


def test_nesterov_needs_momentum() -> None:
    with pytest.raises(RecipeError, match="nesterov"):
        TrainSchedule(momentum=0.0)
    assert TrainSchedule(momentum=0.0, nesterov=False).momentum == 0.0


def test_dict_round_trip_and_unknown_keys() -> None:
    assert TrainSchedule.from_dict(DIGITS_SCHEDULE.to_dict()) == DIGITS_SCHEDULE
    assert isinstance(TrainSchedule(base_lr=1).base_lr, float)
    with pytest.raises(RecipeError, match="unknown schedule keys"):
        TrainSchedule.from_dict({"epochs": 3, "lr": 0.1})
