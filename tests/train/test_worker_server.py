"""The workers' fork server: torch-free to start, gone when the process that started it exits."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from edftools.train import worker_server

pytestmark = pytest.mark.skipif(
    "forkserver" not in __import__("multiprocessing").get_all_start_methods(),
    reason="no fork server on this platform (workers are spawned)",
)

START_AND_EXIT = (
    "import sys\n"
    "from edftools.train.worker_server import server_pid, start_worker_server\n"
    "start_worker_server()\n"
    "print(server_pid())\n"
    "print(sorted(m for m in ('torch', 'numpy', 'edftools.recipe') if m in sys.modules))\n"
)


def test_the_server_is_stopped_and_reaped_when_its_starter_exits() -> None:
    """The starter stops the server at exit (SIGTERM, reaped): no teardown of an interpreter
    with torch left running after it, holding the starter's stdout and stderr."""
    out = subprocess.run(
        [sys.executable, "-c", START_AND_EXIT], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    pid = int(out[0])
    with pytest.raises(ProcessLookupError):  # reaped by the starter before it exited
        os.kill(pid, 0)
    assert out[1] == "[]"  # starting it imports neither torch nor the recipe in the starter


def test_the_server_preloads_torch_and_the_training_code_without_dynamo() -> None:
    assert worker_server.WORKER_PRELOAD[0] == "torch"
    assert "edftools.train.loop" in worker_server.WORKER_PRELOAD
    assert not any("_dynamo" in m for m in worker_server.WORKER_PRELOAD)


def test_a_forked_child_does_not_stop_its_parents_server(monkeypatch) -> None:
    killed: list[tuple[int, int]] = []
    monkeypatch.setattr(worker_server, "server_pid", lambda: 12345)
    monkeypatch.setattr(worker_server.os, "kill", lambda pid, sig: killed.append((pid, sig)))
    monkeypatch.setattr(worker_server, "_registered_by", os.getpid() + 1)  # another process
    worker_server._stop_server()
    assert killed == []


@pytest.mark.parametrize(
    ("args", "local"),
    [
        (["sweep", "r.toml"], True),
        (["sweep", "r.toml", "--n", "4", "--workers", "2"], True),
        (["sweep", "r.toml", "--backend", "local"], True),
        (["sweep", "r.toml", "--backend", "ray"], False),
        (["sweep", "r.toml", "--backend=ray"], False),
        (["sweep", "--help"], False),
        (["--help"], False),
        (["sql", "SELECT 'sweep'"], False),
        (["info", "sweep"], False),
        ([], False),
    ],
)
def test_only_a_local_sweep_starts_the_server_early(args: list[str], local: bool) -> None:
    assert worker_server.starts_local_sweep(args) is local


FORK_SERVE_AND_EXIT = (
    "import sys, time\n"
    "from edftools.train import worker_server as ws\n"
    "ws.WORKER_PRELOAD = ('json',)  # the mechanism, without torch's import time\n"
    "ws.start_worker_server(fork=True)\n"
    "pid = ws.server_pid()\n"
    "same = open(f'/proc/{pid}/cmdline', 'rb').read() == open('/proc/self/cmdline', 'rb').read()\n"
    "worker = ws.worker_context().Process(target=time.sleep, args=(0.01,))\n"
    "worker.start()\n"
    "worker.join(30)\n"
    "print(pid, 'forked' if same else 'spawned', worker.exitcode)\n"
)


@pytest.mark.skipif(not os.path.exists("/proc/self/cmdline"), reason="needs /proc (Linux)")
def test_the_cli_forks_its_server_which_starts_workers_and_is_reaped() -> None:
    """Forked from a fresh process (no second interpreter), the server forks workers as
    multiprocessing's own does, and the starter still stops and reaps it at exit."""
    out = subprocess.run(
        [sys.executable, "-c", FORK_SERVE_AND_EXIT], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    pid, how, exitcode = out.stdout.split()
    assert (how, exitcode) == ("forked", "0")
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)


def test_a_process_with_torch_or_threads_is_not_forked(monkeypatch) -> None:
    import threading

    linux = sys.platform.startswith("linux") and sys.version_info < (3, 14)
    monkeypatch.setattr(worker_server, "server_pid", lambda: None)
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert worker_server._fork_is_safe() is linux
    monkeypatch.setitem(sys.modules, "torch", object())
    assert not worker_server._fork_is_safe()
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not worker_server._fork_is_safe()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(worker_server, "server_pid", lambda: 12345)  # one runs already
    assert not worker_server._fork_is_safe()
