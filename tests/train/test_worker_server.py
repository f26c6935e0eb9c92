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
