"""Selecting runs for an analysis: space names, the error column, and complexity columns.

The analysis works on a long-form frame of runs: the one ``edftools.store`` returns from
``runs_frame(...)`` (one row per run: ``space``, ``error``, ``best_error``, ``flops``,
``params``, ``acts``, ``config`` JSON and flattened per-stage columns ``d1.., w1.., b1.., g1..``)
or a researcher's own DataFrame (a ``space`` column, an error column, any complexity columns).
Everything here is plain pandas; nothing imports torch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from edftools.analysis.settings import ERROR_COLUMNS, default
from edftools.errors import StoreError

DEFAULT_ERROR_COLUMN: str = default("error_column")

#: The paper's refinement chain, A -> B -> C -> D -> E -> RegNetX.
DEFAULT_CHAIN: tuple[str, ...] = (
    "AnyNetX_A",
    "AnyNetX_B",
    "AnyNetX_C",
    "AnyNetX_D",
    "AnyNetX_E",
    "RegNetX",
)


def parse_names(text: str | Sequence[str]) -> list[str]:
    """Split ``"A,B, C"`` (or a list of such strings) into stripped, non-empty names."""
    items = [text] if isinstance(text, str) else list(text)
    out = [part.strip() for item in items for part in str(item).split(",")]
    return [p for p in out if p]


def resolve_space(name: str, known: Sequence[str]) -> str:
    """Map a user's space name to a name in the store.

    Exact names win; then a case-insensitive match; a single letter ``A``..``E`` means
    ``AnyNetX_<letter>``. An unknown name raises :class:`StoreError` listing the known spaces.
    """
    if name in known:
        return name
    lowered = {k.lower(): k for k in known}
    if name.lower() in lowered:
        return lowered[name.lower()]
    if re.fullmatch(r"[A-Ea-e]", name):
        alias = f"anynetx_{name.lower()}"
        if alias in lowered:
            return lowered[alias]
    shown = ", ".join(sorted(known)) if known else "(the selection has no runs)"
    raise StoreError(f"unknown space {name!r}; spaces in the store: {shown}")


def select_runs(
    runs: pd.DataFrame,
    spaces: Sequence[str],
    error_column: str = DEFAULT_ERROR_COLUMN,
    sweep: str | None = None,
    dataset: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Rows of ``runs`` for ``spaces`` (resolved names, in the given order) with a finite error.

    Seed-noise reruns (a non-null ``rerun_of``, :mod:`edftools.recipe.reruns`) are dropped:
    an EDF's samples are one run per config (a frame without the column is all originals).
    ``sweep`` and ``dataset`` keep only that sweep's / dataset's runs. Returns the selected
    frame (a copy with a float ``err`` column holding ``error_column``) and the resolved space
    names. Raises :class:`StoreError` for an unknown space, an unknown error column, a space
    that has no usable run, or runs that come from more than one dataset or image resolution
    (their errors are not comparable: see :func:`check_one_dataset`).
    """
    if "space" not in runs.columns:
        raise StoreError("the runs have no 'space' column")
    if sweep is not None and "sweep" in runs.columns:
        runs = runs[runs["sweep"] == sweep]
        if runs.empty:
            raise StoreError(f"sweep {sweep!r} has no runs with status ok")
    if "status" in runs.columns:
        runs = runs[runs["status"] == "ok"]
    runs = originals(runs)
    if dataset is not None:
        runs = _of_dataset(runs, dataset)
    if error_column not in runs.columns:
        hint = f"; choose one of {ERROR_COLUMNS}" if error_column not in ERROR_COLUMNS else ""
        raise StoreError(f"unknown error column {error_column!r}: the runs have none{hint}")
    known = sorted(str(s) for s in runs["space"].dropna().unique())
    resolved = [resolve_space(name, known) for name in spaces]
    if len(set(resolved)) != len(resolved):
        raise StoreError(f"a space is named twice: {', '.join(resolved)}")
    frame = runs[runs["space"].isin(resolved)].copy()
    frame["err"] = pd.to_numeric(frame[error_column], errors="coerce").astype(float)
    frame = frame[np.isfinite(frame["err"].to_numpy())]
    for name in resolved:
        if not (frame["space"] == name).any():
            raise StoreError(f"space {name!r} has no run with a finite {error_column!r}")
    check_one_dataset(frame, sweep_given=sweep is not None, dataset_given=dataset is not None)
    return frame.reset_index(drop=True), resolved


