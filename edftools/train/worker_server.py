"""The fork server local sweep workers start from: started first, stopped at once.

Torch-free and light to import (the standard library only; :mod:`multiprocessing` is imported
when a server is started), so that ``edftools sweep`` starts the server before anything else:
``python -m edftools sweep …`` and the ``edftools`` script call :func:`start_for_command` with
their arguments before they import click or read the recipe. The server's import of torch
(1.5-4 s, the longest step before the first run trains) then runs beside the driver's own
start-up, planning and store.

The server is the process's ``multiprocessing`` fork server (``forkserver`` start method,
preloading :data:`WORKER_PRELOAD`; ``spawn`` where the platform has none). Started from the
CLI it is a fork of the driver taken before the driver imported anything heavy
(:func:`start_worker_server` with ``fork=True``): no second interpreter to start (~0.1 s less
before torch starts importing), and it imports :data:`WORKER_PRELOAD` with the cyclic garbage
collector paused (``import torch`` allocates ~10^5 objects: ~10 % of its CPU time went to
collections), then freezes what it imported (``gc.freeze``), so that the workers' collections
never walk torch's objects. Elsewhere (a process that has imported torch or runs threads, where
a fork could copy torch's thread pools or a held lock) it is multiprocessing's own server, a new
interpreter preloading the same modules.

The server never trains and holds nothing to flush, so when the process that started it exits,
:func:`_stop_server` ends it with SIGTERM instead of letting it tear down an interpreter that
imported torch (1-2 s, during which it keeps the driver's stdout and stderr open: a pipe reading
the sweep's output waited for it).
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

#: Modules the fork server imports once for all workers: torch (1.5-4 s), the training loop
#: (which trains without ``torch._dynamo``: :mod:`edftools.train.sgd`) and the checks before
#: training (with the worker loop of :mod:`edftools.train.executors`).
WORKER_PRELOAD: tuple[str, ...] = ("torch", "edftools.train.loop", "edftools.train.preflight")

#: Seconds :func:`_stop_server` waits for the server to end after SIGTERM before SIGKILL.
STOP_WAIT_S = 2.0

#: Arguments after which ``edftools sweep`` starts no local worker: help, or Ray's backend.
NO_LOCAL_WORKERS: tuple[str, ...] = ("-h", "--help", "--version", "--backend=ray")

_registered_by: int | None = None  # the pid of the process whose exit stops the server


def worker_context() -> Any:
    """The multiprocessing context of local workers: ``forkserver`` preloading
    :data:`WORKER_PRELOAD` where available, else ``spawn``.

    The preload list is the context's (process-wide) setting; it only says what the server
    imports, never what a run computes. The first call registers :func:`_stop_server` to run
    at this process's exit.
    """
    import multiprocessing

    global _registered_by
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(WORKER_PRELOAD))
    if _registered_by is None:
        atexit.register(_stop_server)
        _registered_by = os.getpid()
    return ctx


def start_worker_server(fork: bool = False) -> None:
    """Start the fork server now: it imports :data:`WORKER_PRELOAD` while the driver reads the
    recipe, plans and opens the store, so the first worker forks from a ready server (no-op
    without a fork server, or when it runs already).

    ``fork``: start it as a fork of this process (module docstring) where that is safe
    (:func:`_fork_is_safe`), before this process imports :mod:`multiprocessing`; else
    multiprocessing's own start.
    """
    if fork and _fork_is_safe():
        _fork_server()
        return
    ctx = worker_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def starts_local_sweep(args: Sequence[str]) -> bool:
    """Whether the CLI arguments ``args`` (without the program name) run ``sweep`` on local
    workers: the command (the first argument that is not an option) is ``sweep``, no help is
    asked for and the backend is not Ray."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command != "sweep" or any(a in NO_LOCAL_WORKERS for a in args):
        return False
    return not any(a == "--backend" and b == "ray" for a, b in itertools.pairwise(args))


def start_for_command(args: Sequence[str], fork: bool = True) -> None:
    """Start the worker server at once when ``args`` run a local sweep (see
    :func:`starts_local_sweep`) and torch is installed: the CLI's first step, before it imports
    click (a sweep without the training extra says so later, in one line)."""
    if not starts_local_sweep(args):
        return
    from edftools.train.extra import installed

    if installed("torch"):
        start_worker_server(fork=fork)


def server_pid() -> int | None:
    """The process id of this process's running fork server, or None (also before this
    process has imported :mod:`multiprocessing.forkserver`)."""
    forkserver = sys.modules.get("multiprocessing.forkserver")
    return getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)


def _fork_is_safe() -> bool:
    """This process may fork the server: Linux (a fork server, abstract socket names), the
    fork server of Python 3.11-3.13 (no authentication key), no server started yet, one
    thread, and no torch imported (a fork must not copy torch's thread pools)."""
    if not sys.platform.startswith("linux") or not (3, 11) <= sys.version_info < (3, 14):
        return False
    if server_pid() is not None or "torch" in sys.modules:
        return False
    threading = sys.modules.get("threading")  # not imported: no thread was started from Python
    return threading is None or threading.active_count() == 1


def _fork_server() -> None:
    """``multiprocessing.forkserver.ensure_running()`` with the server forked from this process
    (before it imports multiprocessing) instead of spawned: a listening socket and an "alive"
    pipe, set on multiprocessing's fork server as it sets them, and the resource tracker."""
    import socket

    listener = socket.socket(socket.AF_UNIX)
    address = f"\0edftools-workers-{os.getpid()}-{os.urandom(8).hex()}"  # abstract: no file
    listener.bind(address)
    listener.listen()
    alive_r, alive_w = os.pipe()  # EOF once the driver and every worker are gone
    pid = os.fork()
    if pid == 0:
        _serve(listener.fileno(), alive_r, alive_w)  # never returns
    os.close(alive_r)
    listener.close()
    worker_context()  # the context's preload (for a restart) and the stop at exit
    from multiprocessing import forkserver, resource_tracker

    resource_tracker.ensure_running()
    server: Any = forkserver._forkserver  # private state, set as ensure_running() sets it
    with server._lock:
        server._forkserver_address = address
        server._forkserver_alive_fd = alive_w
        server._forkserver_pid = pid


def _serve(listener_fd: int, alive_r: int, alive_w: int) -> None:
    """The forked server: import :data:`WORKER_PRELOAD` without cyclic collections, freeze
    what was imported, then serve as multiprocessing's fork server until the driver and its
    workers are gone; exit without the driver's exit handlers."""
    import contextlib
    import gc
    import importlib

    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
        os.close(alive_w)
        gc.disable()
        for name in WORKER_PRELOAD:
            with contextlib.suppress(ImportError):  # as multiprocessing's: the worker reports it
                importlib.import_module(name)
        gc.freeze()
        gc.enable()
        from multiprocessing import forkserver

        forkserver.main(listener_fd, alive_r, [])
    except SystemExit as exc:  # the server's normal end: the "alive" pipe is closed
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)


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
