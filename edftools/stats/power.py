"""Power of the two-sample KS test for an EDF difference δ = sup_e |F_a(e) − F_b(e)|.

Asymptotic rule (default, conservative). With n_a = n, n_b = ratio·n and N = n_a·n_b/(n_a + n_b),
KS rejects when √N·D > c_α, c_α the upper-α point of the Kolmogorov distribution (two-sided) or
sqrt(ln(1/α)/2) (one-sided). At the point e* where |F_a − F_b| = δ, D ≥ |F̂_a(e*) − F̂_b(e*)|,
which is ≈ Normal(δ, v) with v = F_a(1−F_a)/n_a + F_b(1−F_b)/n_b ≤ 1/(4N). Hence

    power(n, δ) ≥ Φ(2·(√N·δ − c_α)),      N needed = ((c_α + z_power/2) / δ)²,

a lower bound on power and an upper bound on the models needed (equal only when F(e*) = 1/2
and the difference sits at one point). ``method="simulation"`` instead simulates the test under a
normal location shift, a ~ N(0, 1) and b ~ N(μ, 1) with μ = 2·Φ⁻¹((1 + δ)/2) (so the sup
difference is exactly δ, attained where F = 1/2), with a Monte-Carlo critical value.

This is the power of one KS test. To plan a restriction study (how many models decide a step
"no loss" or "improves", with the verdict's actual tests and multiplicity), use
:func:`edftools.stats.plan.plan`, which simulates them on resamples of a pilot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import check_count, check_level, make_rng
from edftools.stats.defaults import DEFAULT_ALPHA, DEFAULT_SEED

ALTERNATIVES = ("two-sided", "less", "greater")


def check_alternative(alternative: str) -> str:
    """``alternative`` if it is one of two-sided / less / greater, else raise."""
    if alternative not in ALTERNATIVES:
        raise StatsInputError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    return alternative


@dataclass(frozen=True)
class PowerResult:
    """n per sample (a: n, b: ratio·n), δ, α and power; ``method`` says how it was computed."""

    n: int
    delta: float
    alpha: float
    power: float
    ratio: float
    method: str
    alternative: str


def _critical(alpha: float, alternative: str) -> float:
    from scipy import stats

    if alternative == "two-sided":
        return float(stats.kstwobign.isf(alpha))
    return math.sqrt(math.log(1.0 / alpha) / 2.0)


def _n_eff(n: float, ratio: float) -> float:
    return n * ratio * n / (n + ratio * n)


def _asymptotic_power(n: int, delta: float, alpha: float, ratio: float, alt: str) -> float:
    from scipy import stats

    return float(
        stats.norm.cdf(2.0 * (math.sqrt(_n_eff(n, ratio)) * delta - _critical(alpha, alt)))
    )


def _simulated_d(n_a: int, n_b: int, delta: float, n_sim: int, rng: np.random.Generator, alt: str):
    from scipy import stats

    out = np.empty(n_sim)
    chunk = max(1, 2_000_000 // (n_a + n_b))
    for start in range(0, n_sim, chunk):
        size = min(chunk, n_sim - start)
        shift = 2.0 * stats.norm.ppf((1.0 + delta) / 2.0)
        a = rng.standard_normal((size, n_a))
        b = rng.standard_normal((size, n_b)) + shift
        pooled = np.concatenate([a, b], axis=1)
        is_a = np.argsort(pooled, axis=1) < n_a  # sorted position holds a model of a
        diff = np.cumsum(is_a, axis=1) / n_a - np.cumsum(~is_a, axis=1) / n_b
        if alt == "two-sided":
            out[start : start + size] = np.abs(diff).max(axis=1)
        elif alt == "greater":
            out[start : start + size] = diff.max(axis=1)
        else:
            out[start : start + size] = (-diff).max(axis=1)
    return out


def _simulated_power(
    n: int, delta: float, alpha: float, ratio: float, alt: str, n_sim: int, seed: Any
) -> float:
    rng = make_rng(seed)
    n_b = max(1, round(ratio * n))
    null = _simulated_d(n, n_b, 0.0, n_sim, rng, alt)
    crit = np.quantile(null, 1.0 - alpha, method="higher")
    # D is discrete: reject on D > crit, plus a randomized share at D == crit to reach size α
    p_above, p_at = float((null > crit).mean()), float(np.isclose(null, crit).mean())
    share = (alpha - p_above) / p_at if p_at > 0 else 0.0
    alt_d = _simulated_d(n, n_b, delta, n_sim, rng, alt)
    return float((alt_d > crit).mean() + share * np.isclose(alt_d, crit).mean())


def power(
    n: int | None = None,
    delta: float | None = None,
    alpha: float = DEFAULT_ALPHA,
    power: float = 0.8,
    *,
    ratio: float = 1.0,
    alternative: str = "two-sided",
    method: str = "asymptotic",
    n_sim: int = 2000,
    seed: Any = DEFAULT_SEED,
) -> PowerResult:
    """Power of the two-sample KS test, or the models per space needed for it.

    Give ``n`` and ``delta`` for the power at n; give ``delta`` alone for the smallest n with
    power ≥ ``power``; give ``n`` alone for the smallest detectable δ at that power. Formulas in
    the module docstring (asymptotic: power ≥ Φ(2(√N·δ − c_α)), N = n_a·n_b/(n_a + n_b)).
    """
    from scipy import stats

    alpha = check_level(alpha, "alpha")
    target = check_level(power, "power")
    check_alternative(alternative)
    if method not in ("asymptotic", "simulation"):
        raise StatsInputError(f"method must be 'asymptotic' or 'simulation', got {method!r}")
    if not (isinstance(ratio, (int, float)) and ratio > 0 and math.isfinite(ratio)):
        raise StatsInputError(f"ratio must be a positive number, got {ratio!r}")
    if delta is not None and not (0.0 < float(delta) <= 1.0):
        raise StatsInputError(f"delta must be in (0, 1], got {delta!r}")
    n_sim = check_count(n_sim, "n_sim", 100)

    def power_at(n_: int, d_: float) -> float:
        if method == "asymptotic":
            return _asymptotic_power(n_, d_, alpha, ratio, alternative)
        return _simulated_power(n_, d_, alpha, ratio, alternative, n_sim, seed)

    c = _critical(alpha, alternative)
    z = float(stats.norm.ppf(target))
    if n is not None and delta is not None:
        n = check_count(n, "n", 2)
        return PowerResult(
            n, float(delta), alpha, power_at(n, float(delta)), ratio, method, alternative
        )
    if delta is not None:
        n_eff = ((c + z / 2.0) / float(delta)) ** 2
        n_need = max(2, math.ceil(n_eff * (1.0 + ratio) / ratio))
        if method == "simulation":
            n_need = _search_n(lambda m: power_at(m, float(delta)) >= target, n_need)
        return PowerResult(
            n_need, float(delta), alpha, power_at(n_need, float(delta)), ratio, method, alternative
        )
    if n is not None:
        n = check_count(n, "n", 2)
        d = min(1.0, (c + z / 2.0) / math.sqrt(_n_eff(n, ratio)))
        return PowerResult(n, d, alpha, power_at(n, d), ratio, method, alternative)
    raise StatsInputError("give n, delta, or both")


def _search_n(enough: Any, guess: int) -> int:
    """Smallest n ≥ 2 with enough(n), by doubling/halving around ``guess`` then bisection."""
    lo, hi = 1, max(2, guess)
    while not enough(hi):
        lo, hi = hi, hi * 2
    while hi - lo > max(1, hi // 100):
        mid = (lo + hi) // 2
        if mid >= 2 and enough(mid):
            hi = mid
        else:
            lo = mid
    return hi
