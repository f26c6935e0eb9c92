"""Executors: where the runs of a sweep train. The driver stays the store's only writer.

The interface (:class:`Executor`) is three calls, so that a cluster backend (Ray: one remote task
per run with ``num_cpus``/``num_gpus`` from the recipe, ``ray.wait`` for ``next_result``) fits
without touching the sweep driver::

    executor.capacity            # how many runs may be in flight at once
    executor.submit(task)        # start a RunTask (never blocks when below capacity)
    task, result = executor.next_result()   # block until any run finishes; never raises for a
                                            # run's own failure: it comes back as status "failed"
    executor.close()

:class:`LocalProcessExecutor` runs ``K`` worker processes, forked from a fork server that
imported torch and the training code once
(:data:`edftools.train.worker_server.WORKER_PRELOAD`; no torch state is forked: the
server never trains), so a sweep pays the imports once, not once per worker (``spawn`` where the
platform has no fork server; the server is stopped at once when the driver exits:
:mod:`edftools.train.worker_server`). A run trains with its recipe's ``schedule.threads`` torch
threads, whatever ``K``: the thread count is part of what a run computes (and of its id), so no
executor changes it; ``K`` only sets how many runs train at once
(:func:`edftools.train.environment.worker_count` caps it at the pending runs and at
``usable_cores() // threads``). Each worker loads the dataset once and trains the tasks it is
sent, one at a time, over its own pipe; the driver therefore knows which run a worker was
training when it died: that run comes back ``failed`` (kind ``environment``) with the exit code
and the worker is replaced. A run past the recipe's ``timeout_s`` (counted from when its worker
has started up) is killed the same way. Workers exit when the driver disappears (``kill -9``):
they watch the driver's process id.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import importlib
import json
import os
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from edftools.recipe import Recipe, TrainSchedule, thaw
from edftools.records import ENVIRONMENT, RunResult, failure_kind
from edftools.train.environment import runtime_versions
from edftools.train.plan import PlannedRun
from edftools.train.worker_server import worker_context

TaskFn = Callable[["RunTask"], RunResult]


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs to train one run (plain, picklable values)."""

    run_id: str
    config: dict[str, Any]
    seed: int
    dataset: str
    schedule: TrainSchedule
    dataset_path: str | None = None
    dataset_options: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"

    @classmethod
    def from_plan(cls, recipe: Recipe, run: PlannedRun) -> RunTask:
        """The task for a :class:`~edftools.train.plan.PlannedRun` of ``recipe``."""
        return cls(
            run_id=run.run_id,
            config=run.config.to_dict(),
            seed=run.seed,
            dataset=recipe.dataset.name,
            schedule=recipe.schedule,
            dataset_path=recipe.dataset.path,
            dataset_options=thaw(recipe.dataset.options),
            device=recipe.device,
        )


