"""Verdict words of one restriction step (parent P → restricted R), from three decisions.

The three hypotheses of a step, each rejected or not after multiplicity control:

    H+   F_R ≤ F_P everywhere          rejected: R is significantly *better* somewhere (D+)
    H−   F_R ≥ F_P everywhere          rejected: R is significantly *worse* somewhere (D−)
    H≥δ  R loses ≥ the margin somewhere rejected: *no loss* (equivalence, intersection–union)

Verdicts (each a true sentence about the data at the stated error rates):

    mixed         better somewhere and worse somewhere (the EDFs cross);
    worse         worse somewhere, better nowhere;
    improves      better somewhere, worse nowhere, and a loss of the margin excluded;
    no loss       a loss of the margin excluded, neither better nor worse anywhere;
    inconclusive  anything else (e.g. better somewhere but a loss of the margin not excluded).

So "improves" never hides a significant deficit, and when the restricted space truly loses
more than the margin in the decision range, "improves" and "no loss" are each said with
probability ≤ α.
"""

from __future__ import annotations

IMPROVES = "improves"
NO_LOSS = "no loss"
WORSE = "worse"
MIXED = "mixed"
INCONCLUSIVE = "inconclusive"
VERDICTS: tuple[str, ...] = (IMPROVES, NO_LOSS, WORSE, MIXED, INCONCLUSIVE)
#: Verdicts that claim a difference or an equivalence (a false one is an error of the test).
DECIDED: tuple[str, ...] = (IMPROVES, NO_LOSS, WORSE, MIXED)


def step_verdict(better: bool, worse: bool, no_loss: bool) -> str:
    """The verdict from the three decisions (see the module docstring)."""
    if better and worse:
        return MIXED
    if worse:
        return WORSE
    if no_loss:
        return IMPROVES if better else NO_LOSS
    return INCONCLUSIVE


def verdict_note(better: bool, worse: bool, no_loss: bool) -> str:
    """A short qualifier for an inconclusive step that is better somewhere."""
    if better and not worse and not no_loss:
        return "better somewhere, but a loss of the margin is not excluded"
    return ""