def originals(runs: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``runs`` that are not seed-noise reruns (``rerun_of`` null or absent)."""
    if "rerun_of" not in runs.columns:
        return runs
    return runs[runs["rerun_of"].isna()]


def _of_dataset(runs: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The runs whose ``dataset`` is ``dataset`` (exact, else case-insensitive)."""
    if "dataset" not in runs.columns:
        raise StoreError("the runs have no 'dataset' column to select from")
    names = runs["dataset"].dropna().astype(str)
    match = names == dataset
    if not match.any():
        match = names.str.lower() == dataset.lower()
    if not match.any():
        shown = ", ".join(sorted(set(names))) or "none recorded"
        raise StoreError(f"no runs with status ok of dataset {dataset!r} (datasets: {shown})")
    return runs.loc[match[match].index]


def _data_label(dataset: Any, resolution: Any) -> str:
    name = "unknown dataset" if pd.isna(dataset) else str(dataset)
    return name if pd.isna(resolution) else f"{name} at {int(resolution)} px"


def check_one_dataset(
    frame: pd.DataFrame, sweep_given: bool = False, dataset_given: bool = False
) -> None:
    """Refuse runs that come from several (dataset, resolution) pairs, in one line.

    Error rates on different data (ImageNet and a digits proxy, or one dataset at two image
    sizes) are different quantities: pooling them in one space's EDF, or comparing spaces
    measured on different data, answers no question. A missing dataset or resolution counts
    as a value of its own. The message lists the pairs with their spaces and run counts and
    says how to select one (``--dataset``, ``--sweep``).
    """
    keys = [c for c in ("dataset", "resolution") if c in frame.columns]
    if not keys or frame.empty:
        return
    counts = frame.groupby([*keys, "space"], dropna=False, sort=False).size()
    groups: dict[str, dict[str, int]] = {}
    for key, n in counts.items():
        values = dict(zip([*keys, "space"], cast(tuple[Any, ...], key), strict=True))
        label = _data_label(values.get("dataset"), values.get("resolution"))
        groups.setdefault(label, {})[str(values["space"])] = int(n)
    if len(groups) <= 1:
        return
    parts = [
        f"{label} ({', '.join(f'{s}: {n}' for s, n in per_space.items())})"
        for label, per_space in sorted(groups.items())
    ]
    datasets = sorted({str(d) for d in frame["dataset"].dropna()}) if "dataset" in keys else []
    hints = []
    if not dataset_given and len(datasets) > 1:
        hints.append(f"--dataset ({', '.join(datasets)})")
    if not sweep_given and "sweep" in frame.columns:
        sweeps = sorted(str(s) for s in frame["sweep"].dropna().unique())
        if len(sweeps) > 1:
            hints.append(f"--sweep ({', '.join(sweeps)})")
    how = " or ".join(hints) if hints else "a sweep or an import of one dataset and resolution"
    raise StoreError(
        f"the runs come from {len(groups)} different datasets/resolutions, whose errors cannot "
        f"be pooled or compared: {'; '.join(parts)}; select one with {how}"
    )


def stage_matrix(frame: pd.DataFrame, prefix: str) -> np.ndarray:
    """The per-stage values ``prefix1, prefix2, ...`` as an ``(n, K)`` float array.

    ``K`` is the number of such columns present; a stage a model does not have is NaN (the
    store keeps NULL beyond a config's stages).
    """
    cols: list[str] = []
    while f"{prefix}{len(cols) + 1}" in frame.columns:
        cols.append(f"{prefix}{len(cols) + 1}")
    if not cols:
        return np.full((len(frame), 0), np.nan)
    return frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def growth(frame: pd.DataFrame, prefix: str) -> np.ndarray:
    """Per-stage geometric growth factor ``(x_last / x_1) ** (1 / (K - 1))`` of ``d`` or ``w``.

    ``K`` is the model's number of stages (its non-NULL stage columns) and ``x_last`` its last
    stage's value. Above 1 when the parameter grows from the first to the last stage; NaN for a
    model with fewer than two stages.
    """
    m = stage_matrix(frame, prefix)
    out = np.full(len(frame), np.nan)
    if m.shape[1] < 2:
        return out
    present = np.isfinite(m)
    k = present.sum(axis=1)
    last_idx = m.shape[1] - 1 - np.argmax(present[:, ::-1], axis=1)
    first = m[:, 0]
    last = m[np.arange(len(m)), last_idx]
    ok = (k >= 2) & np.isfinite(first) & (first > 0) & np.isfinite(last)
    out[ok] = (last[ok] / first[ok]) ** (1.0 / (k[ok] - 1))
    return out
