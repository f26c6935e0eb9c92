"""Verdicts of one restriction step (parent space -> restricted space), and Holm over a chain.

Pure functions over numbers that :mod:`edftools.report.measure` computed with
:mod:`edftools.stats`; no statistics are computed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

IMPROVES = "improves"
NO_LOSS = "no loss"
WORSE = "worse"
INCONCLUSIVE = "inconclusive"
VERDICTS: tuple[str, ...] = (IMPROVES, NO_LOSS, WORSE, INCONCLUSIVE)


def holm(p_values: Sequence[float], alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm step-down adjustment over a family of m tests (``stats.holm`` = statsmodels').

    With p-values sorted ascending p_(1) ≤ … ≤ p_(m), the adjusted values are
    p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)); a hypothesis is rejected when p̃ < α, which
    keeps the family-wise error rate ≤ α. Returns ``(adjusted, rejected)``.
    """
    from edftools.stats.compare import holm as stats_holm

    p = np.asarray(p_values, dtype=float)
    if p.size == 0:
        return p.copy(), np.zeros(0, dtype=bool)
    rejected, adjusted = stats_holm(p, alpha)
    return np.asarray(adjusted, dtype=float), np.asarray(rejected, dtype=bool)


def step_verdict(
    rejected: bool,
    better: float,
    deficit: float,
    deficit_upper: float,
    margin: float,
) -> str:
    """The verdict of a restriction step.

    Args:
        rejected: the two-sided test of equal EDFs rejects at the Holm-adjusted level.
        better: D⁺ = sup_e(F_restricted(e) − F_parent(e)), the largest gain.
        deficit: D⁻ = sup_e(F_parent(e) − F_restricted(e)), the largest loss.
        deficit_upper: bootstrap upper confidence bound of D⁻.
        margin: the equivalence margin δ.

    Rules, in order:
        improves      — rejected and D⁺ > D⁻ (the restricted EDF lies above: more good models);
        no loss       — upper bound of D⁻ < δ (the restricted space loses less than δ anywhere;
                        also when a real but smaller-than-δ difference was detected);
        worse         — rejected (and D⁻ ≥ D⁺, upper bound ≥ δ);
        inconclusive  — otherwise: more models are needed.
    """
    if rejected and better > deficit:
        return IMPROVES
    if deficit_upper < margin:
        return NO_LOSS
    if rejected:
        return WORSE
    return INCONCLUSIVE
