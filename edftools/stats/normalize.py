"""Complexity normalization of EDFs (NDS §4): give every complexity bin the same total mass.

Models are kept when lo < c < hi (strict); the range is cut into K linear (or log) bins and a
model in bin k gets w_i = π_k / n_k, where n_k is the number of models in bin k and π_k = 1/K
(the NDS rule) or the share of another space's models that fall in bin k (``target=``, importance
weights that give this sample the other sample's complexity histogram).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import as_sample


@dataclass(frozen=True)
class Normalization:
    """A complexity normalization rule: K bins over a range, linear or log, optional target.

    ``range=None`` takes the closed range [min c, max c] of the sample being normalized (so no
    model is dropped); an explicit ``range=(lo, hi)`` keeps only lo < c < hi, as NDS does.
    ``target`` holds another space's complexities whose histogram the weights reproduce;
    ``closed`` marks a range taken from the data (lo ≤ c ≤ hi, set by :meth:`resolve`).
    """

    bins: int
    range: tuple[float, float] | None = None
    log: bool = False
    target: tuple[float, ...] | None = None
    closed: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.bins, bool) or not isinstance(self.bins, (int, np.integer)):
            raise StatsInputError(f"bins must be a positive integer, got {self.bins!r}")
        if self.bins < 1:
            raise StatsInputError(f"bins must be a positive integer, got {self.bins}")
        if self.range is not None:
            lo, hi = (float(v) for v in self.range)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise StatsInputError(f"range must be (lo, hi) with lo < hi, got {self.range!r}")
            if self.log and lo <= 0:
                raise StatsInputError(f"log bins need a positive range, got {self.range!r}")
            object.__setattr__(self, "range", (lo, hi))
        if self.target is not None:
            object.__setattr__(self, "target", tuple(as_sample(self.target, "target").tolist()))

    def resolve(self, complexity: Any) -> Normalization:
        """This rule with ``range`` fixed from ``complexity`` when it was None."""
        if self.range is not None:
            return self
        c = as_sample(complexity, "complexity")
        lo, hi = float(c.min()), float(c.max())
        if lo == hi:
            raise StatsInputError(
                f"all complexities equal {lo}: give range=(lo, hi) or do not normalize"
            )
        return replace(self, range=(lo, hi), closed=True)

    def edges(self) -> np.ndarray:
        """The K + 1 bin edges (linear, or geometric when ``log``); needs a resolved range."""
        if self.range is None:
            raise StatsInputError("the normalization range is not resolved yet")
        lo, hi = self.range
        if self.log:
            return np.geomspace(lo, hi, self.bins + 1)
        return np.linspace(lo, hi, self.bins + 1)

    def assign(self, complexity: Any) -> np.ndarray:
        """Bin index of every model (0 … K−1), or −1 for a model outside the range.

        Bin k is [edge_k, edge_{k+1}) as in ``np.histogram(c, edges)``; the range is open
        (lo < c < hi) unless ``closed`` (then the last bin includes hi).
        """
        c = as_sample(complexity, "complexity")
        if self.log and (c <= 0).any():
            raise StatsInputError("log bins need positive complexities")
        rule = self.resolve(c)
        assert rule.range is not None  # resolve() fixes it
        lo, hi = rule.range
        idx = np.searchsorted(rule.edges(), c, side="right") - 1
        inside = (c >= lo) & (c <= hi) if rule.closed else (c > lo) & (c < hi)
        idx = np.clip(idx, 0, rule.bins - 1)
        idx[~inside] = -1
        return idx

    def bin_masses(self) -> np.ndarray:
        """π_k: 1/K each, or the target's share in each bin (targets outside are ignored)."""
        if self.target is None:
            return np.full(self.bins, 1.0 / self.bins)
        t_idx = self.assign(np.asarray(self.target))
        t_idx = t_idx[t_idx >= 0]
        if t_idx.size == 0:
            raise StatsInputError("no target model falls inside the normalization range")
        return np.bincount(t_idx, minlength=self.bins) / t_idx.size


def bin_models(complexity: Any, rule: Normalization) -> tuple[np.ndarray, np.ndarray]:
    """Bin index per model (−1 outside the range) and the bin masses π_k of ``rule``,
    checking that no bin with π_k > 0 is empty.

    Raises StatsInputError naming the empty bins (and suggesting fewer bins).
    """
    c = as_sample(complexity, "complexity")
    resolved = rule.resolve(c)
    idx = resolved.assign(c)
    pi = resolved.bin_masses()
    counts = np.bincount(idx[idx >= 0], minlength=resolved.bins)
    empty = np.flatnonzero((counts == 0) & (pi > 0))
    if empty.size:
        edges = resolved.edges()
        shown = ", ".join(f"{k} [{edges[k]:.4g}, {edges[k + 1]:.4g})" for k in empty[:4])
        more = f" and {empty.size - 4} more" if empty.size > 4 else ""
        raise StatsInputError(
            f"{empty.size} of {resolved.bins} complexity bins are empty (bin {shown}{more}); "
            f"use fewer bins (e.g. {max(1, resolved.bins // 2)}) or a narrower range"
        )
    return idx, pi


def normalize_weights(
    complexity: Any,
    bins: int,
    range: tuple[float, float] | None = None,
    log: bool = False,
    target: Any = None,
) -> np.ndarray:
    """Complexity-normalization weights of NDS: w_i = π_k / n_k for a model in bin k.

    The range (lo, hi) is cut into ``bins`` = K equal bins (equal in log c when ``log``);
    models with lo < c < hi are kept, the rest get weight 0; n_k counts the kept models in bin
    k. With π_k = 1/K every bin carries mass 1/K (the NDS rule); with ``target`` (another
    space's complexities) π_k is that space's share of models in bin k, so the weighted sample
    has the target's complexity histogram. With ``range=None`` the range is [min c, max c] and
    every model is kept. The weights sum to 1 (up to rounding).

    Raises:
        StatsInputError: bad complexities, bins < 1, a bad range, or an empty bin (named, with
            a suggestion to use fewer bins).
    """
    c = as_sample(complexity, "complexity")
    rule = Normalization(bins, range, log, None if target is None else tuple(np.ravel(target)))
    idx, pi = bin_models(c, rule)
    inside = idx >= 0
    if not inside.any():
        raise StatsInputError(f"no model has complexity strictly inside the range {range}")
    counts = np.bincount(idx[inside], minlength=pi.size)
    w = np.zeros(c.size)
    k_in = idx[inside]
    if target is None:  # the NDS rule, in its own order of operations: 1 / n_k / K
        w[inside] = 1.0 / counts[k_in] / pi.size
    else:
        w[inside] = pi[k_in] / counts[k_in]
    return w
