"""Checks a sweep makes before it starts any worker: fail fast, in one line, not N times.

:func:`preflight` runs in the driver, on the first pending run of a sweep:

1. the device: ``resolve_device(recipe.device)`` (``cuda`` without a GPU, a missing
   ``cuda:N``);
2. the dataset: ``load_dataset(name, path, **options)`` (a missing ``imagefolder`` or
   ``cifar10`` path, a wrong layout, an unreadable file);
3. a one-batch dry run of the run's config: build the network and train it one epoch on the
   first ``batch_size`` training images (one forward/backward/step) and test it on as many
   test images, with the recipe's schedule and device (a config the dataset does not fit, a
   network that cannot be built or trained).

Each problem raises :class:`~edftools.errors.SweepError` with one line naming the check, so
the CLI exits 2 before any run is started or stored. The dry run trains in the driver process
and stores nothing; it does not change any run's result (runs train in their own processes).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from edftools.errors import EdftoolsError, SweepError
from edftools.recipe import Recipe, thaw
from edftools.train.plan import PlannedRun

if TYPE_CHECKING:
    from edftools.train.data import LoadedDataset


def preflight(recipe: Recipe, run: PlannedRun) -> None:
    """Check device, dataset and a one-batch dry run of ``run``; :class:`SweepError` if not."""
    from edftools.train.data import load_dataset
    from edftools.train.loop import resolve_device, train_network

    try:
        resolve_device(recipe.device)
    except EdftoolsError as exc:
        raise SweepError(f"device check failed: {exc}") from None
    ds = recipe.dataset
    try:
        data = load_dataset(ds.name, path=ds.path, **thaw(ds.options))
    except (EdftoolsError, OSError) as exc:
        raise SweepError(f"dataset {ds.name!r} cannot be read: {exc}") from None
    batch = _first_batch(data, recipe.schedule.batch_size)
    schedule = dataclasses.replace(recipe.schedule, epochs=1, warmup_epochs=0.0)
    where = f"dry run of run {run.run_id} ({run.space} #{run.index})"
    try:
        result = train_network(run.config, batch, schedule, seed=run.seed, device=recipe.device)
    except EdftoolsError as exc:
        raise SweepError(f"{where} failed: {exc}") from None
    if result.status == "failed":
        raise SweepError(f"{where} failed: {result.message}")


def _first_batch(data: LoadedDataset, batch_size: int) -> LoadedDataset:
    """The first ``batch_size`` train and test images of ``data`` as a dataset."""
    n = batch_size
    return dataclasses.replace(
        data,
        x_train=data.x_train[:n],
        y_train=data.y_train[:n],
        x_test=data.x_test[:n],
        y_test=data.y_test[:n],
    )
