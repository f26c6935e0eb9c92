"""Prospective planning: how many models per space decide a restriction step?

Planned from a *pilot* sample (errors, optionally complexities) and a pre-specified margin and
effect, never from an observed difference. Two futures are simulated, each by drawing n models
per space from the pilot with replacement (complexity bins come along, and the NDS weights are
recomputed in every draw):

    equal spaces:     parent and restricted both drawn from the pilot;
    an improvement:   the restricted space's errors are the pilot's shifted down by ``effect``
                      error points (default: the margin).

A pilot without ties is smoothed first (:func:`pilot_atoms`: a shrunk Gaussian-kernel
smoothing that keeps the pilot's mean and variance). A simulated study that leaves a
complexity bin empty decides nothing (the normalization needs every bin). In each simulated
study the step's actual tests are run — one-sided KS D+ and D− against the exact critical
value of the continuous-law test at n per space (what a plain step uses, ties or not; for
normalized samples at the effective n = n / Σ_k π_k²/s_k, s_k the pilot's share of bin k,
which is the permutation null's scale) and the intersection–union no-loss test with its
corner p-values (:mod:`edftools.stats.noloss`) — at the levels the step-down of a family of
``steps`` steps gives them (:mod:`edftools.stats.multiplicity`, L = α / steps): "no loss" needs
p ≤ ω·L and both KS tests below their L/2 critical values; "improves" needs the no-loss
p-value ≤ ω·L (or ≤ L once D+ passes its (1 − ω)·L critical value), D+ past its L/2 one and
D− below it (ω = :data:`edftools.stats.multiplicity.NO_LOSS_SHARE`). The planned n
is the smallest with

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
from edftools.stats.defaults import (
    DEFAULT_ALPHA,
    DEFAULT_BINS,
    DEFAULT_MARGIN_UNIT,
    DEFAULT_Q_RANGE,
    DEFAULT_SEED,
)
from edftools.stats.multiplicity import NO_LOSS_SHARE
from edftools.stats.noloss import Margin
from edftools.stats.pairtest import cell_bounds
from edftools.stats.step import as_margin
from edftools.stats.strata import Stratified, stratify_together

#: Error cells of the simulated EDFs: plain pilots / normalized ones (K bins × cells per draw).
_MAX_GRID = 1024
_MAX_GRID_NORMALIZED = 512
#: Bandwidth factor: h = _BANDWIDTH·min(s, IQR/1.34)·n^(−1/5) (Silverman's is 0.9; about half
#: of it brought the power achieved at the planned n closest to the asked one in
#: ``benchmarks/bench_calibration.py``, more smoothing planning more models).
_BANDWIDTH = 0.5
#: Atoms per pilot model in the smoothed pilot law.
_KERNEL_ATOMS = 8


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

    Resampling the raw values of a pilot would make simulated studies see a jagged law (and
    ties that real ones do not), and plan too many models. The pilot is smoothed by the
    *shrunk* smoothed bootstrap (Silverman 1986, §6.4.1): every model e_i becomes
    :data:`_KERNEL_ATOMS` atoms

        ē + (e_i − ē + h·z_j) / sqrt(1 + h²/s²),    z_j = Φ⁻¹((j − ½)/J),

    in its own complexity bin, h = :data:`_BANDWIDTH`·min(s, IQR/1.34)·n^(−1/5), ē and s the
    pilot's mean and standard deviation: a continuous law with the pilot's mean and variance.
    A pilot on a lattice (every error a multiple of its smallest gap, with ties: e.g.
    multiples of 100/N for an N-image test set) is smoothed the same way and rounded back to
    its lattice. A pilot with ties off any lattice (e.g. runs stuck at one error) keeps its
    values, each model 1/n.
    """
    from scipy.special import ndtri

    e, strata = sample.errors, sample.strata
    distinct = np.unique(e)
    step = lattice_step(distinct)
    if distinct.size < 0.9 * e.size and step is None:
        return e, strata, np.full(e.size, 1.0 / e.size)
    iqr = np.subtract(*np.quantile(e, [0.75, 0.25]))
    sd = float(np.std(e)) or 1.0
    h = _BANDWIDTH * (min(sd, iqr / 1.34) or sd) * e.size ** (-0.2)
    z = ndtri((np.arange(_KERNEL_ATOMS) + 0.5) / _KERNEL_ATOMS)
    mean = float(e.mean())
    values = mean + ((e - mean)[:, None] + h * z[None, :]) / np.sqrt(1.0 + (h / sd) ** 2)
    if step is not None and distinct.size < 0.9 * e.size:
        values = np.round(values / step) * step
    bins = np.repeat(strata, _KERNEL_ATOMS)
    return values.ravel(), bins, np.full(values.size, 1.0 / values.size)


def lattice_step(distinct: np.ndarray) -> float | None:
    """The lattice step d when every distinct error is a multiple of their smallest gap d
    (within 10⁻⁶·d), else None."""
    if distinct.size < 3:
        return None
    d = float(np.min(np.diff(distinct)))
    if d <= 0:
        return None
    k = distinct / d
    return d if np.all(np.abs(k - np.round(k)) < 1e-6 * np.maximum(1.0, np.abs(k))) else None


