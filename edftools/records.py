"""Plain records passed between the harness, the sweep and the store (no torch, no duckdb).

A training run produces one :class:`RunResult` with its :class:`EpochRecord` list; the sweep
adds the identifying fields and hands a :class:`RunRecord` to the store writer, which writes
the ``runs`` row and its ``epochs`` rows in one transaction.

Failures come in two kinds (:data:`FAILURE_KINDS`), decided in one place,
:func:`failure_kind`, and stored in the ``failure_kind`` column:

* ``environment``: the machine, the data or the worker failed, not the run: a worker process
  that died (crash, out-of-memory kill), a run past its timeout, a Ray task lost with its
  worker or node, a device that is not there, a dataset that cannot be read, an out-of-memory
  error, any ``OSError``. Rerunning on a healthy machine may succeed, so a resumed sweep re-runs
  these runs automatically.
* ``config``: the run itself raised (a network that cannot be built or trained with this
  schedule, a config that does not match the dataset, any other exception while training).
  The same run would fail the same way, so it is final: a resumed sweep keeps it, and
  ``edftools sweep --retry-failed`` re-runs it (e.g. after a fix in the code).

A failed run stored before the kind was recorded (``failure_kind`` NULL) is re-run like an
environment failure. :func:`needs_run` is the resulting rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edftools.errors import DatasetError

RUN_STATUSES: tuple[str, ...] = ("ok", "diverged", "failed", "incomplete")
"""``incomplete``: an imported run that stopped before its last epoch (sweeps never write it)."""
FAILURE_KINDS: tuple[str, ...] = ("environment", "config")
ENVIRONMENT, CONFIG = FAILURE_KINDS
_OOM_NAMES = ("OutOfMemoryError", "MemoryError")


def failure_kind(exc: BaseException) -> str:
    """The kind of a run's exception: ``environment`` or ``config`` (module docstring).

    ``environment`` for :class:`MemoryError`, torch's ``OutOfMemoryError`` (or any message
    saying "out of memory"), :class:`OSError` (files, devices, pipes) and
    :class:`~edftools.errors.DatasetError`; ``config`` for everything else.
    """
    if isinstance(exc, MemoryError | OSError | DatasetError):
        return ENVIRONMENT
    if type(exc).__name__ in _OOM_NAMES or "out of memory" in str(exc).lower():
        return ENVIRONMENT
    return CONFIG


def needs_run(status: str | None, kind: str | None, retry_failed: bool = False) -> bool:
    """Whether a sweep (re-)runs a run stored with ``status`` and ``failure_kind``.

    Not stored (``status`` None): yes. ``ok`` or ``diverged``: never. ``failed``: yes unless
    its kind is ``config``; with ``retry_failed`` every failed run is re-run.
    """
    if status is None:
        return True
    if status != "failed":
        return False
    return retry_failed or kind != CONFIG


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
    100`` and status ``diverged``; a failed run has status ``failed``, a ``message`` and a
    ``failure`` kind (:data:`FAILURE_KINDS`). ``versions`` says where and how the run computed
    (package versions, ``threads``, ``cpu_capability``, ``machine``), filled in by the process
    that trained it.
    """

    status: str
    error: float
    best_error: float
    epochs: tuple[EpochRecord, ...] = ()
    train_seconds: float = 0.0
    device: str = "cpu"
    message: str = ""
    failure: str = ""
    versions: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status == "failed" and self.failure not in FAILURE_KINDS:
            raise ValueError(f"a failed RunResult needs a failure kind in {FAILURE_KINDS}")
        if self.status != "failed" and self.failure:
            raise ValueError(f"a {self.status} RunResult has no failure kind")


@dataclass(frozen=True)
class RunRecord:
    """One row of the ``runs`` table plus its epochs, ready for the store.

    ``rerun_of``: for a seed-noise rerun, the run id of the original run whose config it
    re-trains with another seed, and ``replicate`` its number (1, 2, ...); None otherwise.
    """

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
    versions: dict[str, Any] = field(default_factory=dict)
    rerun_of: str | None = None
    replicate: int | None = None
