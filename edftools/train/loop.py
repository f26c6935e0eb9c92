"""Train one network on a dataset (in memory or streamed) and report per-epoch metrics.

:func:`train_network` is what a sweep worker calls for every sampled config. It never raises
for a training problem: a non-finite loss ends the run with status ``diverged`` (error 100), and
any other exception with status ``failed`` and its message. Only a caller mistake (a config
that does not match the dataset, an unknown device) raises :class:`ConfigError` up front.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator

import torch
from torch import nn

from edftools.errors import ConfigError
from edftools.models import build_network
from edftools.recipe.schedule import TrainSchedule
from edftools.records import EpochRecord, RunResult, failure_kind
from edftools.registry import check_device
from edftools.spaces.config import NetConfig
from edftools.train.batches import MemoryBatches, StreamBatches
from edftools.train.data import LoadedDataset, StreamingDataset
from edftools.train.sgd import FunctionalSGD

Dataset = LoadedDataset | StreamingDataset

MAX_MESSAGE_CHARS = 500


def resolve_device(device: str) -> torch.device:
    """Parse ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``); bad or unavailable -> ConfigError."""
    check_device(device)
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"unknown device {device!r}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"device {device!r} is not supported (use cpu or cuda)")
    return dev


def check_compatible(cfg: NetConfig, data: Dataset) -> None:
    """Raise :class:`ConfigError` unless the config's input and classes match the dataset."""
    for field, want in (
        ("in_channels", data.in_channels),
        ("num_classes", data.num_classes),
        ("resolution", data.resolution),
    ):
        got = getattr(cfg, field)
        if got != want:
            raise ConfigError(
                f"config {field} = {got} but dataset {data.name} has {want}: set "
                f"{field} = {want} in the space's [spaces.overrides] or definition (catalog "
                f"spaces take it from the dataset when they do not set it)"
            )


@contextlib.contextmanager
def _seeded_and_deterministic(seed: int, dev: torch.device) -> Iterator[None]:
    """Seed torch's RNGs in a forked state; on CPU require deterministic algorithms.

    Through ``torch.set_deterministic_debug_mode("error")``, the documented alternative to
    ``torch.use_deterministic_algorithms(True)``: the same flag, without the latter's import of
    ``torch._inductor.config`` (and ``torch._dynamo``: 1.3-3.4 s on a sweep's first run).
    """
    was = torch.get_deterministic_debug_mode()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if dev.type == "cpu":
            torch.set_deterministic_debug_mode("error")
        try:
            yield
        finally:
            torch.set_deterministic_debug_mode(was)


def _device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return "cpu"


def _error_percent(wrong: int, total: int) -> float:
    """Top-1 error in percent: ``100 * wrong / total``."""
    return 100.0 * wrong / total


def eval_chunk(schedule: TrainSchedule) -> int:
    """Images per evaluation forward pass: ``min(eval_batch_size, batch_size)``.

    A forward pass without gradients over k images holds less than a training step over k,
    so evaluation never needs more memory than training does, whatever the size of the test
    set (one pass over 1,024 images at 128 px took 1.3 GiB). The error is a count over
    images, each evaluated alone (BN in eval mode), so the chunking changes no result beyond
    the floating-point order inside a convolution.
    """
    return min(schedule.eval_batch_size, schedule.batch_size)


def batch_source(
    data: Dataset, schedule: TrainSchedule, seed: int, dev: torch.device
) -> MemoryBatches | StreamBatches:
    """The batches of ``data`` for one run: in-memory tensors or a DataLoader stream (test
    batches of :func:`eval_chunk` images)."""
    chunk = eval_chunk(schedule)
    if isinstance(data, StreamingDataset):
        return StreamBatches(data, dev, schedule.batch_size, chunk, seed, data.workers)
    return MemoryBatches(data, dev, schedule.batch_size, chunk, seed, data.augment)


