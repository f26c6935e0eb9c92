"""A report's figures on two cores: a forked helper process and this one share the tasks.

A command starts the helper first thing (:func:`helper`), before it reads the store (having
imported only what both processes need, pandas): the helper imports the drawing stack
(matplotlib, :mod:`edftools.plot`) meanwhile, then waits for tasks. :func:`share` hands it tasks
from the front of a list while this process runs its own (the statistics its tables need).
A task may wait for one of those (``after``): it is handed over once that one is done, with
what it computed. This process then either takes tasks from the back too (``steal``), so
that neither core idles while a figure is left, or leaves them all to the helper and never
imports matplotlib itself (``refine``: its statistics take as long as the figures). A task is
a module-level function and its arguments, pickled when the helper takes it: a result object
goes with whatever it has computed by then (a copy of its cached values), and what it lacks
the helper computes itself. Every random step is seeded, so a report is byte-identical
whichever process drew each figure. Without a helper started, :func:`share` forks one for
the call.

Where fork is unavailable (Windows), on one CPU, with :data:`SERIAL_ENV` set, every task runs
here, in order. A task that fails in the helper, a result that does not pickle, a helper that
dies or hangs (:data:`CHILD_TIMEOUT_S`): the task runs here again (raising its error here).
"""

from __future__ import annotations

import contextlib
import copy
import gc
import importlib
import multiprocessing
import os
import pickle
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

#: Set to a non-empty value to run every task in the calling process (no fork).
SERIAL_ENV = "EDFTOOLS_SERIAL"

#: Seconds to wait for the helper's result of one task before running it here.
CHILD_TIMEOUT_S = 600.0

#: A task: a function the helper can import (module-level) and its arguments.
Task = tuple[Callable[..., Any], tuple[Any, ...]]

_OK = "ok"
_FAILED = "failed"
_READY = "ready"
#: How often (s) the feeder looks at the task list while the helper is still importing.
_READY_POLL_S = 0.01

_current: Helper | None = None


