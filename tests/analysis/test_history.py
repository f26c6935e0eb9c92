"""A step's sequential history: its curves (the three hypotheses and the futility rule's
test), the rule that decided it, and looks stored before the futility test was recorded."""

from __future__ import annotations

import numpy as np
import pandas as pd

from edftools.analysis.history import CURVES, FUTILITY, StepHistory, step_histories


def looks(futility: bool = True) -> pd.DataFrame:
    """A "no loss" step decided by the futility rule at its third look: no loss is shown at
    the second, a gain of the margin excluded only at the third."""
    frame = pd.DataFrame(
        {
            "sweep": "sw",
            "look": [1, 2, 3],
            "parent": "A",
            "restricted": "B",
            "n_parent": [50, 100, 150],
            "n_restricted": [52, 99, 151],
            "fraction": [0.25, 0.5, 0.75],
            "p_better": [0.5, 0.4, 0.3],
            "p_worse": [0.6, 0.7, 0.8],
            "p_no_loss": [0.2, 1e-5, 1e-6],
            "level_better": [1e-6, 1e-4, 1e-3],
            "level_worse": [1e-6, 1e-4, 1e-3],
            "level_no_loss": [2e-6, 2e-4, 2e-3],
            "rejected_better": False,
            "rejected_worse": False,
            "rejected_no_loss": [False, True, True],
            "verdict": ["inconclusive", "no loss", "no loss"],
            "decided": [False, False, True],
            "p_futility": [0.3, 0.01, 1e-3],
            "level_futility": [1e-5, 1e-3, 1e-2],
        }
    )
    return frame if futility else frame.drop(columns=["p_futility", "level_futility"])


def test_curves_include_the_futility_test_with_its_own_level() -> None:
    h = step_histories(looks(), ["A", "B"])[("A", "B")]
    curves = h.curves()
    assert (
        list(curves)
        == [label for label, _ in CURVES]
        == [
            "better",
            "worse",
            "no loss",
            "gain excluded",
        ]
    )
    n, p, level = curves[FUTILITY[0]]
    assert n.tolist() == [50, 99, 150]
    assert p.tolist() == [0.3, 0.01, 1e-3] and level.tolist() == [1e-5, 1e-3, 1e-2]
    # decided at the first look where both no loss and the futility test are at their levels
    _, p_nl, level_nl = curves["no loss"]
    both = (p_nl <= level_nl) & (p <= level)
    assert n[np.argmax(both)] == h.n == 150
    assert "futility rule" in h.deciding_rule()
    assert h.to_dict()["gain_excluded"]["p"] == [0.3, 0.01, 1e-3]


def test_looks_stored_before_the_futility_test_give_nan() -> None:
    for frame in (looks(futility=False), looks().assign(p_futility=None, level_futility=None)):
        h = StepHistory("A", "B", frame)
        _, p, level = h.curves()[FUTILITY[0]]
        assert np.isnan(p).all() and np.isnan(level).all()
        assert h.to_dict()["gain_excluded"]["p"] == [None] * 3
        assert h.curves()["no loss"][1].tolist() == [0.2, 1e-5, 1e-6]
