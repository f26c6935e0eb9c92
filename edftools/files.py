"""The one atomic file writer: a file is complete or absent, never half-written.

Every file edftools writes for a user (reports, exports of runs and looks) goes through
:func:`atomic_write`: the content is written to a temporary name in the target's folder and
renamed over the target (``os.replace``, atomic on one file system). On any failure (a full
disk, an interrupt, an error of the writer) the temporary file is removed and the target is
left as it was; an OS error becomes a one-line :class:`StoreError`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from edftools.errors import StoreError


@contextlib.contextmanager
def atomic_write(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` to write; rename it over ``target`` when the
    block succeeds, remove it when it fails (see the module docstring)."""
    final = Path(target)
    tmp = final.parent / f".{final.name}.{secrets.token_hex(6)}.tmp"
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StoreError(f"cannot write {final}: {exc.strerror or exc}") from None
        raise


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically, creating its folder.

    The file gets mode ``0o666 & ~umask``, as any file a program creates.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from None
    with atomic_write(target) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return target