def failed_result(
    message: str,
    failure: str = ENVIRONMENT,
    device: str = "cpu",
    seconds: float = 0.0,
    versions: dict[str, Any] | None = None,
) -> RunResult:
    """A ``failed`` RunResult of kind ``failure`` (default ``environment``: a worker died, a
    run timed out): no error was measured, so error and best error are NaN."""
    return RunResult(
        status="failed",
        error=float("nan"),
        best_error=float("nan"),
        train_seconds=seconds,
        device=device,
        message=message[:2000],
        failure=failure,
        versions=dict(versions or {}),
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


@functools.lru_cache(maxsize=2)
def _cached_dataset(name: str, path: str | None, options_json: str, device: str) -> Any:
    from edftools.train import load_dataset

    return load_dataset(name, path=path, **json.loads(options_json))


def task_dataset(task: RunTask) -> Any:
    """The dataset of ``task``, loaded once per process (cached on name, path, options and
    device): the checks before training and every run of a worker share one load."""
    options = json.dumps(task.dataset_options, sort_keys=True)
    return _cached_dataset(task.dataset, task.dataset_path, options, task.device)


def execute_task(task: RunTask) -> RunResult:
    """Train one task in this process; any exception becomes a ``failed`` result.

    Two phases: the device and the dataset (loaded once per process, cached on name, path,
    options and device) — an exception there fails the run as ``environment``; then the config
    is built and trained — an exception there is classified by
    :func:`edftools.records.failure_kind`. The result's ``versions`` are
    :func:`~edftools.train.environment.runtime_versions`.
    """
    start = time.perf_counter()
    versions: dict[str, Any] = {}
    try:
        from edftools.train.loop import resolve_device

        versions = runtime_versions(task.schedule.threads)
        resolve_device(task.device)
        data = task_dataset(task)
    except Exception as exc:
        seconds = time.perf_counter() - start
        return failed_result(_one_line(exc), ENVIRONMENT, task.device, seconds, versions)
    try:
        from edftools.spaces.config import NetConfig
        from edftools.train.loop import train_network

        cfg = NetConfig.from_dict(task.config)
        result = train_network(cfg, data, task.schedule, seed=task.seed, device=task.device)
    except Exception as exc:
        seconds = time.perf_counter() - start
        return failed_result(_one_line(exc), failure_kind(exc), task.device, seconds, versions)
    return dataclasses.replace(result, versions={**versions, **result.versions})


class Executor(ABC):
    """Runs :class:`RunTask`s somewhere and hands results back to the driver, as they finish."""

    capacity: int = 1

    @abstractmethod
    def submit(self, task: RunTask) -> None:
        """Start ``task``; the caller keeps at most ``capacity`` tasks in flight."""

    @abstractmethod
    def next_result(self) -> tuple[RunTask, RunResult]:
        """Block until a submitted task finishes and return it with its result."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release workers (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineExecutor(Executor):
    """Trains each task in the calling process, one at a time (debugging, profiling)."""

    def __init__(self, task_fn: TaskFn = execute_task) -> None:
        self.capacity = 1
        self._task_fn = task_fn
        self._queue: collections.deque[RunTask] = collections.deque()

    def submit(self, task: RunTask) -> None:
        self._queue.append(task)

    def next_result(self) -> tuple[RunTask, RunResult]:
        task = self._queue.popleft()
        return task, self._task_fn(task)


_READY = "__ready__"
_PREFLIGHT = "__preflight__"


@dataclass
class _Slot:
    process: Any
    conn: Connection
    task: RunTask | None = None
    started: float = 0.0
    ready: bool = False


class LocalProcessExecutor(Executor):
    """``workers`` worker processes on this machine (:func:`worker_context`), one task at a
    time each."""

    def __init__(
        self,
        workers: int,
        timeout_s: float | None = None,
        task_fn: TaskFn = execute_task,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.capacity = workers
        self.timeout_s = timeout_s
        self._task_fn = task_fn
        self._ctx = worker_context()
        self._slots: list[_Slot] = []
        self._done: collections.deque[tuple[RunTask, RunResult]] = collections.deque()
        self._closed = False

    def _ensure_started(self) -> None:
        """Spawn the workers on first use (a resumed sweep with nothing to do spawns none)."""
        if not self._slots:
            self._slots = [self._start_worker() for _ in range(self.capacity)]

    def _start_worker(self) -> _Slot:
        parent_conn, child_conn = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_worker_main,
            args=(child_conn, os.getpid(), self._task_fn, dict(os.environ)),
            daemon=True,
            name="edftools-sweep-worker",
        )
        proc.start()
        child_conn.close()
        return _Slot(proc, parent_conn)

    def warm_up(self, timeout: float = 120.0) -> None:
        """Start the workers and wait until each is ready to train (for timing runs)."""
        self._ensure_started()
        deadline = time.monotonic() + timeout
        for slot in self._slots:
            while not slot.ready and slot.task is None:
                if not slot.conn.poll(max(0.0, deadline - time.monotonic())):
                    raise RuntimeError(f"worker did not start within {timeout:g} s")
                slot.ready = slot.conn.recv()[0] == _READY

    def preflight(self, task: RunTask, label: str = "") -> None:
        """The checks before training (:func:`edftools.train.preflight.preflight`) of ``task``,
        run in the first worker, where the runs train: the driver never imports torch or
        loads the dataset, the worker keeps the dataset it loaded for its runs, and the other
        workers start up meanwhile. A failed check is a SweepError with its one line."""
        from edftools.errors import SweepError

        if not self._slots:  # the first worker checks while the others start
            self._slots = [self._start_worker()]
        slot = self._slots[0]
        try:
            slot.conn.send((_PREFLIGHT, task, label))
            self._slots += [self._start_worker() for _ in range(self.capacity - len(self._slots))]
            while True:
                wait([slot.conn, slot.process.sentinel])
                if not slot.conn.poll():
                    break  # the worker died
                tag, message = slot.conn.recv()
                if tag == _READY:
                    slot.ready = True
                elif tag == _PREFLIGHT:
                    if message:
                        raise SweepError(message)
                    return
        except (EOFError, OSError):
            pass
        slot.process.join(timeout=1)
        raise SweepError(
            "the checks before training failed: the worker process died "
            f"(exit code {slot.process.exitcode})"
        )

    def submit(self, task: RunTask) -> None:
        self._ensure_started()
        for i, slot in enumerate(self._slots):
            if slot.task is None:
                if not slot.process.is_alive():
                    self._replace(i)
                    slot = self._slots[i]
                slot.task, slot.started = task, time.monotonic()
                try:
                    slot.conn.send(task)
                except (BrokenPipeError, EOFError, OSError):
                    self._fail(i, "worker process died before it received the run")
                return
        raise RuntimeError("submit() called with every worker busy")

    def next_result(self) -> tuple[RunTask, RunResult]:
        while not self._done:
            busy = [i for i, s in enumerate(self._slots) if s.task is not None]
            if not busy:
                raise RuntimeError("next_result() called with no task in flight")
            waits: dict[Any, int] = {}
            for i in busy:
                waits[self._slots[i].conn] = i
                waits[self._slots[i].process.sentinel] = i
            ready = wait(list(waits), timeout=self._wait_timeout(busy))
            for i in sorted({waits[r] for r in ready}):
                self._collect(i)
            self._check_timeouts(busy)
        return self._done.popleft()

    def _collect(self, i: int) -> None:
        slot = self._slots[i]
        if slot.task is None:
            return
        try:
            while slot.conn.poll():
                run_id, result = slot.conn.recv()
                if run_id == _READY:  # the run's clock starts once its worker is ready
                    slot.ready, slot.started = True, time.monotonic()
                elif run_id == slot.task.run_id:
                    self._done.append((slot.task, result))
                    slot.task = None
                    return
        except (EOFError, OSError):
            pass
        if slot.process.is_alive():
            return
        slot.process.join(timeout=1)
        self._fail(i, f"worker process died (exit code {slot.process.exitcode})")

    def _wait_timeout(self, busy: list[int]) -> float | None:
        if self.timeout_s is None:
            return None
        now = time.monotonic()
        ready = [self._slots[i] for i in busy if self._slots[i].ready]
        if not ready:
            return None
        return max(0.0, min(s.started + self.timeout_s - now for s in ready))

    def _check_timeouts(self, busy: list[int]) -> None:
        if self.timeout_s is None:
            return
        now = time.monotonic()
        for i in busy:
            slot = self._slots[i]
            if slot.task is not None and slot.ready and now - slot.started > self.timeout_s:
                slot.process.kill()
                slot.process.join(timeout=5)
                self._fail(i, f"run timed out after {self.timeout_s:g} s and was killed")

    def _fail(self, i: int, message: str) -> None:
        slot = self._slots[i]
        task = slot.task
        assert task is not None
        seconds = time.monotonic() - slot.started
        self._done.append((task, failed_result(message, ENVIRONMENT, task.device, seconds)))
        slot.task = None
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join(timeout=5)  # replaced by submit() when a worker is needed again

    def _replace(self, i: int) -> None:
        old = self._slots[i]
        old.conn.close()
        if old.process.is_alive():
            old.process.kill()
        old.process.join(timeout=5)
        self._slots[i] = self._start_worker()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for slot in self._slots:
            if slot.task is not None:  # interrupted: the run in flight is lost, not stored
                slot.process.kill()
                continue
            with contextlib.suppress(BrokenPipeError, EOFError, OSError):
                slot.conn.send(None)
        deadline = time.monotonic() + 5
        for slot in self._slots:
            slot.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(timeout=5)
            slot.conn.close()


def _watch_parent(parent_pid: int) -> None:
    """Exit this worker as soon as the driver process is gone (e.g. ``kill -9``): the driver's
    pid no longer exists, or this process was re-parented (its parent, the driver or the fork
    server, which exits with the driver, died)."""
    first_parent = os.getppid()
    while True:
        if os.getppid() != first_parent:
            os._exit(3)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(3)
        except PermissionError:  # a pid reused by another user's process: the driver is gone
            os._exit(3)
        time.sleep(0.5)


def _worker_main(
    conn: Connection, parent_pid: int, task_fn: TaskFn, environ: dict[str, str] | None = None
) -> None:
    """Worker loop: receive a RunTask, train it, send ``(run_id, RunResult)``; None stops.

    Each run sets its own torch thread count (``schedule.threads``, in ``train_network``).
    ``environ``: the driver's environment when the worker was started (a forked worker
    inherits the fork server's, which may be older), as a spawned worker would see it.
    """
    if environ is not None:
        os.environ.clear()
        os.environ.update(environ)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    import torch

    torch.set_num_threads(1)  # until a run sets its own
    with contextlib.suppress(RuntimeError):  # already set in this process
        torch.set_num_interop_threads(1)
    with contextlib.suppress(ImportError):  # import the training code before the first run
        importlib.import_module("edftools.train.loop")
    try:
        conn.send((_READY, None))
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if task is None:
            conn.close()
            os._exit(0)  # nothing left to flush: skip the interpreter's teardown (~2 s)
        if isinstance(task, tuple) and task[0] == _PREFLIGHT:
            from edftools.train.preflight import preflight_message

            try:
                conn.send((_PREFLIGHT, preflight_message(task[1], task[2])))
            except (BrokenPipeError, OSError):
                return
            continue
        result = task_fn(task)
        try:
            conn.send((task.run_id, result))
        except (BrokenPipeError, OSError):
            return
