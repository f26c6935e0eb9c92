"""Prospective planning: how many models per space decide a restriction step?

Planned from a *pilot* sample (errors, optionally complexities) and a pre-specified margin and
effect, never from an observed difference. Two futures are simulated, each by drawing n models
per space from the pilot with replacement (complexity bins come along, and the NDS weights are
recomputed in every draw):

    equal spaces:     parent and restricted both drawn from the pilot;
    an improvement:   the restricted space's errors are the pilot's shifted down by ``effect``
                      error points (default: the margin).

A pilot without ties is smoothed first (:func:`pilot_atoms`). A simulated study that leaves a
complexity bin empty decides nothing (the normalization needs every bin). In each simulated
study the step's actual tests are run — one-sided KS D+ and D− (their null distribution at
that n simulated once from pairs of pilot draws, which is what the
permutation test conditions on) and the intersection–union no-loss z-test
(:mod:`edftools.stats.noloss`) — at the level each hypothesis gets first in a family of
``steps`` steps, α / (2·steps) (:mod:`edftools.stats.multiplicity`). The planned n is the
smallest with

    P(verdict = "no loss" | equal) ≥ power   and   P(verdict = "improves" | improvement) ≥ power,

found on a grid of doublings of n, narrowed to a factor √2 and interpolated in log n
(:func:`_first_reaching`), all draws seeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import as_sample, check_count, check_level
from edftools.stats.noloss import Margin
from edftools.stats.pairtest import cell_bounds
from edftools.stats.step import as_margin
from edftools.stats.strata import Stratified, stratify_together

_MAX_GRID = 512
_KDE_POINTS = 200


@dataclass(frozen=True)
class PlanResult:
    """Models per space that decide a step with the requested power.

    ``n`` = max(``n_no_loss``, ``n_improves``) (None when ``n_max`` is not enough);
    ``curve`` holds (n, P(no loss | equal), P(improves | improvement)) at every n simulated.
    """

    n: int | None
    n_no_loss: int | None
    n_improves: int | None
    power: float
    alpha: float
    steps: int
    margin: Margin
    effect: float
    n_sim: int
    curve: tuple[tuple[int, float, float], ...]

    def __repr__(self) -> str:
        shown = "more than the n_max simulated" if self.n is None else f"{self.n:,}"
        return (
            f"PlanResult(n={shown} per space; no loss at {self.n_no_loss}, improves at "
            f"{self.n_improves}; margin {self.margin.describe()}, effect {self.effect:g} pp, "
            f"power {self.power:g}, alpha {self.alpha:g} over {self.steps} step(s))"
        )


def pilot_atoms(sample: Stratified) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The law simulated studies draw models from: (error, bin, probability) atoms.

    A pilot with ties (errors on a lattice, e.g. multiples of 100/N for an N-image test set)
    keeps its own values, each model 1/n. A pilot without ties is smoothed: per complexity bin
    a Gaussian kernel density (Silverman's bandwidth h = 0.9·min(sd, IQR/1.34)·n^(−1/5) of the
    whole pilot) on :data:`_KDE_POINTS` points, each bin keeping its share of the pilot's
    models — resampling the raw values of a continuous pilot would make simulated studies see
    ties that real ones do not (and plan too many models).
    """
    e, strata = sample.errors, sample.strata
    if np.unique(e).size < 0.9 * e.size:
        return e, strata, np.full(e.size, 1.0 / e.size)
    iqr = np.subtract(*np.quantile(e, [0.75, 0.25]))
    spread = min(float(np.std(e)), iqr / 1.34) or float(np.std(e)) or 1.0
    h = 0.9 * spread * e.size ** (-0.2)
    xs = np.linspace(e.min() - 3 * h, e.max() + 3 * h, _KDE_POINTS)
    values, bins, probs = [], [], []
    for k in range(sample.pi.size):
        ek = e[strata == k]
        if ek.size == 0:
            continue
        dens = np.exp(-0.5 * ((xs[:, None] - ek[None, :]) / h) ** 2).sum(axis=1)
        values.append(xs)
        bins.append(np.full(xs.size, k))
        probs.append(dens / dens.sum() * ek.size / e.size)
    return np.concatenate(values), np.concatenate(bins), np.concatenate(probs)


