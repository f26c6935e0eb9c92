"""Simulated restriction steps with a known truth, to calibrate the verdicts.

A scenario draws a parent space and a restricted space of n models each. Errors come from a
digits-like distribution that depends on complexity c in [0, 1],

    e = 4 + 3·c + Gamma(shape 2, scale 1.5)       (error points; median ≈ 8, spread ≈ 3),

and c is drawn as (k + u)/8 with a bin k per model and u ~ Uniform(0, 1). In a *plain*
scenario both spaces draw k uniformly; in a *normalized* one the restricted space draws
k ∝ k + 2 (more complex models), so the spaces' complexity distributions differ while their
errors within every complexity bin do not — the null that normalization exists for.

The restricted space's errors are then moved by a monotone map g of the parent's error law:

    identical    g(e) = e
    shift        g(e) = e + amount                 (amount < 0: a uniform improvement)
    bump         g(e) = e + amount·max(0, 1 − |e − Q(0.3)| / w),  w = 1.5·amount: a loss of
                 exactly ``amount`` at one error (the least favourable no-loss boundary)
    cross        g(e) = e − amount below Q(0.35), e + amount above: more good models *and*
                 more bad ones (crossing EDFs), with a loss of ``amount`` over (0.35, 1]

(Q = quantiles of the parent's error law, computed once from a large seeded sample.)
:func:`verdict_rates` runs :func:`edftools.stats.family_test` on many seeded draws (a draw
that leaves a complexity bin empty cannot be normalized and counts as inconclusive).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats.noloss import Margin
from edftools.stats.step import family_test
from edftools.stats.strata import stratify_together
from edftools.stats.verdicts import INCONCLUSIVE, VERDICTS

Kind = Literal["identical", "shift", "bump", "cross"]
_BINS = 8


@lru_cache(maxsize=1)
def _reference_quantiles() -> np.ndarray:
    """Quantiles 0, 0.001, …, 1 of the parent's error law (a 400,000-model seeded sample)."""
    rng = np.random.default_rng(20_261_129)
    e, _ = _base(400_000, rng, skewed=False)
    return np.quantile(e, np.linspace(0, 1, 1001))


def _base(n: int, rng: np.random.Generator, skewed: bool) -> tuple[np.ndarray, np.ndarray]:
    p = np.arange(2, _BINS + 2, dtype=float) if skewed else np.ones(_BINS)
    k = rng.choice(_BINS, size=n, p=p / p.sum())
    c = (k + rng.random(n)) / _BINS
    return 4.0 + 3.0 * c + rng.gamma(2.0, 1.5, n), c


def quantile_of_parent(q: float) -> float:
    """Q(q) of the parent's error law."""
    return float(np.interp(q, np.linspace(0, 1, 1001), _reference_quantiles()))


@dataclass(frozen=True)
class Scenario:
    """A restriction step with a known truth (see the module docstring)."""

    kind: Kind
    amount: float = 0.0
    normalized: bool = False

    def move(self, e: np.ndarray) -> np.ndarray:
        """The map g applied to errors drawn from the parent's law."""
        a = self.amount
        if self.kind == "identical":
            return e
        if self.kind == "shift":
            return e + a
        if self.kind == "bump":
            center, width = quantile_of_parent(0.3), 1.5 * abs(a)
            return e + a * np.maximum(0.0, 1.0 - np.abs(e - center) / width)
        cut = quantile_of_parent(0.35)
        return np.where(e < cut, e - a, e + a)

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """(parent errors, parent complexity, restricted errors, restricted complexity)."""
        ep, cp = _base(n, rng, skewed=False)
        er, cr = _base(n, rng, skewed=self.normalized)
        return ep, cp, self.move(er), cr


def verdict_rates(
    scenario: Scenario,
    n: int,
    reps: int,
    margin: Margin | None = None,
    alpha: float = 0.05,
    seed: int = 0,
    n_perm: int = 999,
    max_perm: int | None = None,
) -> dict[str, float]:
    """Share of each verdict over ``reps`` seeded draws of the scenario at n per space."""
    margin = margin or Margin()
    counts: Counter[str] = Counter()
    for rep in range(reps):
        rng = np.random.default_rng([seed, rep])
        ep, cp, er, cr = scenario.draw(n, rng)
        comps = [cp, cr] if scenario.normalized else None
        try:
            parent, restricted = stratify_together([ep, er], comps, _BINS)
        except StatsInputError:  # a complexity bin without models: the step is not decided
            counts[INCONCLUSIVE] += 1
            continue
        res = family_test(
            [(parent, restricted)],
            margin,
            alpha,
            seed=[seed, rep],
            n_perm=n_perm,
            max_perm=max_perm or n_perm,
        )
        counts[res[0].verdict] += 1
    return {v: counts[v] / reps for v in VERDICTS}
