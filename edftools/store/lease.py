"""The sweep lease: one process at a time sweeps a given sweep of a given store.

Two ``edftools sweep`` invocations of the same sweep on the same store would train the same
pending runs, and the second would die at its first write after wasting the compute. The lease
refuses the second one up front, in one line naming the holder.

Mechanism: an exclusive ``flock`` on a small file next to the store,
``<store>.sweep-<first 12 hex of sha256(sweep name)>.lock``, taken without blocking. The kernel
releases the lock when its process exits, however it exits (``kill -9`` included), so a killed
sweep never leaves the lease stuck; the file itself stays (it holds only the last holder's pid,
host and start time, for the message) and means nothing while unlocked. The descriptor is not
inherited by worker processes (Python opens files non-inheritable, and the workers are
spawned). Different sweeps of one store, and readers, are never blocked by it. POSIX only
(``fcntl``); on a network file system, flock is only as good as the server's lock support.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from edftools.errors import SweepError
from edftools.terminal import printable


def lease_path(store_path: str | os.PathLike[str], sweep: str) -> Path:
    """``<store>.sweep-<sha256(sweep)[:12]>.lock``, next to the store file (symlinks resolved,
    so every spelling of the store's path finds the same lease)."""
    store = Path(store_path).resolve()
    digest = hashlib.sha256(sweep.encode()).hexdigest()[:12]
    return store.with_name(f"{store.name}.sweep-{digest}.lock")


@dataclass
class SweepLease:
    """A held lease (use :meth:`acquire`); :meth:`release` or the process's end frees it."""

    path: Path
    sweep: str
    _fd: int | None = field(default=None, repr=False)

    @classmethod
    def acquire(cls, store_path: str | os.PathLike[str], sweep: str) -> SweepLease:
        """Take the lease of ``sweep`` on the store at ``store_path``, or raise SweepError.

        The error names the holder (pid, host, start time) as it recorded itself.
        """
        path = lease_path(store_path, sweep)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SweepError(f"cannot create the sweep lease {path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise SweepError(
                f"sweep {printable(sweep)!r} is already running on store "
                f"{Path(store_path)}{holder}; wait for it to finish (or stop it) and run "
                "this command again to resume"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise SweepError(f"cannot lock the sweep lease {path}: {exc.strerror}") from None
        info = {
            "sweep": sweep,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        except OSError:
            pass  # the lock is what counts; the note is only for the message
        return cls(path, sweep, fd)

    def release(self) -> None:
        """Free the lease (idempotent); the lock file stays, unlocked."""
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None

    def __enter__(self) -> SweepLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder(fd: int) -> str:
    """`` (pid 123 on host, since …)`` from the lock file, or "" when it cannot be read."""
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f" (pid {int(info['pid'])} on {printable(str(info['host']))}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""