class _Pilot:
    """The pilot law as multinomial categories (error cell, complexity bin) on a grid that also
    holds the shifted errors, so every simulated EDF is exact on the grid."""

    def __init__(self, sample: Stratified, effect: float, margin: Margin) -> None:
        e, strata, probs = pilot_atoms(sample)
        shifts = [0.0, -effect]
        if margin.unit == "pp":
            shifts += [margin.value, margin.value - effect]
        pooled = np.concatenate([e + s for s in shifts])
        self.grid = cell_bounds(pooled, _MAX_GRID, _MAX_GRID)
        self.pi = sample.pi
        self.k = sample.pi.size
        self.margin = margin
        self.effect_shift = -effect
        self.cell = {
            s: np.minimum(np.searchsorted(self.grid, e + s, side="left"), self.grid.size - 1)
            for s in (0.0, -effect)
        }
        codes, first, inverse = np.unique(
            self.cell[0.0] * self.k + strata, return_index=True, return_inverse=True
        )
        self.probs = np.bincount(inverse, weights=probs, minlength=codes.size)
        self.probs /= self.probs.sum()
        group = codes % self.k
        # each category (a distinct (error cell, bin)) lands in one (cell, bin) of the grid
        # under each shift; categories that share a target are summed
        self.targets = {}
        for s in (0.0, -effect):
            target = group * self.grid.size + self.cell[s][first]
            order = np.argsort(target, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(target[order]) != 0])
            self.targets[s] = (order, starts, target[order][starts])
        if margin.unit == "pp":
            self.shift_index = np.minimum(
                np.searchsorted(self.grid, self.grid + margin.value, side="right") - 1,
                self.grid.size - 1,
            )

    def draw(self, n: int, reps: int, rng: np.random.Generator, shift: float) -> tuple:
        """Per-bin cumulative counts on the grid (reps, K, G) and bin totals (reps, K)."""
        counts = rng.multinomial(n, self.probs, size=reps)
        order, starts, target = self.targets[shift]
        per = np.zeros((reps, self.k * self.grid.size), dtype=np.int32)
        per[:, target] = np.add.reduceat(counts[:, order], starts, axis=1)
        cum = np.cumsum(per.reshape(reps, self.k, self.grid.size), axis=2, dtype=np.int32)
        return cum.astype(np.float32), cum[:, :, -1].astype(np.float32)


