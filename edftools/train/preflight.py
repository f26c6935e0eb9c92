"""Checks a sweep makes before it starts any worker: fail fast, in one line, not N times.

:func:`preflight` checks, where the runs will train (in the first local worker, see
:meth:`edftools.train.executors.LocalProcessExecutor.preflight`, so the driver needs no torch;
as one task on the cluster for Ray, see :meth:`edftools.train.ray_executor.RayExecutor.preflight`),
with the first pending run's :class:`~edftools.train.executors.RunTask`:

1. the device: ``resolve_device(task.device)`` (``cuda`` without a GPU, a missing ``cuda:N``);
2. the dataset: ``load_dataset(name, path, **options)``, the load the process's runs reuse
   (:func:`~edftools.train.executors.task_dataset`) (a missing ``imagefolder`` or
   ``cifar10`` path, a wrong layout, an unreadable file);
3. a one-batch dry run of the run's config: build the network and train it one epoch on the
   first ``batch_size`` training images (one forward/backward/step) and test it on as many
   test images, with the run's schedule and device (a config the dataset does not fit, a
   network that cannot be built or trained).

Each problem raises :class:`~edftools.errors.SweepError` with one line naming the check, so
the CLI exits 2 before any run is started or stored. The dry run stores nothing and does not
change any run's result (runs train in their own processes).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from edftools.errors import EdftoolsError, SweepError
from edftools.spaces.config import NetConfig
from edftools.train.data import StreamingDataset
from edftools.train.executors import RunTask, task_dataset


def preflight(task: RunTask, label: str = "") -> None:
    """Check device, dataset and a one-batch dry run of ``task``; :class:`SweepError` if not.

    ``label`` names the run in the message (e.g. ``"AnyNetX_E #0"``).
    """
    from edftools.train.loop import resolve_device, train_network

    try:
        resolve_device(task.device)
    except EdftoolsError as exc:
        raise SweepError(f"device check failed: {exc}") from None
    try:
        data = task_dataset(task)  # the load the process's runs reuse
    except (EdftoolsError, OSError) as exc:
        raise SweepError(f"dataset {task.dataset!r} cannot be read: {exc}") from None
    batch = _first_batch(data, task.schedule.batch_size)
    schedule = dataclasses.replace(task.schedule, epochs=1, warmup_epochs=0.0)
    where = f"dry run of run {task.run_id}" + (f" ({label})" if label else "")
    try:
        cfg = NetConfig.from_dict(task.config)
        result = train_network(cfg, batch, schedule, seed=task.seed, device=task.device)
    except EdftoolsError as exc:
        raise SweepError(f"{where} failed: {exc}") from None
    if result.status == "failed":
        raise SweepError(f"{where} failed: {result.message}")


def preflight_message(task: RunTask, label: str = "") -> str:
    """:func:`preflight` as a value: its error line, or "" when every check passes (for a
    remote task, whose exceptions would come back wrapped)."""
    try:
        preflight(task, label)
    except SweepError as exc:
        return str(exc)
    return ""


def _first_batch(data: Any, batch_size: int) -> Any:
    """The first ``batch_size`` train and test images of ``data`` as a dataset of its kind
    (in memory: tensor slices; streamed: the first items of the lazy datasets, read with no
    loader workers)."""
    n = batch_size
    if isinstance(data, StreamingDataset):
        return dataclasses.replace(
            data,
            train=_Head(data.train, min(n, data.n_train)),
            test=_Head(data.test, min(n, data.n_test)),
            workers=0,
        )
    return dataclasses.replace(
        data,
        x_train=data.x_train[:n],
        y_train=data.y_train[:n],
        x_test=data.x_test[:n],
        y_test=data.y_test[:n],
    )


class _Head:
    """The first ``n`` items of a lazy dataset, indexed as the dataset is (an index, or an
    ``(index, seed)`` key)."""

    def __init__(self, dataset: Any, n: int) -> None:
        self.dataset, self.n = dataset, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key: Any) -> Any:
        return self.dataset[key]
