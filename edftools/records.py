"""Plain records passed between the harness, the sweep and the store (no torch, no duckdb).

A training run produces one :class:`RunResult` with its :class:`EpochRecord` list; the sweep
adds the identifying fields and hands a :class:`RunRecord` to the store writer, which writes
the ``runs`` row and its ``epochs`` rows in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RUN_STATUSES: tuple[str, ...] = ("ok", "diverged", "failed", "incomplete")
"""``incomplete``: an imported run that stopped before its last epoch (sweeps never write it)."""


@dataclass(frozen=True)
class EpochRecord:
    """Metrics of one training epoch (errors in percent, top-1)."""

    epoch: int
    train_loss: float
    train_error: float
    test_error: float
    lr: float
    seconds: float


@dataclass(frozen=True)
class RunResult:
    """What training one network produced.

    ``error`` is the top-1 test error (%) of the final epoch, ``best_error`` the lowest test
    error over epochs (pycls's ``min_top1_err``). A diverged run has ``error = best_error =
    100`` and status ``diverged``; a failed run has status ``failed`` and a ``message``.
    """

    status: str
    error: float
    best_error: float
    epochs: tuple[EpochRecord, ...] = ()
    train_seconds: float = 0.0
    device: str = "cpu"
    message: str = ""


@dataclass(frozen=True)
class RunRecord:
    """One row of the ``runs`` table plus its epochs, ready for the store."""

    run_id: str
    sweep: str
    space: str
    config: dict[str, Any]
    flops: int
    params: int
    acts: int
    dataset: str
    epochs: int
    seed: int
    result: RunResult
    versions: dict[str, str] = field(default_factory=dict)
