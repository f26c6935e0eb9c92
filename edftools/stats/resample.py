"""Exact fast bootstrap of a (weighted) EDF on a grid, by multinomial counts per grid cell.

Resampling n models with replacement and evaluating the EDF on a grid g_1 < … < g_m only needs,
for every *category* of models, how many times the category was drawn. Put model i in cell
c_i = #{j : g_j ≤ e_i} (it counts towards F(g_j) exactly when j ≥ c_i) and, when weighted, in the
group of its weight value (or of its complexity bin). The counts of the categories in one
resample are Multinomial(n, p), p = category sizes / n — the same joint law as drawing the
models themselves — so the bootstrap EDFs are exact draws of the direct resampling definition
at a cost O(B·#categories) instead of O(B·n).

Two estimators are supported:
    fixed weights:   F*(g_j) = Σ_{cells ≤ j, groups u} N*_{cu}·w_u / Σ_{c,u} N*_{cu}·w_u
    renormalized:    F*(g_j) = Σ_k π_k·F*_k(g_j) / Σ_{k: N*_k > 0} π_k,
                     F*_k(g_j) = Σ_{cells ≤ j} N*_{ck} / N*_k   (NDS weights recomputed
                     in every resample: w*_i = π_k / N*_k; a bin left empty is dropped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CHUNK_ENTRIES = 4_000_000  # entries of one (resamples × categories) block


@dataclass(frozen=True, eq=False)
class Categories:
    """Models grouped by (grid cell, group): the multinomial categories of a resample.

    Attributes:
        n: number of models resampled.
        m: number of grid points (cells are 0 … m).
        probs: category probabilities (sizes / n), shape (C,).
        cell: grid cell of each category, non-decreasing, shape (C,).
        group: group of each category, shape (C,).
        values: w_u per group (fixed weights) or π_k per group (renormalized).
        renormalize: which estimator the categories feed.
    """

    n: int
    m: int
    probs: np.ndarray
    cell: np.ndarray
    group: np.ndarray
    values: np.ndarray
    renormalize: bool

    @property
    def sizes(self) -> np.ndarray:
        """Number of models per category (the original sample's counts)."""
        return np.rint(self.probs * self.n).astype(np.int64)


def categorize(
    errors: np.ndarray,
    grid: np.ndarray,
    weights: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    stratum_mass: np.ndarray | None = None,
) -> Categories:
    """Group models by grid cell and by weight value (or complexity stratum).

    ``grid`` must be sorted ascending. Give ``weights`` for fixed weights, or ``strata``
    (bin index 0 … K−1 per model) with ``stratum_mass`` π for recomputed normalization weights.
    """
    n, m = errors.size, grid.size
    cell = np.searchsorted(grid, errors, side="right")
    if strata is not None:
        values = np.asarray(stratum_mass, dtype=float)
        group = np.asarray(strata, dtype=np.int64)
        renormalize = True
    elif weights is not None:
        values, group = np.unique(weights, return_inverse=True)
        renormalize = False
    else:
        values, group = np.ones(1), np.zeros(n, dtype=np.int64)
        renormalize = False
    n_groups = values.size
    codes, sizes = np.unique(cell.astype(np.int64) * n_groups + group, return_counts=True)
    return Categories(
        n=n,
        m=m,
        probs=sizes / n,
        cell=codes // n_groups,
        group=codes % n_groups,
        values=values,
        renormalize=renormalize,
    )


def edf_from_counts(cat: Categories, counts: np.ndarray) -> np.ndarray:
    """F on the grid for each row of category counts (shape (B, C) → (B, m))."""
    counts = np.atleast_2d(counts)
    b = counts.shape[0]
    if not cat.renormalize:
        mass = counts * cat.values[cat.group]
        total = mass.sum(axis=1)
        starts = np.flatnonzero(np.r_[True, cat.cell[1:] != cat.cell[:-1]])
        per_cell = np.zeros((b, cat.m + 1))
        per_cell[:, cat.cell[starts]] = np.add.reduceat(mass, starts, axis=1)
        return np.cumsum(per_cell[:, : cat.m], axis=1) / total[:, None]
    # renormalized: C_k(j) = Σ_{cells ≤ j} N*_{ck} (exact integers in float64), N*_k over every
    # cell, the one above the grid included; a group with N*_k = 0 has C_k ≡ 0, and 0/1 gives
    # the 0 it contributes. Computed in place, each float operation as in the reference
    # (tests/stats/test_resample_renormalized.py).
    k = cat.values.size
    inside = cat.cell < cat.m
    cum = np.zeros((b, cat.m, k))
    cum[:, cat.cell[inside], cat.group[inside]] = counts[:, inside]
    np.cumsum(cum, axis=1, out=cum)
    n_k = np.zeros((b, k))
    for u in range(k):
        n_k[:, u] = counts[:, cat.group == u].sum(axis=1)
    present = n_k > 0
    share = np.where(present, cat.values[None, :], 0.0)
    share /= share.sum(axis=1, keepdims=True)
    cum /= np.where(present, n_k, 1.0)[:, None, :]  # F*_k on the grid
    return np.einsum("bjk,bk->bj", cum, share)


def resample_edfs(cat: Categories, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """B bootstrap EDFs on the grid, shape (n_boot, m): exact draws of direct resampling."""
    n_cat = cat.probs.size
    per_row = (cat.m + 1) * cat.values.size if cat.renormalize else n_cat + cat.m + 1
    chunk = max(1, min(n_boot, _CHUNK_ENTRIES // max(per_row, 1)))
    out = np.empty((n_boot, cat.m))
    probs = cat.probs / cat.probs.sum()
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        if n_cat == 1:
            counts = np.full((size, 1), cat.n)
        else:
            counts = rng.multinomial(cat.n, probs, size=size)
        out[start : start + size] = edf_from_counts(cat, counts)
    return out


def original_edf(cat: Categories) -> np.ndarray:
    """F̂ of the original sample on the grid (the counts are the category sizes)."""
    return edf_from_counts(cat, cat.sizes[None, :])[0]
