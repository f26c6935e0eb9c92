"""Training hyper-parameters (:class:`TrainSchedule`) and the learning-rate schedule (no torch).

The ``[schedule]`` table of a recipe; :mod:`edftools.train` trains with it.

The schedule follows pycls: SGD with momentum 0.9 and Nesterov, weight decay on every
parameter, half-period cosine decay with an optional linear warmup, and the learning rate
scaled linearly with the batch size: ``lr = base_lr * batch_size / ref_batch_size``. The lr is
set every iteration from the fractional epoch ``t = epoch + i / iterations_per_epoch``.

Digits-scale recommendation (measured on one CPU thread of the shared 2-core machine;
``small`` stem, 8x8x1 inputs, 1,198 train / 599 test images): :data:`DIGITS_SCHEDULE` =
``TrainSchedule(epochs=5, batch_size=128, base_lr=0.2, ref_batch_size=128, weight_decay=5e-4,
warmup_epochs=0.5)`` with a flops band of 0.15-0.3 M multiply-adds per image. Six AnyNetX_A
samples (``preset="digits"``) in that band took 3-5 s of CPU each and reached final test
errors from 4.2% to 32.2%, a spread wide enough to compare spaces. Hand-picked good models
saturate at 10 epochs (0.2-1 MFLOPs, batch 64/128: 1.5-3.3% error) and bigger models cost
about linearly more (0.47 MFLOPs: ~0.9 s CPU per epoch at batch 64), so longer schedules or
bigger bands mostly add time and squeeze the error spread.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from edftools.errors import RecipeError


@dataclass(frozen=True)
class TrainSchedule:
    """How to train one network.

    ``amp`` and ``channels_last`` apply on CUDA only (ignored on CPU). ``threads`` is the torch
    CPU thread count a run trains with: part of what a run computes (a different thread count
    can sum in a different order), so it is never changed by an executor and it enters the run
    id (when it is not 1, see :meth:`edftools.recipe.Recipe.training_key`). ``warmup_epochs``
    may be fractional.
    """

    epochs: int = 10
    batch_size: int = 128
    base_lr: float = 0.05
    ref_batch_size: int = 128
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-5
    label_smoothing: float = 0.0
    warmup_epochs: float = 0.0
    warmup_factor: float = 0.1
    zero_init_last_bn: bool = False
    amp: bool = True
    channels_last: bool = True
    eval_batch_size: int = 1024
    threads: int = 1

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "ref_batch_size", "eval_batch_size", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RecipeError(f"schedule {name} must be an integer >= 1, got {value!r}")
        for name in ("nesterov", "zero_init_last_bn", "amp", "channels_last"):
            if not isinstance(getattr(self, name), bool):
                raise RecipeError(f"schedule {name} must be true or false")
        for name in (
            "base_lr",
            "momentum",
            "weight_decay",
            "label_smoothing",
            "warmup_epochs",
            "warmup_factor",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RecipeError(f"schedule {name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise RecipeError(f"schedule {name} must be finite and >= 0, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.base_lr <= 0:
            raise RecipeError(f"schedule base_lr must be > 0, got {self.base_lr}")
        if self.momentum >= 1:
            raise RecipeError(f"schedule momentum must be < 1, got {self.momentum}")
        if self.nesterov and self.momentum == 0:
            raise RecipeError("schedule nesterov needs momentum > 0")
        if self.label_smoothing >= 1:
            raise RecipeError(f"schedule label_smoothing must be < 1, got {self.label_smoothing}")
        if self.warmup_factor > 1:
            raise RecipeError(f"schedule warmup_factor must be <= 1, got {self.warmup_factor}")
        if self.warmup_epochs > self.epochs:
            raise RecipeError(
                f"schedule warmup_epochs ({self.warmup_epochs}) exceeds epochs ({self.epochs})"
            )

    @property
    def lr(self) -> float:
        """Peak learning rate, scaled by batch size: ``base_lr * batch_size / ref_batch_size``."""
        return self.base_lr * self.batch_size / self.ref_batch_size

    def lr_at(self, t: float) -> float:
        """Learning rate at fractional epoch ``t`` (``0 <= t <= epochs``).

        Half-period cosine ``lr(t) = lr * 0.5 * (1 + cos(pi t / epochs))``, times the linear
        warmup factor ``f + (1 - f) t / warmup_epochs`` while ``t < warmup_epochs``
        (``f = warmup_factor``), as pycls's ``get_epoch_lr``.
        """
        lr = self.lr * 0.5 * (1.0 + math.cos(math.pi * t / self.epochs))
        if t < self.warmup_epochs:
            alpha = t / self.warmup_epochs
            lr *= self.warmup_factor * (1.0 - alpha) + alpha
        return lr

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (TOML/JSON friendly)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainSchedule:
        """Build from a recipe's ``[schedule]`` table; unknown keys -> :class:`RecipeError`."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise RecipeError(f"unknown schedule keys {unknown}; known: {sorted(known)}")
        return cls(**d)


DIGITS_SCHEDULE = TrainSchedule(
    epochs=5,
    batch_size=128,
    base_lr=0.2,
    ref_batch_size=128,
    weight_decay=5e-4,
    warmup_epochs=0.5,
)
"""Recommended digits-scale schedule, for a 0.15-0.3 MFLOPs band (see the module docstring)."""