class _Pilot:
    """The pilot law as multinomial categories (error cell, complexity bin) on a grid that also
    holds the shifted errors, so every simulated EDF is exact on the grid."""

    def __init__(self, sample: Stratified, effect: float, margin: Margin) -> None:
        e, strata, probs = pilot_atoms(sample)
        shifts = [0.0, -effect]
        if margin.unit == "pp":
            shifts += [margin.value, margin.value - effect]
        pooled = np.concatenate([e + s for s in shifts])
        cells = _MAX_GRID if sample.pi.size == 1 else _MAX_GRID_NORMALIZED
        self.grid = cell_bounds(pooled, cells, cells)
        self.pi = sample.pi
        self.k = sample.pi.size
        # n_eff / n of the normalized EDF: 1 / Σ_k π_k² / s_k, s_k = the pilot's share of bin k
        share = np.bincount(strata, weights=probs, minlength=self.k) / probs.sum()
        self.effective_share = float(1.0 / np.sum(self.pi**2 / np.maximum(share, 1e-12)))
        self.margin = margin
        self.effect_shift = -effect
        self.cell = {
            s: np.minimum(np.searchsorted(self.grid, e + s, side="left"), self.grid.size - 1)
            for s in (0.0, -effect)
        }
        codes, first, inverse = np.unique(
            self.cell[0.0] * self.k + strata, return_index=True, return_inverse=True
        )
        self.probs = np.asarray(
            np.bincount(inverse, weights=probs, minlength=codes.size), dtype=float
        )
        self.probs /= self.probs.sum()
        self.cumprobs = np.cumsum(self.probs)
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
        cats = self.probs.size
        if n < 2 * cats:  # n draws per study: cheaper than a binomial per category
            idx = np.searchsorted(self.cumprobs, rng.random((reps, n)) * self.cumprobs[-1])
            idx = np.minimum(idx, cats - 1) + (np.arange(reps) * cats)[:, None]
            counts = np.bincount(idx.ravel(), minlength=reps * cats).reshape(reps, cats)
        else:
            counts = rng.multinomial(n, self.probs, size=reps)
        order, starts, target = self.targets[shift]
        per = np.zeros((reps, self.k * self.grid.size), dtype=np.int32)
        per[:, target] = np.add.reduceat(counts[:, order], starts, axis=1)
        # float32 counts are exact up to 2²⁴ models
        cum = np.cumsum(per.reshape(reps, self.k, self.grid.size), axis=2, dtype=np.float32)
        return cum, cum[:, :, -1]


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


def _parents(pilot: _Pilot, n: int, reps: int, rng: np.random.Generator) -> tuple:
    """``reps`` simulated parent spaces of n models: (EDF, its variance, bin totals)."""
    cum_p, tot_p = pilot.draw(n, reps, rng, 0.0)
    return (*_edf(cum_p, tot_p, pilot.pi), tot_p)


def _statistics(
    pilot: _Pilot,
    parents: tuple,
    n: int,
    rng: np.random.Generator,
    shift: float,
    cuts: tuple[float, ...] = (),
):
    """(D+, D−, p-value of the no-loss test) for simulated studies at n per space: the
    ``parents`` (:func:`_parents`) against as many restricted spaces drawn with ``shift``.

    Only the p-value's place against each level in ``cuts`` is exact (where bounds on it
    decide that place, the upper bound is returned): the Berger–Boos p-values, the costly
    part, are computed for the studies whose bounds straddle a level."""
    from scipy.special import ndtr

    from edftools.stats.noloss import NUISANCE_LEVEL, pointwise_pvalues

    f_p, v_p, tot_p = parents
    reps = f_p.shape[0]
    cum_r, tot_r = pilot.draw(n, reps, rng, shift)
    f_r, v_r = _edf(cum_r, tot_r, pilot.pi)
    diff = f_r - f_p
    better = np.maximum(diff.max(axis=1), 0.0)
    worse = np.maximum((-diff).max(axis=1), 0.0)
    m = pilot.margin
    if m.unit == "pp":
        a, b = m.q_range
        j = pilot.shift_index
        r, v_r = f_r[:, j], v_r[:, j]
        left = np.concatenate([np.zeros((reps, 1), dtype=f_p.dtype), f_p[:, :-1]], axis=1)
        has_p = f_p > left + 1e-9  # the parent's errors: the points the test is evaluated at
        # p-values lie in [β + Φ̄(s), β + 2.5·Φ̄(s)] where the parent's F(x) may lie in [a, b]
        # (β elsewhere): only the points whose s is within 0.7 of the row's smallest matter
        sd_p = np.sqrt(v_p)
        top = b + f_p - left
        s = np.maximum((r - np.minimum(f_p, top)) / np.sqrt(v_p + v_r), (a - f_p) / sd_p)
        reach = 4.5 * sd_p
        inside = has_p & (np.maximum(a, f_p - reach) <= np.minimum(top, f_p + reach))
        s_in = np.where(inside, s, np.inf)
        s_min = s_in.min(axis=1)
        # the row's p-value lies in [low, high] (widened by 10⁻⁴ for the float32 EDFs); it
        # is computed only where that leaves its place against a level in ``cuts`` open
        low = (NUISANCE_LEVEL + ndtr(-s_min)) * (1.0 - 1e-4)
        high = np.minimum(1.0, (NUISANCE_LEVEL + 2.5 * ndtr(-s_min)) * (1.0 + 1e-4))
        open_ = np.zeros(reps, dtype=bool)
        for cut in cuts:
            open_ |= (low <= cut) & (high > cut)
        near = inside & (s_in <= s_min[:, None] + 0.7) & open_[:, None]
        p_all = np.full(s.shape, NUISANCE_LEVEL)
        at_p, at_left, at_r, at_vp, at_vr = (
            v[near].astype(float) for v in (f_p, left, r, v_p, v_r)
        )
        p_all[near] = pointwise_pvalues(at_p, at_left, at_r, at_vp, at_vr, m.q_range)
        p_noloss = np.where(open_, np.where(has_p, p_all, 0.0).max(axis=1), high)
    else:
        p_noloss = ndtr(-((diff + m.value) / np.sqrt(v_r + v_p)).min(axis=1))
    # a study that leaves a complexity bin empty cannot be normalized: it decides nothing
    empty = (tot_p == 0).any(axis=1) | (tot_r == 0).any(axis=1)
    p_noloss[empty] = 1.0
    return better, worse, p_noloss


