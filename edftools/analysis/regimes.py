"""The result of :func:`edftools.generalize`: the verdict matrix (step × regime), each
regime's ordering against the reference regime, and the numbers its figures draw.

See :mod:`edftools.analysis.generalization` for the tests and the family-wise error; the
reading of verdicts as orderings is defined here (:data:`RELATION`, :data:`CONTRADICTS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from edftools.analysis import curves
from edftools.analysis import samples as measure
from edftools.analysis.seednoise import SeedNoiseTable
from edftools.analysis.settings import Settings
from edftools.stats.verdicts import IMPROVES, INCONCLUSIVE, MIXED, NO_LOSS, WORSE

#: The relation a verdict states between a step's restricted space and its parent.
RELATION: dict[str, str] = {
    IMPROVES: ">",
    NO_LOSS: "≥",
    WORSE: "<",
    MIXED: "×",
    INCONCLUSIVE: "?",
}
#: Verdict pairs (reference, regime) that contradict each other.
CONTRADICTS: frozenset[tuple[str, str]] = frozenset(
    {
        (IMPROVES, WORSE),
        (IMPROVES, MIXED),
        (NO_LOSS, WORSE),
        (NO_LOSS, MIXED),
        (WORSE, IMPROVES),
        (WORSE, NO_LOSS),
        (MIXED, IMPROVES),
    }
)
HOLDS, BREAKS, UNDECIDED = "holds", "breaks", "undecided"


@dataclass(frozen=True)
class RegimeCell:
    """One step in one regime: its verdict, statistics and the normalized medians.

    ``d_better``/``d_worse``: one-sided KS D+ = sup(F_R − F_P), D− = sup(F_P − F_R); ``loss``:
    the largest loss (margin unit); ``p_*``: raw p-values; ``p_*_adj``: step-down adjusted
    over the fixed-n part of the family (None for a sequential regime, whose ``levels`` are the
    rejection levels of its last look and ``decided_at`` the models per space that decided it);
    ``median_*``: normalized median errors with 95% bootstrap CIs; ``n_needed``: for an
    inconclusive cell, the models per space that would decide it with probability 0.8 in a
    fixed-n design at the cell's α (``edftools plan`` on the parent as a pilot); ``seed_sd``:
    the seed-noise SD pooled over both spaces' re-trained configs in this regime (None without
    reruns) and ``within_seed_noise`` whether |Δ median| is below it.
    """

    regime: str
    parent: str
    restricted: str
    n_parent: int
    n_restricted: int
    verdict: str
    relation: str
    d_better: float
    d_worse: float
    loss: float
    p_better: float
    p_worse: float
    p_no_loss: float
    median_parent: float
    median_parent_ci: tuple[float, float]
    median_restricted: float
    median_restricted_ci: tuple[float, float]
    sequential: bool
    p_better_adj: float | None = None
    p_worse_adj: float | None = None
    p_no_loss_adj: float | None = None
    levels: tuple[float, float, float] | None = None
    decided_at: int | None = None
    alpha: float | None = None
    n_needed: int | None = None
    seed_sd: float | None = None
    within_seed_noise: bool | None = None

    @property
    def step(self) -> str:
        """``parent → restricted``."""
        return f"{self.parent} → {self.restricted}"

    @property
    def median_difference(self) -> float:
        """Normalized median error of the restricted space minus the parent's (pp; < 0:
        the restricted space is better)."""
        return self.median_restricted - self.median_parent

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN → None)."""
        out = {k: _finite_or_none(v) for k, v in asdict(self).items()}
        out["median_difference"] = _finite_or_none(self.median_difference)
        return out


