"""The sequential history of a refinement (``sweep --until-decided``): final verdicts from the
``looks`` table, and each step's p-values against its rejection levels over the looks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from edftools.report import figures

HYPOTHESES: tuple[tuple[str, str], ...] = (
    ("better", "better"),
    ("worse", "worse"),
    ("no loss", "no_loss"),
)


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


def history_panels(histories: Sequence[StepHistory]) -> list[figures.HistoryPanel]:
    """One panel per step: p-values of the three hypotheses and their levels against n."""
    panels = []
    for h in histories:
        n = np.minimum(h.looks["n_parent"], h.looks["n_restricted"]).to_numpy(dtype=float)
        p = {label: h.looks[f"p_{col}"].to_numpy(dtype=float) for label, col in HYPOTHESES}
        level = {label: h.looks[f"level_{col}"].to_numpy(dtype=float) for label, col in HYPOTHESES}
        verdict = str(h.final["verdict"])
        when = f"decided at n = {h.n}" if h.decided else f"undecided at n = {h.n}"
        panels.append(
            figures.HistoryPanel(
                f"{h.parent} → {h.restricted}: {verdict}\n{when}",
                n,
                p,
                level,
                float(h.n) if h.decided else None,
            )
        )
    return panels