def cpus() -> int:
    """The CPUs this process may run on (as ``edftools.train.environment.usable_cores``, which
    the report layer may not import)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether reports use a helper process: fork is available, more than one CPU, and
    :data:`SERIAL_ENV` is unset."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and cpus() > 1
        and not os.environ.get(SERIAL_ENV)
    )


@contextlib.contextmanager
def helper(preload: Sequence[str] = ()) -> Iterator[Helper | None]:
    """Fork the helper now (None where :func:`can_fork` is false); it imports the ``preload``
    modules while the caller goes on, and :func:`share` uses it until the block ends."""
    global _current
    if _current is not None or not can_fork():
        yield _current
        return
    started = Helper(preload)
    _current = started
    try:
        yield started
    finally:
        _current = None
        started.close()


def share(
    tasks: Sequence[Task],
    here: Sequence[Callable[[], Any]] = (),
    after: Sequence[int | None] | None = None,
    steal: bool = True,
) -> tuple[list, list]:
    """The results of ``tasks`` (the helper's from the front) and of ``here`` (run in this
    process, in order), each in order.

    ``after[i]`` (default: None for every task) is the index of the ``here`` task that task i
    needs done first: the helper is handed task i only then, with what that one computed (the
    task's arguments are pickled when it is handed over). With ``steal``, this process takes
    tasks from the back once its ``here`` tasks are done; without, it waits for the helper
    (and runs only what the helper could not: a task that failed there, or all of them if the
    helper died), which spares it the imports the tasks need. Without a helper from
    :func:`helper`, one is forked for this call; without fork, every task runs here, after the
    ``here`` tasks."""
    gates = list(after) if after is not None else [None] * len(tasks)
    if len(gates) != len(tasks) or any(g is not None and not 0 <= g < len(here) for g in gates):
        raise ValueError("after must give, for each task, None or the index of a here task")
    if _current is not None and _current.alive:
        return _current.share(tasks, here, gates, steal)
    if not tasks or not can_fork():
        mine = [task() for task in here]
        return [func(*args) for func, args in tasks], mine
    forked = Helper(())
    try:
        return forked.share(tasks, here, gates, steal)
    finally:
        forked.close()


def _snapshot(value: Any) -> Any:
    """A shallow copy of an object with cached attributes (so that pickling it in the feeder
    thread does not see them change), else ``value``."""
    return copy.copy(value) if hasattr(value, "__dict__") and not callable(value) else value


class _Queue:
    """The tasks not yet taken, in order, each open once the ``here`` task it waits for (its
    ``after``) is done; the feeder takes the first open one (waiting while none is), this
    process the last."""

    def __init__(self, n: int, after: Sequence[int | None]) -> None:
        self._pending = list(range(n))
        self._after = list(after)
        self._finished: set[int] = set()
        self._cond = threading.Condition()

    def _open(self, i: int) -> bool:
        gate = self._after[i]
        return gate is None or gate in self._finished

    def finished(self, j: int) -> None:
        """The ``here`` task j is done: the tasks waiting for it are open."""
        with self._cond:
            self._finished.add(j)
            self._cond.notify_all()

    def _take(self, order: Sequence[int]) -> int | None:
        """The first open task in ``order``, taken (the lock held), None when none is."""
        for i in order:
            if self._open(i):
                self._pending.remove(i)
                self._cond.notify_all()
                return i
        return None

    def take_first(self) -> int | None:
        """The first open task (waiting for one to open), None once none is left."""
        with self._cond:
            while self._pending:
                if (i := self._take(list(self._pending))) is not None:
                    return i
                self._cond.wait()
            return None

    def take_last(self) -> int | None:
        """The last open task, None when none is (this process takes it)."""
        with self._cond:
            return self._take(self._pending[::-1])

    def empty(self) -> bool:
        with self._cond:
            return not self._pending

    def clear(self) -> None:
        """Nothing more is taken (and a feeder waiting for a task to open stops)."""
        with self._cond:
            self._pending.clear()
            self._cond.notify_all()


class Helper:
    """A forked process that imports ``preload`` and then runs the tasks it is sent."""

    def __init__(self, preload: Sequence[str]) -> None:
        ctx = multiprocessing.get_context("fork")
        self._conn, theirs = ctx.Pipe(duplex=True)
        for stream in (sys.stdout, sys.stderr):  # the child must not flush the parent's buffers
            stream.flush()
        self._process = ctx.Process(target=_serve, args=(theirs, tuple(preload)), daemon=True)
        with warnings.catch_warnings():
            # Python >= 3.12 warns when other threads run (DuckDB's, BLAS's): a lock one of them
            # held stays held in the child. The helper never opens the store, and OpenBLAS
            # restarts its threads after a fork; a helper that hangs is replaced by the parent
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            self._process.start()
        theirs.close()
        self._ready = False
        self.alive = True

    def share(
        self,
        tasks: Sequence[Task],
        here: Sequence[Callable[[], Any]],
        after: Sequence[int | None],
        steal: bool,
    ) -> tuple[list, list]:
        """:func:`share` with this helper."""
        queue = _Queue(len(tasks), after)
        done: dict[int, Any] = {}
        feeder = threading.Thread(target=self._feed, args=(tasks, queue, done))
        feeder.start()
        try:
            mine = []
            for j, task in enumerate(here):
                mine.append(task())
                queue.finished(j)
            while steal and (i := queue.take_last()) is not None:
                func, args = tasks[i]
                done[i] = func(*args)
        except BaseException:  # an error here (or Ctrl-C): the command ends, the helper too
            queue.clear()
            self.alive = False
            self._process.kill()  # the feeder sees the pipe close instead of waiting
            raise
        finally:
            feeder.join()  # it waits at most CHILD_TIMEOUT_S for the helper's task
            if not self.alive:  # the helper died or hangs
                self.close()
        for i, (func, args) in enumerate(tasks):  # what the helper could not do
            if i not in done:
                done[i] = func(*args)
        return [done[i] for i in range(len(tasks))], mine

    def _feed(self, tasks: Sequence[Task], queue: _Queue, done: dict[int, Any]) -> None:
        """The feeder thread: hand the helper the first task it may have while any is left,
        and collect its results (a task the helper fails is left out of ``done``)."""
        deadline = time.monotonic() + CHILD_TIMEOUT_S
        try:
            while not self._ready:
                if time.monotonic() > deadline:
                    raise TimeoutError
                if self._conn.poll(_READY_POLL_S):
                    self._ready = self._conn.recv() == _READY
                    continue
                if queue.empty():
                    return
            while (i := queue.take_first()) is not None:
                func, args = tasks[i]
                try:
                    data = pickle.dumps((i, func, tuple(_snapshot(a) for a in args)), -1)
                except Exception:  # a task that does not pickle runs here
                    continue
                self._ready = False
                self._conn.send_bytes(data)
                if not self._conn.poll(CHILD_TIMEOUT_S):
                    raise TimeoutError
                index, status, value = self._conn.recv()
                self._ready = True
                if status == _OK and index == i:
                    done[i] = value
        except (EOFError, OSError, TimeoutError, pickle.PickleError):
            self.alive = False  # the helper died or hangs: this process does the rest

    def close(self) -> None:
        """Stop the helper: told to when it waits for a task (killed if it has not stopped
        within a second), killed at once when it is still importing or running one."""
        self.alive = False
        if self._ready:
            with contextlib.suppress(OSError):
                self._conn.send_bytes(pickle.dumps(None))
            self._process.join(timeout=1.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()


def _serve(conn: Connection, preload: tuple[str, ...]) -> None:
    """The helper: import ``preload``, say so, then run each task sent until told to stop.

    Without automatic garbage collection: what the imports made is frozen (never scanned
    again), and the garbage of each task (a figure's reference cycles) is collected once
    after its result is sent, while the parent reads it. The automatic collections, set off
    by the many objects a figure makes, took about a tenth of the helper's time."""
    gc.disable()
    for module in preload:
        with contextlib.suppress(Exception):  # a task that needs it fails, and runs in the parent
            importlib.import_module(module)
    gc.freeze()
    try:
        conn.send(_READY)
        while True:
            message = pickle.loads(conn.recv_bytes())
            if message is None:
                return
            i, func, args = message
            try:
                reply: tuple[int, str, Any] = (i, _OK, func(*args))
            except BaseException:  # the parent runs the task again and raises the error itself
                reply = (i, _FAILED, None)
            try:
                conn.send(reply)
            except Exception:  # a result that does not pickle
                conn.send((i, _FAILED, None))
            del message, func, args, reply
            gc.collect()
    except (EOFError, OSError):  # the parent has gone
        return
    finally:
        conn.close()
