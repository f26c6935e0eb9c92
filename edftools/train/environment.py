"""Where and how runs compute: the versions a run records, and how many workers fit here.

Torch-free at import (:func:`runtime_versions` imports torch when called).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
from functools import cache
from typing import Any


def package_versions() -> dict[str, Any]:
    """``{"python", "edftools", "torch", "numpy": version}`` from package metadata (no imports).

    Read once per process (each read parses the packages' metadata files, ~9 ms, once per
    stored run otherwise): the code a process runs is the code it imported, whatever is
    installed later. A fresh dict each call (callers add keys).
    """
    return dict(_installed_versions())


@cache
def _installed_versions() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version())]
    for dist in ("edftools", "torch", "numpy"):
        try:
            out.append((dist, importlib.metadata.version(dist)))
        except importlib.metadata.PackageNotFoundError:
            out.append((dist, "unknown"))
    return tuple(out)


def runtime_versions(threads: int) -> dict[str, Any]:
    """Where and how this process computes a run (stored in the run's ``versions``).

    :func:`package_versions` plus ``"threads": threads``, ``"cpu_capability":
    torch.backends.cpu.get_cpu_capability()`` (the CPU kernel family torch dispatches to, e.g.
    "AVX2", "AVX512") and ``"machine": platform.machine()``. Imports torch.
    """
    import torch

    out = package_versions()
    out["threads"] = int(threads)
    out["cpu_capability"] = str(torch.backends.cpu.get_cpu_capability())
    out["machine"] = platform.machine()
    return out


def usable_cores() -> int:
    """CPUs this process may run on: ``len(os.sched_getaffinity(0))`` (``os.cpu_count()`` where
    affinity is unknown)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_count(
    requested: int, pending: int, threads: int, cores: int, oversubscribe: bool = False
) -> tuple[int, str]:
    """How many local workers to start, and a note saying why when fewer than ``requested``.

    ``k = min(requested, pending)``, and unless ``oversubscribe`` also ``<= max(1, cores //
    threads)``: more processes than runs, or more torch threads than cores, only add start-up
    and contention. At least 1. The note is "" when ``k == requested``.
    """
    k = max(1, min(requested, pending))
    fit = max(1, cores // max(1, threads))
    if not oversubscribe:
        k = min(k, fit)
    if k == requested:
        return k, ""
    why = [f"{pending} pending run(s)"] if pending < requested else []
    if not oversubscribe and fit < min(requested, max(1, pending)):
        why.append(f"{cores} usable core(s) / {threads} thread(s) per run")
    return k, f"{requested} workers capped to {k}: {', '.join(why)}"
