"""Verdict rules and the Holm adjustment, on numbers with known answers."""

from __future__ import annotations

import numpy as np
from statsmodels.stats.multitest import multipletests

from edftools.report import verdict


def test_improves_needs_significance_and_direction() -> None:
    assert verdict.step_verdict(True, 0.3, 0.0, 0.04, 0.05) == verdict.IMPROVES
    # significant but the restricted EDF lies below, deficit bound above margin → worse
    assert verdict.step_verdict(True, 0.0, 0.3, 0.4, 0.05) == verdict.WORSE


def test_no_loss_when_deficit_bound_below_margin() -> None:
    assert verdict.step_verdict(False, 0.02, 0.01, 0.04, 0.05) == verdict.NO_LOSS
    # a real but smaller-than-margin deficit is still "no loss"
    assert verdict.step_verdict(True, 0.0, 0.01, 0.03, 0.05) == verdict.NO_LOSS


def test_inconclusive_otherwise() -> None:
    assert verdict.step_verdict(False, 0.1, 0.1, 0.3, 0.05) == verdict.INCONCLUSIVE
    assert verdict.step_verdict(False, 0.3, 0.0, 0.2, 0.05) == verdict.INCONCLUSIVE


def test_holm_matches_statsmodels() -> None:
    p = [0.01, 0.04, 0.03, 0.2, 0.001]
    adjusted, rejected = verdict.holm(p, 0.05)
    ref_reject, ref_adj, _, _ = multipletests(p, alpha=0.05, method="holm")
    np.testing.assert_allclose(adjusted, ref_adj)
    np.testing.assert_array_equal(rejected, ref_reject)
    # Holm is stricter than the raw p-values: 0.04 alone would reject, adjusted it does not
    assert not rejected[1]
