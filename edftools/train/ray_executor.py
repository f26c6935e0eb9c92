"""A Ray executor: each run of a sweep is one Ray task; the driver stays the store's only writer.

::

    with RayExecutor(address=None, num_cpus=1, num_gpus=0) as executor:   # local Ray instance
        summary = execute_plan(plan, store, executor)

Each :class:`~edftools.train.executors.RunTask` becomes one remote call with the recipe's
``num_cpus``/``num_gpus`` request and ``max_retries=0``: Ray never re-runs a task on its own, so
the sweep's failure policy (``failure.retries``) alone decides whether a failed run is retried,
exactly as with the local backend. :meth:`RayExecutor.next_result` waits with ``ray.wait`` for
whichever task finishes first and hands its result to the driver, which writes it at once.

A task whose worker process dies (``ray.exceptions.WorkerCrashedError``), whose node dies, or
that Ray cannot run for any other reason comes back as a ``failed`` result naming the Ray error
(failure kind ``environment``: a resumed sweep re-runs it) — never lost. A task running
longer than ``timeout_s`` (counted from its submission, so it includes a fresh Ray worker's
start-up) is cancelled (``force=True`` kills its worker) and comes back ``failed`` (also
``environment``).

Cluster: ``address`` is passed to ``ray.init`` (``"auto"`` for the cluster this machine belongs
to, ``"ray://head:10001"`` for Ray Client, or a GCS ``host:port``). Without an address a local
Ray instance starts (``include_dashboard=False``) and is shut down by :meth:`close`; when the
calling process has already initialized Ray, the executor uses that instance and leaves it up.

The number of runs in flight (``capacity``) is ``floor(cluster CPUs / num_cpus)`` (and the same
for GPUs when ``num_gpus > 0``), at least 1, capped by ``max_in_flight`` when given (the sweep
passes ``--workers`` and the number of pending runs). A task trains with its recipe's
``schedule.threads`` torch threads, as on the local backend: the executor never changes them
(``num_cpus`` defaults to the threads; ask for at least as many). With
``num_gpus > 0`` a ``cuda:N`` device becomes ``cuda``: Ray makes the GPU(s) it assigned to the
task the only visible ones. A CUDA recipe with ``num_gpus = 0`` is refused up front.

Ray is the optional extra ``edftools[ray]``; :func:`import_ray` raises
:class:`~edftools.errors.EdftoolsError` with the install command when it is missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Mapping
from typing import Any

from edftools.errors import EdftoolsError, SweepError
from edftools.recipe import Recipe
from edftools.records import ENVIRONMENT, RunResult
from edftools.train.executors import Executor, RunTask, TaskFn, execute_task, failed_result
from edftools.train.preflight import preflight_message

INSTALL_HINT = "pip install 'edftools[ray]'"
# ray.init options that only a driver starting its own local instance may pass
_LOCAL_ONLY_OPTIONS = (
    "num_cpus",
    "num_gpus",
    "resources",
    "object_store_memory",
    "include_dashboard",
    "_temp_dir",
    "_system_config",
)


def import_ray() -> Any:
    """The ``ray`` module, or :class:`EdftoolsError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise EdftoolsError(
            f"--backend ray needs Ray, which is not installed; install it with: {INSTALL_HINT}"
        ) from None
    return ray


def ray_error_message(exc: BaseException) -> str:
    """One line for a failed task: ``"<RayErrorClass>: <first line of its message>"``."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def tasks_in_flight(resources: Mapping[str, float], num_cpus: float, num_gpus: float) -> int:
    """How many tasks fit the cluster at once: ``min(floor(CPU/num_cpus), floor(GPU/num_gpus))``.

    The GPU term counts only when ``num_gpus > 0``; the result is at least 1 (Ray queues tasks
    that do not fit yet, e.g. while an autoscaler adds nodes).
    """
    fits = math.floor(float(resources.get("CPU", 0.0)) / num_cpus + 1e-9)
    if num_gpus > 0:
        fits = min(fits, math.floor(float(resources.get("GPU", 0.0)) / num_gpus + 1e-9))
    return max(1, int(fits))


def _run_task(task_fn: TaskFn, task: RunTask) -> RunResult:
    """The body of one Ray task (module level, so it pickles by reference)."""
    return task_fn(task)


class RayExecutor(Executor):
    """Runs each :class:`RunTask` as a Ray task with its own CPU/GPU request."""

    def __init__(
        self,
        address: str | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        timeout_s: float | None = None,
        max_in_flight: int | None = None,
        task_fn: TaskFn = execute_task,
        init_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not num_cpus > 0:
            raise EdftoolsError(f"num_cpus must be > 0, got {num_cpus}")
        if num_gpus < 0:
            raise EdftoolsError(f"num_gpus must be >= 0, got {num_gpus}")
        if max_in_flight is not None and max_in_flight < 1:
            raise EdftoolsError(f"max_in_flight must be >= 1, got {max_in_flight}")
        self._ray = import_ray()
        self.num_cpus = float(num_cpus)
        self.num_gpus = float(num_gpus)
        self.timeout_s = timeout_s
        self._task_fn = task_fn
        self._owns_ray = False
        self._closed = False
        self._pending: dict[Any, tuple[RunTask, float]] = {}  # ObjectRef -> (task, start)
        self.address = self._connect(address, dict(init_options or {}))
        fits = tasks_in_flight(self._ray.cluster_resources(), self.num_cpus, self.num_gpus)
        self.capacity = min(fits, max_in_flight) if max_in_flight is not None else fits
        self._remote = self._ray.remote(_run_task).options(
            num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=0
        )

    @classmethod
    def for_recipe(
        cls,
        recipe: Recipe,
        address: str | None = None,
        max_in_flight: int | None = None,
        init_options: Mapping[str, Any] | None = None,
        task_fn: TaskFn = execute_task,
    ) -> RayExecutor:
        """The executor for a :class:`~edftools.recipe.Recipe`: its ``failure`` table gives
        ``num_cpus``, ``num_gpus`` and ``timeout_s`` per run."""
        failure = recipe.failure
        if str(recipe.device).startswith("cuda") and not failure.num_gpus > 0:
            raise EdftoolsError(
                f"recipe device is {recipe.device!r} but [failure] num_gpus is 0: a Ray task sees "
                "no GPU unless it asks for one; set num_gpus (e.g. 1, or 0.5 to share a GPU)"
            )
        return cls(
            address=address,
            num_cpus=failure.num_cpus,
            num_gpus=failure.num_gpus,
            timeout_s=failure.timeout_s,
            max_in_flight=max_in_flight,
            task_fn=task_fn,
            init_options=init_options,
        )

    def _connect(self, address: str | None, options: dict[str, Any]) -> str:
        ray = self._ray
        if not ray.is_initialized():
            options.setdefault("configure_logging", False)
            if address is None:
                options.setdefault("include_dashboard", False)
            else:  # a driver that joins a cluster may not size it
                for key in _LOCAL_ONLY_OPTIONS:
                    options.pop(key, None)
            try:
                ray.init(address=address, **options)
            except Exception as exc:  # ConnectionError, ValueError, RuntimeError, ...
                where = f"the Ray cluster at {address}" if address else "a local Ray instance"
                raise EdftoolsError(
                    f"cannot start or join {where}: {ray_error_message(exc)}"
                ) from None
            self._owns_ray = True
        try:
            return str(ray.get_runtime_context().gcs_address)
        except Exception:  # Ray Client has no GCS address on the driver side
            return address or "local"

    def _placed(self, task: RunTask) -> RunTask:
        if self.num_gpus > 0 and task.device.startswith("cuda"):
            # Ray makes the GPU(s) it assigned the only visible ones
            return dataclasses.replace(task, device="cuda")
        return task

    def preflight(self, task: RunTask, label: str = "") -> None:
        """:func:`edftools.train.preflight.preflight` as one task on the cluster, with the
        runs' ``num_cpus``/``num_gpus`` (the driver may have neither the data nor the GPU);
        :class:`SweepError` with its line when a check fails."""
        remote = self._ray.remote(preflight_message).options(
            num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=0
        )
        try:
            message = self._ray.get(remote.remote(self._placed(task), label))
        except Exception as exc:  # RayError: the check's worker or node was lost
            message = f"checks on the Ray cluster failed: {ray_error_message(exc)}"
            raise SweepError(message) from None
        if message:
            raise SweepError(message)

    def submit(self, task: RunTask) -> None:
        """Start ``task`` as a Ray task (its schedule, threads included, unchanged)."""
        if self._closed:
            raise RuntimeError("submit() on a closed RayExecutor")
        task = self._placed(task)
        ref = self._remote.remote(self._task_fn, task)
        self._pending[ref] = (task, time.monotonic())

    def next_result(self) -> tuple[RunTask, RunResult]:
        """Block until any task finishes (``ray.wait``); Ray errors become ``failed`` results."""
        ray = self._ray
        while True:
            if not self._pending:
                raise RuntimeError("next_result() called with no task in flight")
            ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=self._wait_timeout())
            if ready:
                return self._collect(ready[0])
            expired = self._expired()
            if expired is not None:
                return expired

    def _collect(self, ref: Any) -> tuple[RunTask, RunResult]:
        task, started = self._pending.pop(ref)
        try:
            result = self._ray.get(ref)
        except Exception as exc:  # RayError subclasses: worker crash, node died, cancelled...
            seconds = time.monotonic() - started
            return task, failed_result(ray_error_message(exc), ENVIRONMENT, task.device, seconds)
        if not isinstance(result, RunResult):
            message = f"Ray task returned {type(result).__name__}, not a RunResult"
            seconds = time.monotonic() - started
            return task, failed_result(message, ENVIRONMENT, task.device, seconds)
        return task, result

    def _wait_timeout(self) -> float | None:
        if self.timeout_s is None:
            return None
        oldest = min(started for _, started in self._pending.values())
        return max(0.0, oldest + self.timeout_s - time.monotonic()) + 0.01

    def _expired(self) -> tuple[RunTask, RunResult] | None:
        if self.timeout_s is None:
            return None
        now = time.monotonic()
        for ref, (task, started) in list(self._pending.items()):
            if now - started > self.timeout_s:
                del self._pending[ref]
                self._cancel(ref)
                message = f"run timed out after {self.timeout_s:g} s and was cancelled"
                return task, failed_result(message, ENVIRONMENT, task.device, now - started)
        return None

    def _cancel(self, ref: Any) -> None:
        with contextlib.suppress(Exception):  # already finished, or its worker is gone
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
        """Cancel the tasks still in flight (their runs are not stored) and, if this executor
        started Ray, shut it down (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for ref in list(self._pending):
            self._cancel(ref)
        self._pending.clear()
        if self._owns_ray:
            self._ray.shutdown()
