"""A report's figures on two cores: a forked helper process and this one share the tasks,
whichever is free taking the next.

A command starts the helper first thing (:func:`helper`), before it reads the store (having
imported only what both processes need, pandas): the helper imports the drawing stack
(matplotlib, :mod:`edftools.plot`) meanwhile, then waits for tasks. :func:`share` hands it tasks
from the front of a list while this process runs its own (the statistics its tables need) and
then takes tasks from the back, so neither core idles while a figure is left. A task is a
module-level function and its arguments, pickled when the helper takes it: a result object goes
with whatever it has computed by then (a copy of its cached values), and what it lacks the
helper computes itself. Every random step is seeded, so a report is byte-identical whichever
process drew each figure. Without a helper started, :func:`share` forks one for the call.

Where fork is unavailable (Windows), on one CPU, with :data:`SERIAL_ENV` set, every task runs
here, in order. A task that fails in the helper, a result that does not pickle, a helper that
dies or hangs (:data:`CHILD_TIMEOUT_S`): the task runs here again (raising its error here).
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import multiprocessing
import os
import pickle
import sys
import threading
import warnings
from collections import deque
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
    modules (``"module"``, or ``"module:function"`` to call that function of it too) while
    the caller goes on, and :func:`share` uses it until the block ends."""
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


def share(tasks: Sequence[Task], here: Sequence[Callable[[], Any]] = ()) -> tuple[list, list]:
    """The results of ``tasks`` (the helper's from the front, this process's from the back
    once the ``here`` tasks are done) and of ``here`` (run in this process), each in order.
    Without a helper from :func:`helper`, one is forked for this call; without fork, every
    task runs here (``tasks`` first)."""
    if _current is not None and _current.alive:
        return _current.share(tasks, here)
    if not tasks or not can_fork():
        theirs = [func(*args) for func, args in tasks]
        return theirs, [task() for task in here]
    forked = Helper(())
    try:
        return forked.share(tasks, here)
    finally:
        forked.close()


def _snapshot(value: Any) -> Any:
    """A shallow copy of an object with cached attributes (so that pickling it in the feeder
    thread does not see them change), else ``value``."""
    return copy.copy(value) if hasattr(value, "__dict__") and not callable(value) else value


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

    def share(self, tasks: Sequence[Task], here: Sequence[Callable[[], Any]]) -> tuple[list, list]:
        """:func:`share` with this helper."""
        pending = deque(range(len(tasks)))
        done: dict[int, Any] = {}
        lock = threading.Lock()
        feeder = threading.Thread(target=self._feed, args=(tasks, pending, done, lock))
        feeder.start()
        try:
            mine = [task() for task in here]
            while True:
                with lock:
                    if not pending:
                        break
                    i = pending.pop()
                func, args = tasks[i]
                done[i] = func(*args)
        except BaseException:  # an error here (or Ctrl-C): the command ends, the helper too
            with lock:
                pending.clear()
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

    def _feed(
        self, tasks: Sequence[Task], pending: deque[int], done: dict[int, Any], lock: Any
    ) -> None:
        """The feeder thread: hand the helper the front task while any is left, and collect
        its results (a task the helper fails is left out of ``done``)."""
        try:
            while not self._ready:
                if self._conn.poll(_READY_POLL_S):
                    self._ready = self._conn.recv() == _READY
                    continue
                with lock:
                    if not pending:
                        return
            while True:
                with lock:
                    if not pending:
                        return
                    i = pending.popleft()
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
    """The helper: import ``preload``, say so, then run each task sent until told to stop."""
    for name in preload:
        module, _, function = name.partition(":")
        with contextlib.suppress(Exception):  # a task that needs it fails, and runs in the parent
            loaded = importlib.import_module(module)
            if function:
                getattr(loaded, function)()
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
    except (EOFError, OSError):  # the parent has gone
        return
    finally:
        conn.close()