def _edf(cum: np.ndarray, totals: np.ndarray, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renormalized EDF per replicate (reps, G) and its variance given the bin counts."""
    if pi.size == 1:
        f = cum[:, 0, :] / totals
        fc = np.clip(f, 0.5 / totals, 1.0 - 0.5 / totals)
        return f, fc * (1.0 - fc) / totals
    present = totals > 0
    share = np.where(present, pi[None, :].astype(np.float32), np.float32(0.0))
    share /= share.sum(axis=1, keepdims=True)
    n_k = np.maximum(totals, 1)[:, :, None]
    f_k = cum / n_k
    f = np.einsum("rkg,rk->rg", f_k, share)
    np.clip(f_k, 0.5 / n_k, 1.0 - 0.5 / n_k, out=f_k)
    var = np.einsum("rkg,rk->rg", f_k * (1.0 - f_k) / n_k, share**2)
    return f, var


def _statistics(pilot: _Pilot, n: int, reps: int, rng: np.random.Generator, shift: float):
    """(D+, D−, min z of the no-loss test) for ``reps`` simulated studies at n per space."""
    cum_p, tot_p = pilot.draw(n, reps, rng, 0.0)
    cum_r, tot_r = pilot.draw(n, reps, rng, shift)
    f_p, v_p = _edf(cum_p, tot_p, pilot.pi)
    f_r, v_r = _edf(cum_r, tot_r, pilot.pi)
    diff = f_r - f_p
    better = np.maximum(diff.max(axis=1), 0.0)
    worse = np.maximum((-diff).max(axis=1), 0.0)
    m = pilot.margin
    if m.unit == "pp":
        j = pilot.shift_index
        z = (f_r[:, j] - f_p) / np.sqrt(v_r[:, j] + v_p)
        a, b = m.q_range
        has_p = np.diff(np.concatenate([np.zeros((reps, 1)), cum_p.sum(axis=1)], axis=1), axis=1)
        before = np.concatenate([np.zeros((reps, 1)), f_p[:, :-1]], axis=1)
        inside = (has_p > 0) & (f_p >= a * (1 - 1e-12)) & (before < b * (1 - 1e-12))
    else:
        z = (diff + m.value) / np.sqrt(v_r + v_p)
        inside = np.ones_like(z, dtype=bool)
    z_min = np.where(inside, z, np.inf).min(axis=1)
    # a study that leaves a complexity bin empty cannot be normalized: it decides nothing
    empty = (tot_p == 0).any(axis=1) | (tot_r == 0).any(axis=1)
    z_min[empty] = -np.inf
    return better, worse, z_min


def _powers(pilot: _Pilot, n: int, level: float, n_sim: int, seed: Any) -> tuple[float, float]:
    """P(no loss | equal) and P(improves | improvement) at n per space."""
    from scipy.special import ndtri

    rng = np.random.default_rng(np.random.SeedSequence([*_entropy(seed), n]))
    null_b, null_w, _ = _statistics(pilot, n, max(4 * n_sim, 1500), rng, 0.0)
    crit_b = np.quantile(null_b, 1.0 - level, method="higher")
    crit_w = np.quantile(null_w, 1.0 - level, method="higher")
    z_crit = -ndtri(level)
    b, w, z = _statistics(pilot, n, n_sim, rng, 0.0)
    equal = float(np.mean((z > z_crit) & (b <= crit_b) & (w <= crit_w)))
    b, w, z = _statistics(pilot, n, n_sim, rng, pilot.effect_shift)
    better = float(np.mean((z > z_crit) & (b > crit_b) & (w <= crit_w)))
    return equal, better


def _entropy(seed: Any) -> list[int]:
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return [int(seed)]
    raise StatsInputError(f"seed must be an integer, got {seed!r}")


def _first_reaching(
    powers: Any, target: float, start: int, n_max: int
) -> tuple[int | None, int | None]:
    """The smallest n per goal with power ≥ ``target`` (powers(n) -> (goal 1, goal 2)).

    Doublings (and halvings) from ``start`` bracket each goal's crossing between an n below
    the target and one at or above it (up to ``n_max``), one more point at the bracket's
    geometric middle narrows it to a factor √2, and the crossing is interpolated linearly in
    log n (rounded up). Powers are assumed to grow with n.
    """
    out: list[int | None] = []
    for goal in (0, 1):
        lo, hi = None, max(4, start)
        while powers(hi)[goal] < target:
            if hi >= n_max:
                break
            lo, hi = hi, min(n_max, hi * 2)
        if powers(hi)[goal] < target:
            out.append(None)
            continue
        while lo is None and hi > 4:
            down = max(4, hi // 2)
            if powers(down)[goal] < target:
                lo = down
            else:
                hi = down
        if lo is None:
            out.append(hi)
            continue
        mid = round(math.sqrt(lo * hi))
        if lo < mid < hi:
            lo, hi = (mid, hi) if powers(mid)[goal] < target else (lo, mid)
        p_lo, p_hi = powers(lo)[goal], powers(hi)[goal]
        frac = (target - p_lo) / (p_hi - p_lo) if p_hi > p_lo else 1.0
        out.append(math.ceil(math.exp(math.log(lo) + frac * (math.log(hi) - math.log(lo)))))
    return out[0], out[1]


def plan(
    pilot_errors: Any,
    *,
    pilot_complexity: Any = None,
    bins: int = 8,
    margin: float | Margin | None = None,
    margin_unit: str = "pp",
    q_range: tuple[float, float] = (0.1, 0.5),
    effect: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    steps: int = 1,
    n_sim: int = 400,
    n_max: int = 20_000,
    seed: int = 0,
) -> PlanResult:
    """Models per space for a step to end "no loss" if the spaces are equal and "improves" if
    the restricted one is better by ``effect`` error points, each with probability ``power``.

    See the module docstring for the simulation. ``effect`` defaults to the margin in pp (for
    an EDF margin: the shift of the pilot's errors that moves its EDF by the margin).
    """
    e = as_sample(pilot_errors, "pilot_errors")
    comps = None if pilot_complexity is None else [pilot_complexity]
    (sample,) = stratify_together([e], comps, bins, names=["pilot"])
    m = as_margin(margin, margin_unit, q_range)
    target = check_level(power, "power")
    alpha = check_level(alpha, "alpha")
    steps = check_count(steps, "steps")
    n_sim = check_count(n_sim, "n_sim", 50)
    n_max = check_count(n_max, "n_max", 4)
    if effect is None:
        effect = m.value if m.unit == "pp" else _edf_shift(sample, m.value)
    if not (np.isfinite(effect) and effect > 0):
        raise StatsInputError(f"effect must be a positive number of error points, got {effect!r}")
    pilot = _Pilot(sample, float(effect), m)
    level = alpha / (2 * steps)
    cache: dict[int, tuple[float, float]] = {}

    def at(n: int) -> tuple[float, float]:
        if n not in cache:
            cache[n] = _powers(pilot, n, level, n_sim, seed)
        return cache[n]

    n_equal, n_better = _first_reaching(at, target, max(16, sample.n), n_max)
    both = None if n_equal is None or n_better is None else max(n_equal, n_better)
    curve = tuple((n, *cache[n]) for n in sorted(cache))
    return PlanResult(both, n_equal, n_better, target, alpha, steps, m, float(effect), n_sim, curve)


def _edf_shift(sample: Stratified, mass: float) -> float:
    """The error shift s with sup_x (F(x + s) − F(x)) = ``mass`` for the pilot's EDF."""
    x = np.unique(sample.errors)
    lo, hi = 0.0, float(x[-1] - x[0]) + 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if np.max(sample.cdf(x + mid) - sample.cdf(x)) >= mass:
            hi = mid
        else:
            lo = mid
    return hi
