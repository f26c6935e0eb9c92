"""A report's independent parts on two cores: some tasks (figures, the statistics only they
show) run in a forked child process while the parent runs the others.

The child is a fork of the parent (multiprocessing's ``"fork"`` context), so its tasks are
closures over the parent's objects — nothing is pickled but their results — and it computes
exactly what the parent would: every random step is seeded, so a report is byte-identical
whichever process drew its figures. Where fork is unavailable (Windows), on one CPU, with
:data:`SERIAL_ENV` set, or when the child fails (its error is raised again by the parent, which
then runs the child's tasks itself), every task runs in the parent, in order.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

#: Set to a non-empty value to run every task in the calling process (no fork).
SERIAL_ENV = "EDFTOOLS_SERIAL"

#: Seconds the parent waits for the child's results once its own tasks are done, before it
#: computes them itself.
CHILD_TIMEOUT_S = 600.0

_OK = "ok"
_FAILED = "failed"


def cpus() -> int:
    """The CPUs this process may run on (as ``edftools.train.environment.usable_cores``, which
    the report layer may not import)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether :func:`run_beside` forks: fork is available, more than one CPU, and
    :data:`SERIAL_ENV` is unset."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and cpus() > 1
        and not os.environ.get(SERIAL_ENV)
    )


def run_beside(
    child: Sequence[Callable[[], Any]], parent: Sequence[Callable[[], Any]]
) -> tuple[list[Any], list[Any]]:
    """The results of the ``child`` tasks (run in a forked process) and of the ``parent``
    tasks (run here meanwhile), each list in its tasks' order. The child's results must
    pickle. Without fork (:func:`can_fork`): every task here, the child's first."""
    if not child or not can_fork():
        theirs = [task() for task in child]
        return theirs, [task() for task in parent]
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    for stream in (sys.stdout, sys.stderr):  # the child must not flush the parent's buffers
        stream.flush()
    process = ctx.Process(target=_child_main, args=(child, send), daemon=True)
    with warnings.catch_warnings():
        # Python >= 3.12 warns when other threads run (DuckDB's, BLAS's): a lock one of them
        # held stays held in the child. The child never opens the store, and OpenBLAS
        # restarts its threads after a fork; a child that fails is replaced by the parent
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        process.start()
    send.close()
    try:
        mine = [task() for task in parent]
        theirs = _receive(receive, child)
    finally:
        receive.close()
        process.join(timeout=1.0)
        if process.is_alive():  # a child that hangs is not waited for
            process.kill()
            process.join()
    return theirs, mine


def _child_main(tasks: Sequence[Callable[[], Any]], send: Connection) -> None:
    """The child: run ``tasks`` and send their results (or that they failed) to the parent."""
    try:
        payload: tuple[str, Any] = (_OK, [task() for task in tasks])
    except BaseException:  # the parent runs the tasks again and raises the error itself
        payload = (_FAILED, None)
    try:
        send.send(payload)
    except Exception:  # a result that does not pickle, or a parent that has gone
        with contextlib.suppress(Exception):
            send.send((_FAILED, None))
    finally:
        send.close()


def _receive(receive: Connection, tasks: Sequence[Callable[[], Any]]) -> list[Any]:
    """The child's results; the parent runs ``tasks`` itself if the child failed."""
    try:
        if receive.poll(CHILD_TIMEOUT_S):
            status, results = receive.recv()
        else:  # a child that hangs (a lock held by another thread at the fork)
            status, results = _FAILED, None
    except (EOFError, OSError):  # the child died without a word
        status, results = _FAILED, None
    if status != _OK:
        return [task() for task in tasks]
    return list(results)
