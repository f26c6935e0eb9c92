"""The ``[sequential]`` table of a recipe: how ``sweep --until-decided`` runs the study.

::

    [sequential]
    look_every = 50              # models per active space per round (look)
    max_n = 600                  # models per space at most
    alpha = 0.05                 # family-wise error over all steps and all looks
    spending = "obrien-fleming"  # or "pocock" (Lan–DeMets spending functions)
    margin = 1.0                 # the no-loss margin (error points with margin_unit = "pp")
    margin_unit = "pp"           # or "edf"
    margin_range = [0.1, 0.5]    # quantile levels where a pp margin applies
    normalize = "flops"          # complexity normalization of the EDFs ("params", "none")
    bins = 8
    error_column = "error"       # or "best_error"
    steps = [["AnyNetX_A", "AnyNetX_B"], ["AnyNetX_B", "AnyNetX_C"]]
                                 # (parent, restricted) labels; default: the spaces in order

The table is part of the sweep's identity: a study cannot be resumed under another design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edftools.analysis.settings import (
    ERROR_COLUMNS,
    MARGIN_UNITS,
    NORMALIZE_CHOICES,
    Settings,
    default,
)
from edftools.errors import EdftoolsError, RecipeError
from edftools.recipe.fields import RecipeTable
from edftools.stats.noloss import Margin
from edftools.stats.sequential import SPENDING, SequentialDesign


@dataclass(frozen=True)
class SequentialSpec:
    """A validated ``[sequential]`` table (see the module docstring): the design, the
    analysis :class:`Settings` (margin, normalization, error column) and the steps."""

    design: SequentialDesign
    settings: Settings
    steps: tuple[tuple[str, str], ...] = ()

    @property
    def margin(self) -> Margin:
        """The no-loss margin."""
        return self.settings.margin_rule

    @property
    def normalize(self) -> str:
        """The complexity normalization (or ``none``)."""
        return self.settings.normalize

    @property
    def bins(self) -> int:
        """Complexity bins of the normalization."""
        return self.settings.bins

    @property
    def error_column(self) -> str:
        """The error column the study tests."""
        return self.settings.error_column

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (part of the recipe's identity)."""
        d, m = self.design, self.margin
        return {
            "look_every": d.look_every,
            "max_n": d.max_n,
            "alpha": d.alpha,
            "spending": d.spending,
            "margin": m.value,
            "margin_unit": m.unit,
            "margin_range": list(m.q_range),
            "normalize": self.normalize,
            "bins": self.bins,
            "error_column": self.error_column,
            "steps": [list(s) for s in self.steps],
        }


def parse_sequential(t: RecipeTable, labels: Sequence[str]) -> SequentialSpec:
    """Validate the ``[sequential]`` table against the recipe's space ``labels``."""
    look_every = t.integer("look_every", default=50, minimum=1)
    max_n = t.integer("max_n", default=500, minimum=1)
    alpha = t.number("alpha", default=default("alpha"))
    spending = t.string("spending", default="obrien-fleming")
    if spending not in SPENDING:
        raise RecipeError(f"{t.where('spending')}: expected one of {', '.join(SPENDING)}")
    unit = _choice(t, "margin_unit", MARGIN_UNITS)
    margin = t.number("margin", default=Settings(margin_unit=unit).margin_value)
    q_range = t.get("margin_range", default=list(default("margin_range")), kind=list)
    normalize = _choice(t, "normalize", NORMALIZE_CHOICES)
    bins = t.integer("bins", default=default("bins"), minimum=1)
    error_column = _choice(t, "error_column", ERROR_COLUMNS)
    steps = _parse_steps(t, labels)
    t.check_unknown()
    try:
        design = SequentialDesign(look_every, max_n, alpha, spending)
        settings = Settings(
            normalize=normalize,
            bins=bins,
            margin=margin,
            margin_unit=unit,
            margin_range=_pair(q_range, t.where("margin_range")),
            alpha=alpha,
            error_column=error_column,
        )
    except EdftoolsError as exc:
        raise RecipeError(f"sequential: {exc}") from None
    return SequentialSpec(design, settings, steps)


def _pair(values: list[Any], where: str) -> tuple[float, float]:
    """Two quantile levels [a, b]."""
    if len(values) != 2 or not all(isinstance(v, int | float) for v in values):
        raise RecipeError(f"{where}: expected two quantile levels [a, b], got {values!r}")
    return float(values[0]), float(values[1])


def _choice(t: RecipeTable, key: str, choices: Sequence[str]) -> str:
    """A string setting of the table (default: the :class:`Settings` field's), one of
    ``choices``."""
    value = t.string(key, default=default(key))
    if value not in choices:
        raise RecipeError(f"{t.where(key)}: expected one of {', '.join(choices)}")
    return value


def _parse_steps(t: RecipeTable, labels: Sequence[str]) -> tuple[tuple[str, str], ...]:
    raw = t.get("steps", default=[], kind=list)
    steps = []
    for i, step in enumerate(raw):
        where = f"{t.where('steps')}[{i}]"
        if not (
            isinstance(step, list) and len(step) == 2 and all(isinstance(x, str) for x in step)
        ):
            raise RecipeError(f"{where}: expected [parent, restricted] space names, got {step!r}")
        for label in step:
            if label not in labels:
                raise RecipeError(f"{where}: unknown space {label!r}; known: {', '.join(labels)}")
        steps.append((step[0], step[1]))
    if not steps and len(labels) < 2:
        raise RecipeError(f"{t.where('steps')}: a sequential study needs at least two spaces")
    return tuple(steps)
