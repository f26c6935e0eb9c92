"""Seed noise per space from a runs frame with reruns (``rerun_of``), next to the EDF spread.

A rerun (:mod:`edftools.recipe.reruns`, or an imported NDS ``*_rng*``/``*_reruns`` row) is a
run whose ``rerun_of`` names the original run of the same config trained with another seed.
Per space, each original with ok reruns is one config with ``m_c`` replicates (the original
and its reruns, status ok, finite error), and :func:`edftools.stats.seednoise.seed_noise`
gives the pooled within-config SD with its chi-square CI, next to the SD and IQR of the
space's original errors (the EDF's sample, unweighted). A difference between two spaces'
median errors smaller than the robust seed-noise SD (over both spaces' replicated configs) is
"within seed noise": re-training one model with another seed moves its error that much.
Reruns never enter the EDF samples (:func:`edftools.analysis.runs.select_runs`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from edftools.analysis.runs import DEFAULT_ERROR_COLUMN, select_runs
from edftools.stats.defaults import DEFAULT_LEVEL
from edftools.stats.seednoise import SeedNoise, robust_sd, seed_noise

WITHIN_NOISE = "within seed noise"


@dataclass(frozen=True, eq=False, repr=False)
class SeedNoiseTable:
    """Seed noise of the spaces that have reruns (result of :func:`seed_noise_table`).

    ``per_space``: each space's :class:`~edftools.stats.seednoise.SeedNoise`; ``groups``: its
    replicated configs' errors (original first); ``error_column``, ``level`` as used.
    """

    per_space: Mapping[str, SeedNoise]
    groups: Mapping[str, tuple[np.ndarray, ...]]
    error_column: str = DEFAULT_ERROR_COLUMN
    level: float = DEFAULT_LEVEL

    def threshold(self, *spaces: str) -> float | None:
        """The robust seed-noise SD (:func:`~edftools.stats.seednoise.robust_sd`) over the
        replicated configs of ``spaces`` (None: none of them has reruns): a few diverged
        seeds do not make every difference "within seed noise"."""
        groups = [g for s in spaces for g in self.groups.get(s, ())]
        if not groups:
            return None
        sd = robust_sd(groups)
        return sd if math.isfinite(sd) else None

    def within_noise(self, a: str, b: str, median_difference: float) -> bool | None:
        """Whether ``|median_difference|`` between spaces ``a`` and ``b`` is below their robust
        seed-noise SD (None: neither space has reruns, or the difference is undefined)."""
        t = self.threshold(a, b)
        if t is None or not math.isfinite(median_difference):
            return None
        return abs(median_difference) < t

    def to_frame(self) -> pd.DataFrame:
        """One row per space: space, n_configs, n_runs, df, seed_sd, seed_sd_low,
        seed_sd_high, edf_sd, iqr, n_edf, ratio, level."""
        return pd.DataFrame([{"space": s, **r.to_dict()} for s, r in self.per_space.items()])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the error column, level and per-space rows (NaN → None)."""
        return {
            "error_column": self.error_column,
            "level": self.level,
            "spaces": [
                {"space": s, **{k: _json(v) for k, v in r.to_dict().items()}}
                for s, r in self.per_space.items()
            ],
        }

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{s}: {r.sd:.3g} ({r.n_configs} configs, ratio {r.ratio:.2f})"
            for s, r in self.per_space.items()
        )
        return f"SeedNoiseTable({self.error_column}; {parts})"


@dataclass(frozen=True)
class NoiseFlag:
    """A step or pair ``a`` → ``b`` whose ``|median_difference|`` is compared with the seed-noise
    SD over both spaces (``seed_sd``, robust); ``within``: the difference is smaller."""

    a: str
    b: str
    median_difference: float
    seed_sd: float
    within: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "a": self.a,
            "b": self.b,
            "median_difference": _json(self.median_difference),
            "seed_sd": _json(self.seed_sd),
            "within_seed_noise": self.within,
        }


def noise_flags(
    table: SeedNoiseTable | None, pairs: Sequence[tuple[str, str, float]]
) -> tuple[NoiseFlag, ...]:
    """A :class:`NoiseFlag` for each ``(a, b, median difference)`` where either space has
    reruns (empty without a table)."""
    if table is None:
        return ()
    out = []
    for a, b, delta in pairs:
        sd = table.threshold(a, b)
        if sd is None or not math.isfinite(delta):
            continue
        out.append(NoiseFlag(a, b, float(delta), sd, abs(delta) < sd))
    return tuple(out)


def seed_noise_table(
    runs: pd.DataFrame,
    spaces: Sequence[str] | None = None,
    error_column: str = DEFAULT_ERROR_COLUMN,
    sweep: str | None = None,
    dataset: str | None = None,
    level: float = DEFAULT_LEVEL,
) -> SeedNoiseTable | None:
    """Seed noise of each space (default: every space of the runs) that has reruns.

    The originals are selected as every analysis selects them (:func:`select_runs`: status ok,
    finite error, ``sweep``/``dataset``); None when no selected original has an ok rerun.
    """
    names = list(spaces) if spaces else sorted(str(s) for s in runs["space"].dropna().unique())
    frame, resolved = select_runs(runs, names, error_column, sweep, dataset)
    return from_selected(runs, frame, resolved, error_column, level)


def from_selected(
    runs: pd.DataFrame,
    frame: pd.DataFrame,
    spaces: Sequence[str],
    error_column: str = DEFAULT_ERROR_COLUMN,
    level: float = DEFAULT_LEVEL,
) -> SeedNoiseTable | None:
    """:func:`seed_noise_table` given the originals an analysis selected (``frame``, with its
    ``err`` column, from :func:`select_runs`) and the raw ``runs`` holding their reruns."""
    if "rerun_of" not in runs.columns or "run_id" not in frame.columns:
        return None
    reruns = runs[runs["rerun_of"].notna()]
    if "status" in reruns.columns:
        reruns = reruns[reruns["status"] == "ok"]
    err = pd.to_numeric(reruns[error_column], errors="coerce").to_numpy(dtype=float)
    reruns = reruns[np.isfinite(err)]
    if reruns.empty:
        return None
    by_original: dict[str, list[float]] = {}
    for rid, e in zip(reruns["rerun_of"].astype(str), reruns[error_column], strict=True):
        by_original.setdefault(rid, []).append(float(e))
    per_space: dict[str, SeedNoise] = {}
    groups: dict[str, tuple[np.ndarray, ...]] = {}
    for space in spaces:
        own = frame[frame["space"] == space]
        found = tuple(
            np.array([float(e), *by_original[str(rid)]])
            for rid, e in zip(own["run_id"], own["err"], strict=True)
            if str(rid) in by_original
        )
        if found:
            groups[space] = found
            per_space[space] = seed_noise(found, own["err"].to_numpy(dtype=float), level)
    if not per_space:
        return None
    return SeedNoiseTable(per_space, groups, error_column, level)


def _json(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value
