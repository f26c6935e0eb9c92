"""The sequential history of a refinement (``sweep --until-decided``): final verdicts from the
``looks`` table, and each step's p-values against its rejection levels over the looks — the
three hypotheses of the family and the futility rule's test ("gain excluded": the no-loss
test with the spaces' roles swapped, which stops a "no loss" step early)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: (label, looks-table column stem) of the three hypotheses of a step.
HYPOTHESES: tuple[tuple[str, str], ...] = (
    ("better", "better"),
    ("worse", "worse"),
    ("no loss", "no_loss"),
)
#: (label, looks-table column stem) of the futility rule's test: H0 "the restricted space
#: gains at least the margin"; a "no loss" step stops early once it is rejected too.
FUTILITY: tuple[str, str] = ("gain excluded", "futility")
#: Every curve of a step's history: the three hypotheses, then the futility rule's test.
CURVES: tuple[tuple[str, str], ...] = (*HYPOTHESES, FUTILITY)


@dataclass(frozen=True)
class StepHistory:
    """A step's looks (rows of the ``looks`` table, in look order) and its final record."""

    parent: str
    restricted: str
    looks: pd.DataFrame

    @property
    def final(self) -> pd.Series:
        """The step's last look (where its verdict stands)."""
        return self.looks.iloc[-1]

    @property
    def n(self) -> int:
        """Models per space at the final look (the smaller of the two spaces)."""
        f = self.final
        return int(min(f["n_parent"], f["n_restricted"]))

    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per label of :data:`CURVES`: (n, p-value, rejection level) at every look, n = models
        per space (the smaller space). "gain excluded" is the futility rule's test: a "no loss"
        step is decided at the first look where its no-loss p and this p are both at or below
        their levels; NaN where the looks predate it (stores before schema v7)."""
        n = np.minimum(
            self.looks["n_parent"].to_numpy(dtype=float),
            self.looks["n_restricted"].to_numpy(dtype=float),
        )
        return {
            label: (n, self._column(f"p_{col}"), self._column(f"level_{col}"))
            for label, col in CURVES
        }

    def _column(self, name: str) -> np.ndarray:
        """A looks column as floats (NULL and a missing column: NaN)."""
        if name not in self.looks.columns:
            return np.full(len(self.looks), np.nan)
        return pd.to_numeric(self.looks[name], errors="coerce").to_numpy(dtype=float)

    def deciding_rule(self) -> str:
        """The rule that decided the step at its final look: the hypotheses rejected there
        (improves, worse, mixed), the futility rule (no loss, and a gain of the margin
        excluded), the last look (max_n reached), or ``undecided``."""
        f = self.final
        if not self.decided:
            return "undecided"
        if float(f["fraction"]) >= 1.0:
            return "max_n reached"
        rejected = [label for label, col in HYPOTHESES if bool(f[f"rejected_{col}"])]
        if str(f["verdict"]) == "no loss":
            return "no loss shown, a gain of the margin excluded (futility rule)"
        return " and ".join(f"{label} shown" for label in rejected) or "decided"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: each look's n, p-values and levels, the final verdict."""
        out: dict[str, Any] = {
            "parent": self.parent,
            "restricted": self.restricted,
            "verdict": str(self.final["verdict"]),
            "decided": self.decided,
            "n": self.n,
            "rule": self.deciding_rule(),
        }
        for label, (n, p, level) in self.curves().items():
            out[label.replace(" ", "_")] = {
                "n": [float(v) for v in n],
                "p": [float(v) if np.isfinite(v) else None for v in p],
                "level": [float(v) if np.isfinite(v) else None for v in level],
            }
        return out

    @property
    def decided(self) -> bool:
        """Whether the verdict was reached before (or at) the design's last look."""
        return bool(self.final["decided"])


def design_of(looks: pd.DataFrame) -> dict[str, Any]:
    """The sequential design recorded with the looks (look_every, max_n, alpha, spending,
    margin)."""
    return json.loads(str(looks["design"].iloc[-1])) if len(looks) else {}


def step_histories(looks: pd.DataFrame, names: Sequence[str]) -> dict[tuple[str, str], StepHistory]:
    """Each (parent, restricted) step of ``looks`` whose spaces are both in ``names``."""
    out = {}
    for (parent, restricted), part in looks.groupby(["parent", "restricted"], sort=False):
        if parent in names and restricted in names:
            rows = part.sort_values("look").reset_index(drop=True)
            out[(str(parent), str(restricted))] = StepHistory(str(parent), str(restricted), rows)
    return out
