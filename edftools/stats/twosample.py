"""Two-sample tests of EDFs: Kolmogorov–Smirnov (scipy, or weighted with a permutation p-value)
and the one-sided EDF-deficit bound used for equivalence verdicts.

Weighted KS statistic (alternative ``two-sided`` / ``greater`` / ``less``, as in scipy):
    D = sup_e |F_a(e) − F_b(e)|,  D+ = sup_e (F_a(e) − F_b(e)),  D− = sup_e (F_b(e) − F_a(e)),
with F_a, F_b the weighted EDFs. Its p-value comes from permuting the sample labels of the
pooled models, each model keeping its weight (each sample's weights first scaled to mean 1):
    p = (1 + #{D*_b ≥ D}) / (1 + n_perm),
valid when the pooled (error, weight) pairs are exchangeable under H0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import check_count, check_level, make_rng, sample_and_weights
from edftools.stats.resample import categorize, original_edf, resample_edfs

ALTERNATIVES = ("two-sided", "less", "greater")
_CHUNK_ENTRIES = 2_000_000
_TIE = 1e-12


def check_alternative(alternative: str) -> str:
    """``alternative`` if it is one of two-sided / less / greater, else raise."""
    if alternative not in ALTERNATIVES:
        raise StatsInputError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    return alternative


def _sup(diff: np.ndarray, alternative: str) -> np.ndarray:
    """sup over the last axis of F_a − F_b (greater), F_b − F_a (less) or |·| (two-sided)."""
    if alternative == "greater":
        return np.maximum(diff.max(axis=-1), 0.0)
    if alternative == "less":
        return np.maximum((-diff).max(axis=-1), 0.0)
    return np.abs(diff).max(axis=-1)


def ks_statistic(
    a: Any, b: Any, weights_a: Any = None, weights_b: Any = None, alternative: str = "two-sided"
) -> float:
    """Weighted two-sample KS statistic D (or D+ / D−) over the pooled sample points."""
    ea, wa = sample_and_weights(a, weights_a, "a", "weights_a")
    eb, wb = sample_and_weights(b, weights_b, "b", "weights_b")
    check_alternative(alternative)
    grid = np.unique(np.r_[ea, eb])
    grid = np.r_[grid, np.nextafter(grid[-1], np.inf)]
    fa = original_edf(categorize(ea, grid, weights=wa))
    fb = original_edf(categorize(eb, grid, weights=wb))
    return float(_sup(fa - fb, alternative))


@dataclass(frozen=True)
class KSResult:
    """A two-sample KS test: ``statistic``, ``pvalue``, ``method``, ``alternative``."""

    statistic: float
    pvalue: float
    method: str
    alternative: str


def ks_permutation(
    a: Any,
    b: Any,
    weights_a: Any = None,
    weights_b: Any = None,
    alternative: str = "two-sided",
    n_perm: int = 999,
    seed: Any = 0,
) -> KSResult:
    """Weighted KS statistic with a label-permutation p-value (see the module docstring)."""
    ea, wa = sample_and_weights(a, weights_a, "a", "weights_a")
    eb, wb = sample_and_weights(b, weights_b, "b", "weights_b")
    check_alternative(alternative)
    n_perm = check_count(n_perm, "n_perm")
    na, nb = ea.size, eb.size
    wa = np.ones(na) if wa is None else wa * na
    wb = np.ones(nb) if wb is None else wb * nb
    e = np.r_[ea, eb]
    w = np.r_[wa, wb]
    order = np.argsort(e, kind="stable")
    e, w = e[order], w[order]
    ends = np.r_[np.flatnonzero(e[1:] != e[:-1]), e.size - 1]  # last index of each tie run
    label_a = np.r_[np.ones(na, bool), np.zeros(nb, bool)][order]
    observed = _perm_stat(label_a[None, :], w, ends, alternative)[0]
    rng = make_rng(seed)
    chunk = max(1, _CHUNK_ENTRIES // e.size)
    exceed = 0
    for start in range(0, n_perm, chunk):
        size = min(chunk, n_perm - start)
        labels = rng.permuted(np.broadcast_to(label_a, (size, e.size)), axis=1)
        stats = _perm_stat(labels, w, ends, alternative)
        exceed += int((stats >= observed - _TIE).sum())
    pvalue = (1 + exceed) / (1 + n_perm)
    return KSResult(float(observed), float(pvalue), "weighted KS, permutation", alternative)


def _perm_stat(labels: np.ndarray, w: np.ndarray, ends: np.ndarray, alternative: str) -> np.ndarray:
    """KS statistic per row of group labels over the error-sorted pooled models."""
    wa = labels * w
    cum_a = np.cumsum(wa, axis=1)[:, ends]
    cum_all = np.cumsum(w)[ends]
    cum_b = cum_all[None, :] - cum_a
    fa = cum_a / cum_a[:, -1:]
    fb = cum_b / cum_b[:, -1:]
    return _sup(fa - fb, alternative)


@dataclass(frozen=True)
class DeficitBound:
    """One-sided bound on the restricted space's worst EDF deficit.

    ``statistic`` = sup_e (F_parent(e) − F_restricted(e)) (≥ 0), ``upper`` its bootstrap upper
    confidence bound at ``level``; the restriction loses at most ``upper`` of EDF mass anywhere.
    """

    statistic: float
    upper: float
    level: float
    n_boot: int


def edf_deficit_bound(
    parent: Any,
    restricted: Any,
    weights_parent: Any = None,
    weights_restricted: Any = None,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: Any = 0,
) -> DeficitBound:
    """Upper confidence bound of Δ = sup_e (F_p(e) − F_r(e)), the restricted space's worst deficit.

    With T̂ = sup_e (F̂_p − F̂_r) and bootstrap EDFs F*_p, F*_r (models resampled within each
    sample, weights carried along, exact multinomial draws on the pooled points):

        U = T̂ + q_level( sup_e [(F̂_p − F*_p)(e) − (F̂_r − F*_r)(e)] ).

    Since Δ ≤ T̂ + sup_e[(F_p − F̂_p) − (F_r − F̂_r)], and the bootstrap mimics the law of that
    last sup, P(Δ ≤ U) ≥ level asymptotically (conservative: sup of a sum ≤ sum of sups).
    Equivalence "the restriction costs at most δ" is claimed when U ≤ δ.
    """
    ep, wp = sample_and_weights(parent, weights_parent, "parent", "weights_parent")
    er, wr = sample_and_weights(restricted, weights_restricted, "restricted", "weights_restricted")
    level = check_level(level)
    n_boot = check_count(n_boot, "n_boot")
    grid = np.unique(np.r_[ep, er])
    grid = np.r_[grid, np.nextafter(grid[-1], np.inf)]
    cat_p = categorize(ep, grid, weights=wp)
    cat_r = categorize(er, grid, weights=wr)
    fp, fr = original_edf(cat_p), original_edf(cat_r)
    stat = float(max(0.0, (fp - fr).max()))
    rng = make_rng(seed)
    chunk = max(1, min(n_boot, _CHUNK_ENTRIES // grid.size))
    sups = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        dp = fp - resample_edfs(cat_p, size, rng)
        dr = fr - resample_edfs(cat_r, size, rng)
        sups.append((dp - dr).max(axis=1))
    upper = stat + float(np.quantile(np.concatenate(sups), level))
    return DeficitBound(statistic=stat, upper=min(upper, 1.0), level=level, n_boot=n_boot)