@dataclass(frozen=True)
class RegimeOrdering:
    """How one regime's verdicts relate to the reference regime's: ``status`` (holds, breaks,
    undecided) and the steps that break it or leave it undecided."""

    regime: str
    status: str
    ordering: str
    breaks: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class GeneralizeResult:
    """The verdict matrix (step × regime) with one family-wise error rate, the ordering
    statement, and the EDFs of every regime (bands computed on first use, seeded).

    ``to_frame()``: one row per cell; ``matrix()``: the verdict words, steps × regimes;
    ``to_dict()``: all of it as plain JSON (``edftools generalize --json``).
    """

    chain: tuple[str, ...]
    regimes: tuple[str, ...]
    cells: tuple[RegimeCell, ...]
    settings: Settings
    family: dict[str, Any]
    samples: Mapping[str, tuple[measure.SpaceSample, ...]] = field(repr=False)
    descriptions: Mapping[str, str] = field(default_factory=dict)
    regime_column: str = "sweep"
    seed_noise: Mapping[str, SeedNoiseTable | None] = field(default_factory=dict)

    @property
    def steps(self) -> list[tuple[str, str]]:
        """The chain's (parent, restricted) steps."""
        return list(zip(self.chain[:-1], self.chain[1:], strict=True))

    def cell(self, regime: str, step: tuple[str, str]) -> RegimeCell:
        """The cell of ``regime`` and ``step``."""
        for c in self.cells:
            if c.regime == regime and (c.parent, c.restricted) == step:
                return c
        raise KeyError((regime, step))

    @property
    def reference(self) -> str:
        """The reference regime (the first): the ordering the others are checked against."""
        return self.regimes[0]

    def ordering_of(self, regime: str) -> str:
        """``RegNetX ≥ AnyNetX_E > AnyNetX_A``: the regime's verdicts as relations, best-last
        space first."""
        text = self.chain[0]
        for step in self.steps:
            text = f"{step[1]} {self.cell(regime, step).relation} {text}"
        return text

    @cached_property
    def orderings(self) -> tuple[RegimeOrdering, ...]:
        """Each regime against the reference (see the module docstring)."""
        out = []
        for regime in self.regimes:
            breaks, undecided = [], []
            for step in self.steps:
                ref = self.cell(self.reference, step).verdict
                own = self.cell(regime, step).verdict
                if own == ref or ref == INCONCLUSIVE:  # the reference claims nothing there
                    continue
                if (ref, own) in CONTRADICTS:
                    breaks.append(f"{step[0]} → {step[1]}")
                else:
                    undecided.append(f"{step[0]} → {step[1]}")
            status = BREAKS if breaks else UNDECIDED if undecided else HOLDS
            out.append(
                RegimeOrdering(
                    regime, status, self.ordering_of(regime), tuple(breaks), tuple(undecided)
                )
            )
        return tuple(out)

    def statement(self) -> str:
        """One sentence: the reference ordering holds in k/R regimes, and where it breaks
        (with the largest loss and the medians) or is undecided."""
        held = sum(o.status == HOLDS for o in self.orderings)
        parts = [
            f"{self.ordering_of(self.reference)} (the reference regime {self.reference}) "
            f"holds in {held}/{len(self.regimes)} regimes"
        ]
        for o in self.orderings:
            for step in o.breaks:
                c = self._cell_named(o.regime, step)
                parts.append(
                    f"breaks in {o.regime}: {step} {c.verdict} (largest loss "
                    f"{c.loss:.2f} pp; medians {c.median_parent:.2f} → "
                    f"{c.median_restricted:.2f}%)"
                )
            for step in o.undecided:
                c = self._cell_named(o.regime, step)
                parts.append(f"{o.regime}: {step} {c.verdict}")
        parts += self.disagreements()
        return "; ".join(parts) + "."

    def disagreements(self) -> list[str]:
        """Steps whose decided verdicts contradict each other across regimes, whatever the
        reference says (``AnyNetX_E → RegNetX: regimes disagree: no loss in r2, r3; worse in
        r1 (largest loss 4.2 pp)``)."""
        out = []
        for step in self.steps:
            cells = [self.cell(r, step) for r in self.regimes]
            words = {c.verdict for c in cells}
            if not any((a, b) in CONTRADICTS for a in words for b in words):
                continue
            groups = []
            for word in dict.fromkeys(c.verdict for c in cells if c.verdict != INCONCLUSIVE):
                mine = [c for c in cells if c.verdict == word]
                text = f"{word} in {', '.join(c.regime for c in mine)}"
                if word in (WORSE, MIXED):
                    text += " (largest loss " + ", ".join(f"{c.loss:.2f}" for c in mine) + " pp)"
                groups.append(text)
            out.append(f"{step[0]} → {step[1]}: regimes disagree: {'; '.join(groups)}")
        return out

    def _cell_named(self, regime: str, step: str) -> RegimeCell:
        parent, restricted = step.split(" → ")
        return self.cell(regime, (parent, restricted))

    def step_summary(self) -> list[str]:
        """Per step: how many regimes reach each verdict (``AnyNetX_A → AnyNetX_E: improves
        in 4/4``)."""
        lines = []
        for step in self.steps:
            words = [self.cell(r, step).verdict for r in self.regimes]
            counts = {w: words.count(w) for w in dict.fromkeys(words)}
            text = ", ".join(f"{w} in {k}/{len(words)}" for w, k in counts.items())
            lines.append(f"{step[0]} → {step[1]}: {text}")
        return lines

    def matrix(self) -> pd.DataFrame:
        """The verdict words: one row per step, one column per regime."""
        return pd.DataFrame(
            {r: [self.cell(r, s).verdict for s in self.steps] for r in self.regimes},
            index=[f"{p} → {q}" for p, q in self.steps],
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per (regime, step) cell: verdict, statistics, medians."""
        return pd.DataFrame([c.to_json() for c in self.cells])

    @cached_property
    def bands(self) -> dict[str, curves.Bands]:
        """Per regime: each space's (normalized) EDF with its pointwise 95% bootstrap band."""
        return {
            r: curves.edf_bands(self.samples[r], self.settings.seed, key=i + 1)
            for i, r in enumerate(self.regimes)
        }

    @cached_property
    def windows(self) -> dict[str, curves.ErrorWindow]:
        """Per regime: the error axis that decides (up to the chain's first space's 95th
        percentile)."""
        out = {}
        for r in self.regimes:
            errors = [s.stratified.errors for s in self.samples[r]]
            out[r] = curves.error_window(errors[0], errors)
        return out

    def to_dict(self, bands: bool = True) -> dict[str, Any]:
        """Every number the reports show, as plain JSON."""
        out: dict[str, Any] = {
            "chain": list(self.chain),
            "regimes": list(self.regimes),
            "regime_column": self.regime_column,
            "descriptions": dict(self.descriptions),
            "settings": self.settings.to_dict(),
            "family": self.family,
            "cells": [c.to_json() for c in self.cells],
            "orderings": [asdict(o) for o in self.orderings],
            "statement": self.statement(),
            "steps": self.step_summary(),
        }
        noise = {r: t.to_dict() for r, t in self.seed_noise.items() if t is not None}
        if noise:
            out["seed_noise"] = noise
        if bands:
            out["bands"] = {r: b.to_dict() for r, b in self.bands.items()}
            out["windows"] = {r: asdict(w) for r, w in self.windows.items()}
        return out

    def __repr__(self) -> str:
        held = sum(o.status == HOLDS for o in self.orderings)
        return (
            f"GeneralizeResult({len(self.steps)} steps × {len(self.regimes)} regimes, "
            f"{self.family['kind']}, FWER ≤ {self.family['fwer']:g}; "
            f"{self.ordering_of(self.reference)} holds in {held}/{len(self.regimes)})"
        )


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, tuple):
        return [_finite_or_none(v) for v in value]
    return value
