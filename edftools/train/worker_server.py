"""The fork server local sweep workers start from: started early, stopped at once.

Torch-free and light to import (the standard library only), so that ``edftools sweep`` starts
the server before it reads the recipe: the server's import of torch (1.5-4 s, the longest step
before the first run trains) then runs beside the driver's own start-up, planning and store.

The server is the process's ``multiprocessing`` fork server (``forkserver`` start method,
preloading :data:`WORKER_PRELOAD`; ``spawn`` where the platform has none). It never trains
and holds nothing to flush, so when the process that started it exits, :func:`_stop_server`
ends it with SIGTERM instead of letting it tear down an interpreter that imported torch
(1-2 s, during which it keeps the driver's stdout and stderr open: a pipe reading the sweep's
output waited for it).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import time
from multiprocessing import get_context
from typing import Any

#: Modules the fork server imports once for all workers: torch (1.5-4 s), the training loop
#: (which trains without ``torch._dynamo``: :mod:`edftools.train.sgd`) and the checks before
#: training (with the worker loop of :mod:`edftools.train.executors`).
WORKER_PRELOAD: tuple[str, ...] = ("torch", "edftools.train.loop", "edftools.train.preflight")

#: Seconds :func:`_stop_server` waits for the server to end after SIGTERM before SIGKILL.
STOP_WAIT_S = 2.0

_registered_by: int | None = None  # the pid of the process whose exit stops the server


def worker_context() -> Any:
    """The multiprocessing context of local workers: ``forkserver`` preloading
    :data:`WORKER_PRELOAD` where available, else ``spawn``.

    The preload list is the context's (process-wide) setting; it only says what the server
    imports, never what a run computes. The first call registers :func:`_stop_server` to run
    at this process's exit.
    """
    global _registered_by
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return get_context("spawn")
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(list(WORKER_PRELOAD))
    if _registered_by is None:
        atexit.register(_stop_server)
        _registered_by = os.getpid()
    return ctx


def start_worker_server() -> None:
    """Start the fork server now: it imports :data:`WORKER_PRELOAD` while the driver reads the
    recipe, plans and opens the store, so the first worker forks from a ready server (no-op
    without a fork server, or when it runs already)."""
    ctx = worker_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def server_pid() -> int | None:
    """The process id of this process's running fork server, or None."""
    from multiprocessing import forkserver

    return getattr(forkserver._forkserver, "_forkserver_pid", None)


def _stop_server() -> None:
    """End this process's fork server (at exit): SIGTERM, then wait for it (reaped, so it holds
    no pipe once this process has exited); SIGKILL if it has not ended within
    :data:`STOP_WAIT_S`. Its workers have been stopped by their executor's ``close()``; one
    still running exits on its own once its parent is gone (it watches the driver)."""
    pid = server_pid()
    if pid is None or os.getpid() != _registered_by:  # a forked child: not its server
        return
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return
            time.sleep(0.005)
    except (ProcessLookupError, ChildProcessError):  # already gone (and reaped)
        return