class _Trainer:
    """The state of one run: model, optimizer, its batch source."""

    def __init__(
        self,
        cfg: NetConfig,
        data: Dataset,
        schedule: TrainSchedule,
        seed: int,
        dev: torch.device,
    ) -> None:
        self.schedule, self.dev = schedule, dev
        cuda = dev.type == "cuda"
        self.memory_format = (
            torch.channels_last if cuda and schedule.channels_last else torch.contiguous_format
        )
        self.model = build_network(cfg, zero_init_last_bn=schedule.zero_init_last_bn)
        # Module.to takes memory_format (its docstring); torch's overload stubs omit it
        self.model.to(dev, memory_format=self.memory_format)  # type: ignore[call-overload]
        self.amp_dtype: torch.dtype | None = None
        if cuda and schedule.amp:
            bf16 = torch.cuda.is_bf16_supported()
            self.amp_dtype = torch.bfloat16 if bf16 else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=cuda and self.amp_dtype == torch.float16)
        # torch.optim.SGD's update through its functional form (no torch._dynamo import)
        self.optimizer = FunctionalSGD(
            self.model.parameters(),
            lr=schedule.lr_at(0.0),
            momentum=schedule.momentum,
            nesterov=schedule.nesterov,
            weight_decay=schedule.weight_decay,
        )
        self.criterion = nn.CrossEntropyLoss(label_smoothing=schedule.label_smoothing)
        # Drop the last partial batch (as pycls); a set smaller than a batch is one batch.
        self.batches = batch_source(data, schedule, seed, dev)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.dev.type, dtype=self.amp_dtype)

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        if self.memory_format is torch.contiguous_format:
            return x
        return x.contiguous(memory_format=self.memory_format)

    def train_epoch(self, epoch: int) -> tuple[float, float, float]:
        """One pass over shuffled batches; returns (mean loss, train error %, first lr)."""
        model, opt, schedule = self.model, self.optimizer, self.schedule
        model.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.dev)
        correct = torch.zeros((), dtype=torch.int64, device=self.dev)
        seen = 0
        first_lr = schedule.lr_at(float(epoch))
        per_epoch = len(self.batches)
        for i, (x, yb) in enumerate(self.batches.train(epoch)):
            lr = schedule.lr_at(epoch + i / per_epoch)
            for group in opt.param_groups:
                group["lr"] = lr
            xb, size = self._input(x), len(yb)
            with self._autocast():
                out = model(xb)
                loss = self.criterion(out, yb)
            opt.zero_grad()
            self.scaler.scale(loss).backward()
            self.scaler.step(opt)  # type: ignore[arg-type]  # duck-typed: param_groups, step
            self.scaler.update()
            loss_sum += loss.detach() * size
            correct += (out.detach().argmax(1) == yb).sum()
            seen += size
        train_loss = loss_sum.item() / seen
        return train_loss, _error_percent(seen - int(correct.item()), seen), first_lr

    def test_error(self) -> float:
        """Top-1 error (%) on the test split, BN in eval mode, no gradients."""
        self.model.eval()
        wrong = torch.zeros((), dtype=torch.int64, device=self.dev)
        total = 0
        with torch.inference_mode(), self._autocast():
            for x, y in self.batches.test():
                out = self.model(self._input(x))
                wrong += (out.argmax(1) != y).sum()
                total += len(y)
        return _error_percent(int(wrong.item()), total)


def train_network(
    cfg: NetConfig,
    data: Dataset,
    schedule: TrainSchedule,
    seed: int,
    device: str = "cpu",
) -> RunResult:
    """Train ``build_network(cfg)`` on ``data`` with ``schedule`` and return the run's result.

    SGD (momentum, Nesterov, weight decay: torch.optim.SGD's update, bit for bit, through its
    functional form, :class:`~edftools.train.sgd.FunctionalSGD`) with
    ``lr(t) = schedule.lr_at(t)`` set every iteration (``t = epoch + i / iterations``),
    cross-entropy with label smoothing, batches of ``batch_size`` drawn by a permutation from
    a ``torch.Generator`` seeded with ``seed`` (in memory; a streamed dataset:
    :class:`~edftools.train.batches.EpochSampler`); the weights are initialized from
    ``torch.manual_seed(seed)`` in a forked RNG. Per epoch an :class:`EpochRecord` (mean
    train loss, train error %, test top-1 error %, lr at the epoch start, seconds).
    ``error`` = last epoch's test error, ``best_error`` = the minimum.

    On CPU deterministic algorithms are enforced: the same inputs and ``schedule.threads``
    give bit-identical results. On CUDA: autocast (bf16 where supported, else fp16 with a
    GradScaler) when ``schedule.amp``, channels_last when ``schedule.channels_last``.
    Sets ``torch.set_num_threads(schedule.threads)`` for the calling process.

    Outcomes: status ``ok``; ``diverged`` (a non-finite mean train loss; error = best_error =
    100); ``failed`` (any other exception; error = best_error = NaN, ``message`` says why,
    ``failure`` is :func:`edftools.records.failure_kind` of the exception).
    """
    check_compatible(cfg, data)
    dev = resolve_device(device)
    torch.set_num_threads(schedule.threads)
    start = time.perf_counter()
    records: list[EpochRecord] = []
    device_name = _device_name(dev)

    def result(
        status: str, error: float, best: float, message: str = "", failure: str = ""
    ) -> RunResult:
        return RunResult(
            status=status,
            error=error,
            best_error=best,
            epochs=tuple(records),
            train_seconds=time.perf_counter() - start,
            device=device_name,
            message=message,
            failure=failure,
        )

    try:
        with _seeded_and_deterministic(seed, dev):
            trainer = _Trainer(cfg, data, schedule, seed, dev)
            for epoch in range(schedule.epochs):
                t0 = time.perf_counter()
                loss, train_err, lr = trainer.train_epoch(epoch)
                if not math.isfinite(loss):
                    records.append(
                        EpochRecord(epoch, loss, train_err, 100.0, lr, time.perf_counter() - t0)
                    )
                    message = f"non-finite train loss in epoch {epoch}"
                    return result("diverged", 100.0, 100.0, message)
                test_err = trainer.test_error()
                records.append(
                    EpochRecord(epoch, loss, train_err, test_err, lr, time.perf_counter() - t0)
                )
    except Exception as exc:  # a failing run is recorded, the sweep goes on
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
        return result("failed", math.nan, math.nan, text[:MAX_MESSAGE_CHARS], failure_kind(exc))
    errors = [r.test_error for r in records]
    return result("ok", errors[-1], min(errors))
