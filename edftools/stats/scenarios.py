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
    bump         g(e) = e + amount·max(0, 1 − |e − Q(at)| / w),  w = 1.5·amount: a loss of
                 exactly ``amount`` at the one quantile level ``at`` (default 0.3; a *point*
                 loss, the least favourable no-loss boundary)
    fade         a loss of ``amount`` at every level beyond ``at`` (outward), fading out
                 linearly in error towards ``fade_to``: for at < fade_to,
                 g(e) = e + amount·clip(1 − (e − Q(at)) / L, 0, 1) with
                 L = max(Q(fade_to) − Q(at), 1.5·amount) (so g stays increasing), mirrored for
                 at > fade_to; the largest loss inside [at, fade_to] is exactly ``amount``, at
                 ``at``
    cross        g(e) = e − amount below Q(0.35), e + amount above: more good models *and*
                 more bad ones (crossing EDFs), with a loss of ``amount`` over (0.35, 1]

(Q = quantiles of the parent's error law, computed once from a large seeded sample.)

``error_law`` changes both spaces' errors after the map: ``"heavy"`` — 5% of runs diverged
(their error set to 90 points), ``"lattice"`` — errors rounded to 0.1 point (a 1,000-image
test set). ``plan`` is calibrated on pilots of all of these.

*Confounded* normalized scenarios (``flops_law`` set) put error on a continuous complexity
inside the bins: complexity f in [1, ``flops_ratio``], the parent's uniform, the restricted
space's ``"linear"`` (density ∝ f) or ``"log-uniform"`` (density ∝ 1/f), and

    e = 4 + ``flops_slope``·log(f)/log(flops_ratio) + Gamma(shape 2, scale 1.5)

for both spaces: equal errors at equal complexity, but the spaces' complexities differ *inside*
each of the K bins, so labels are not exchangeable within bins (the NDS 8-bin permutation
test is then no longer exact; see :mod:`edftools.stats.pairtest`).
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
from edftools.stats.defaults import DEFAULT_ALPHA, DEFAULT_N_PERM, DEFAULT_SEED
from edftools.stats.noloss import Margin
from edftools.stats.step import family_test
from edftools.stats.strata import stratify_together
from edftools.stats.verdicts import INCONCLUSIVE, VERDICTS

Kind = Literal["identical", "shift", "bump", "fade", "cross"]
FlopsLaw = Literal["linear", "log-uniform"]
ErrorLaw = Literal["smooth", "heavy", "lattice"]
DIVERGED_SHARE = 0.05
DIVERGED_ERROR = 90.0
LATTICE = 0.1
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


def _confounded(
    n: int, rng: np.random.Generator, law: FlopsLaw | None, ratio: float, slope: float
) -> tuple[np.ndarray, np.ndarray]:
    """Errors and complexities f in [1, ratio]: uniform (law None), density ∝ f ("linear")
    or ∝ 1/f ("log-uniform"); e = 4 + slope·log(f)/log(ratio) + Gamma(2, 1.5)."""
    u = rng.random(n)
    if law is None:
        f = 1.0 + (ratio - 1.0) * u
    elif law == "linear":
        f = np.sqrt(1.0 + u * (ratio**2 - 1.0))
    else:
        f = ratio**u
    return 4.0 + slope * np.log(f) / np.log(ratio) + rng.gamma(2.0, 1.5, n), f


def quantile_of_parent(q: float) -> float:
    """Q(q) of the parent's error law."""
    return float(np.interp(q, np.linspace(0, 1, 1001), _reference_quantiles()))


@dataclass(frozen=True)
class Scenario:
    """A restriction step with a known truth (see the module docstring)."""

    kind: Kind
    amount: float = 0.0
    normalized: bool = False
    at: float = 0.3
    fade_to: float = 0.25
    flops_law: FlopsLaw | None = None
    flops_ratio: float = 2.0
    flops_slope: float = 20.0
    error_law: ErrorLaw = "smooth"

    @property
    def tested_normalized(self) -> bool:
        """Whether the step is tested on normalized EDFs."""
        return self.normalized or self.flops_law is not None

    def move(self, e: np.ndarray) -> np.ndarray:
        """The map g applied to errors drawn from the parent's law."""
        a = self.amount
        if self.kind == "identical":
            return e
        if self.kind == "shift":
            return e + a
        if self.kind == "bump":
            center, width = quantile_of_parent(self.at), 1.5 * abs(a)
            return e + a * np.maximum(0.0, 1.0 - np.abs(e - center) / width)
        if self.kind == "fade":
            start, end = quantile_of_parent(self.at), quantile_of_parent(self.fade_to)
            length = max(abs(end - start), 1.5 * abs(a))
            past = (e - start) if self.fade_to > self.at else (start - e)
            return e + a * np.clip(1.0 - past / length, 0.0, 1.0)
        cut = quantile_of_parent(0.35)
        return np.where(e < cut, e - a, e + a)

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """(parent errors, parent complexity, restricted errors, restricted complexity)."""
        if self.flops_law is not None:
            ep, cp = _confounded(n, rng, None, self.flops_ratio, self.flops_slope)
            er, cr = _confounded(n, rng, self.flops_law, self.flops_ratio, self.flops_slope)
        else:
            ep, cp = _base(n, rng, skewed=False)
            er, cr = _base(n, rng, skewed=self.normalized)
        return self._law(ep, rng), cp, self._law(self.move(er), rng), cr

    def _law(self, e: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.error_law == "heavy":
            return np.where(rng.random(e.size) < DIVERGED_SHARE, DIVERGED_ERROR, e)
        if self.error_law == "lattice":
            return np.round(e / LATTICE) * LATTICE
        return e


def verdict_rates(
    scenario: Scenario,
    n: int,
    reps: int,
    margin: Margin | None = None,
    alpha: float = DEFAULT_ALPHA,
    seed: int = DEFAULT_SEED,
    n_perm: int = DEFAULT_N_PERM,
    max_perm: int | None = None,
) -> dict[str, float]:
    """Share of each verdict over ``reps`` seeded draws of the scenario at n per space."""
    margin = margin or Margin()
    counts: Counter[str] = Counter()
    for rep in range(reps):
        rng = np.random.default_rng([seed, rep])
        ep, cp, er, cr = scenario.draw(n, rng)
        comps = [cp, cr] if scenario.tested_normalized else None
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