def ks_threshold(n: int, level: float) -> float:
    """The smallest D+ that scipy's exact one-sided KS test of two samples of n rejects at
    ``level``: k/n for the smallest k with P(D+ ≥ k/n) = C(2n, n − k)/C(2n, n) ≤ level."""
    from scipy.special import gammaln

    k = np.arange(n + 1)
    log_p = gammaln(2 * n + 1) - gammaln(n - k + 1) - gammaln(n + k + 1)
    log_p -= gammaln(2 * n + 1) - 2 * gammaln(n + 1)
    first = int(np.argmax(log_p <= np.log(level))) if (log_p <= np.log(level)).any() else n + 1
    return first / n - 1e-9


def _powers(pilot: _Pilot, n: int, level: float, n_sim: int, seed: Any) -> tuple[float, float]:
    """P(no loss | equal) and P(improves | improvement) at n per space, ``level`` = α / steps
    (the module docstring's rules)."""
    rng = np.random.default_rng(np.random.SeedSequence([*_entropy(seed), n]))
    size = max(2, round(n * pilot.effective_share))
    thr = ks_threshold(size, level / 2)
    first = ks_threshold(size, (1.0 - NO_LOSS_SHARE) * level)
    # both futures share their simulated parent spaces (one draw less per n)
    parents = _parents(pilot, n, n_sim, rng)
    cuts = (NO_LOSS_SHARE * level, level)
    b, w, p = _statistics(pilot, parents, n, rng, 0.0, cuts)
    equal = float(np.mean((p <= NO_LOSS_SHARE * level) & (b < thr) & (w < thr)))
    b, w, p = _statistics(pilot, parents, n, rng, pilot.effect_shift, cuts)
    shown = (p <= NO_LOSS_SHARE * level) | ((b >= first) & (p <= level))
    better = float(np.mean(shown & (b >= thr) & (w < thr)))
    return equal, better


def _entropy(seed: Any) -> list[int]:
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return [int(seed)]
    raise StatsInputError(f"seed must be an integer, got {seed!r}")


def _probit(p: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(min(max(p, 1e-3), 1.0 - 1e-3)))


def _first_reaching(
    powers: Any, target: float, start: int, n_max: int
) -> tuple[int | None, int | None]:
    """The smallest n per goal with power ≥ ``target`` (powers(n) -> (goal 1, goal 2)).

    Doublings (and halvings) from ``start`` bracket each goal's crossing between an n below
    the target and one at or above it (up to ``n_max``), one more point at the bracket's
    geometric middle narrows it to a factor √2, and the crossing is interpolated linearly in
    log n on the probit scale of the power (rounded up; power curves are close to straight
    there, while a linear interpolation of the power itself overshoots where they bend).
    Powers are assumed to grow with n.
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
        p_lo, p_hi = (_probit(powers(x)[goal]) for x in (lo, hi))
        frac = (_probit(target) - p_lo) / (p_hi - p_lo) if p_hi > p_lo else 1.0
        out.append(math.ceil(math.exp(math.log(lo) + frac * (math.log(hi) - math.log(lo)))))
    return out[0], out[1]


def plan(
    pilot_errors: Any,
    *,
    pilot_complexity: Any = None,
    bins: int = DEFAULT_BINS,
    margin: float | Margin | None = None,
    margin_unit: str = DEFAULT_MARGIN_UNIT,
    q_range: tuple[float, float] = DEFAULT_Q_RANGE,
    effect: float | None = None,
    power: float = 0.8,
    alpha: float = DEFAULT_ALPHA,
    steps: int = 1,
    n_sim: int = 400,
    n_max: int = 20_000,
    seed: int = DEFAULT_SEED,
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
    level = alpha / steps
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
