"""Multiplicity control over a family of tests: Holm, and the step-down of restriction steps.

Holm's step-down: sort p_(1) ≤ … ≤ p_(m); reject H_(j) while p_(j) ≤ α / (m − j + 1)
(:func:`holm`, :func:`step_down` with other divisors).

**Restriction steps** (:func:`step_shares`). Each of m steps has three hypotheses
(:mod:`edftools.stats.verdicts`): H+ "nowhere better", H− "nowhere worse", H≥δ "a loss of the
margin somewhere". H− and H≥δ exclude each other (a restricted space nowhere worse loses
nothing), so a step's true hypotheses are one of {}, {+}, {−}, {≥δ}, {+, −}, {+, ≥δ}. The family
is tested by a sequentially rejective weighted Bonferroni procedure (Holm's, with weights that
respect the logical constraint). For a set J of hypotheses that can be true
together (no step holding both H− and H≥δ), hypothesis i of step s in J gets the weight

    w_i(J) = a_i(J_s) / k(J),    k(J) = the steps s with J_s = J ∩ (step s) non-empty,

    a = 1 for a step's only hypothesis in J;   ½, ½ for {+, −};   1 − ω, ω for {+, ≥δ},

ω = :data:`NO_LOSS_SHARE`, so Σ_{i∈J} w_i(J) ≤ 1. Each step gets an equal part of α, and where
"better" and "loss ≥ margin" can both be true the no-loss hypothesis takes the larger share
(a "no loss" needs it; "improves" needs it *and* H+; only "mixed" and the inconclusive
"better somewhere" rest on H+ alone). With R the hypotheses rejected so far, H_i is rejected
when

    p_i ≤ α · w_i(R),   w_i(R) = min of w_i(J) over the J ∋ i outside R
                               = a_i(the step's hypotheses still open) / k(steps with one open),

with a_+ = min(½ if H− is open, 1 − ω if H≥δ is open, else 1), a_− = ½ if H+ is open, else 1, and
a_≥δ = ω if H+ is open, else 1 (H− and H≥δ never share a J), repeated until nothing changes.
The family-wise error is ≤ α for every configuration of true hypotheses T: until the first
false rejection R ∩ T = ∅, so every true H_i is tested at ≤ α·w_i(T) and Σ_{i∈T} w_i(T) ≤ 1
(the sequential design splits each w_i over its looks, :mod:`edftools.stats.sequential`).
Every rejection is also one of the closed test (Marcus, Peritz and Gabriel 1976) with these
weighted Bonferroni tests of the intersections, which can reject more (these weights are not
consonant: e.g. H− once D+ passes α/2 though H+ fails its 1 − ω share) but needs all 6^m
intersections; the step-down is what the sequential design's argument covers. For one step
this tests the no-loss hypothesis at ω·α = 0.045 (Shaffer's step-down with divisors
min(2m, 3m − r), used before, tested it at α/2 = 0.025 until two hypotheses were rejected),
"worse" at α/2, or α once "better" is rejected, and "better" at (1 − ω)·α = 0.005 until the
no-loss hypothesis is rejected, α/2 after.
Adjusted p-values (:func:`steps_adjusted`): p̃ of the j-th rejection in the step-down's order
(smallest p_i / w_i(R) first) is the running maximum of p_i / w_i(R); H_i is rejected at
level α iff p̃_i ≤ α.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import check_level
from edftools.stats.defaults import DEFAULT_ALPHA


def _pvalues(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise StatsInputError("pvalues must be a non-empty 1-D sequence")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise StatsInputError("pvalues must be numbers in [0, 1]")
    return p


def holm(pvalues: Sequence[float], alpha: float = DEFAULT_ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down (statsmodels ``multipletests(method="holm")``): ``(reject, adjusted)``."""
    from statsmodels.stats.multitest import multipletests

    p = _pvalues(pvalues)
    reject, adjusted, _, _ = multipletests(p, alpha=check_level(alpha, "alpha"), method="holm")
    return reject, adjusted


def step_down(
    pvalues: Sequence[float], divisors: Sequence[int], alpha: float = DEFAULT_ALPHA
) -> tuple[np.ndarray, np.ndarray]:
    """Step-down with divisors t_j (Holm: t_j = m − j + 1): ``(reject, adjusted)``.

    p̃_(j) = max_{i ≤ j} min(1, t_i·p_(i)); reject where p̃ ≤ α.
    """
    p = _pvalues(pvalues)
    t = np.asarray(divisors, dtype=float)
    if t.shape != p.shape or (t < 1).any():
        raise StatsInputError("divisors must be one number ≥ 1 per p-value")
    order = np.argsort(p, kind="stable")
    adjusted_sorted = np.maximum.accumulate(np.minimum(1.0, t * p[order]))
    adjusted = np.empty_like(p)
    adjusted[order] = adjusted_sorted
    return adjusted <= check_level(alpha, "alpha"), adjusted


#: ω: the no-loss hypothesis' share of its step's level while "better" is open (module
#: docstring); "better" gets 1 − ω.
NO_LOSS_SHARE = 0.9


def step_shares(rejected: np.ndarray, no_loss_share: float = NO_LOSS_SHARE) -> np.ndarray:
    """w_i(R): each hypothesis' share of α given the rejected ones (module docstring).

    ``rejected``: (m, 3) booleans, columns (better, worse, no loss); returns (m, 3) shares
    a_i / k (k = the steps with a hypothesis still open).
    """
    done = np.asarray(rejected, dtype=bool)
    if done.ndim != 2 or done.shape[1] != 3:
        raise StatsInputError("rejected must have one row of three per step")
    w = float(no_loss_share)
    if not 0.0 < w < 1.0:
        raise StatsInputError(f"no_loss_share must be in (0, 1), got {no_loss_share!r}")
    open_ = ~done
    better = np.ones(len(done))
    better = np.where(open_[:, 1], 0.5, better)
    better = np.where(open_[:, 2], np.minimum(better, 1.0 - w), better)
    worse = np.where(open_[:, 0], 0.5, 1.0)
    no_loss = np.where(open_[:, 0], w, 1.0)
    k = max(1, int(open_.any(axis=1).sum()))
    return np.stack([better, worse, no_loss], axis=1) / k


def steps_adjusted(pvalues: np.ndarray, no_loss_share: float = NO_LOSS_SHARE) -> np.ndarray:
    """Adjusted p-values of the closed step test (module docstring), shape (m, 3) like
    ``pvalues`` (columns better, worse, no loss): H_i is rejected at level α iff p̃_i ≤ α."""
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 2 or p.shape[1] != 3:
        raise StatsInputError("pvalues must have one row of three per step")
    _pvalues(p.ravel())
    done = np.zeros(p.shape, dtype=bool)
    adjusted = np.ones(p.shape)
    running = 0.0
    for _ in range(p.size):
        ratio = np.where(done, np.inf, p / step_shares(done, no_loss_share))
        j = np.unravel_index(int(np.argmin(ratio)), p.shape)
        running = max(running, min(1.0, float(ratio[j])))
        adjusted[j] = running
        done[j] = True
    return adjusted
