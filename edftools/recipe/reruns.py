"""The ``reruns`` option of a recipe: re-train a seeded random subset of configs with other seeds.

::

    reruns = { fraction = 0.1, seeds = 2 }   # 10 % of the planned configs, 2 other seeds each

Index ``i`` of space ``L`` is re-trained iff ``u < fraction`` with ``u`` uniform on [0, 1) from
``derive_seed(recipe.seed, "rerun", L, i) / 2**31``; its rerun ``s = 1..seeds`` trains the same
config with seed ``derive_seed(recipe.seed, "run", L, i, "rerun", s)``, so it has a run id of its
own (:mod:`edftools.train.plan`). Reruns measure seed noise (:mod:`edftools.stats.seednoise`)
and never enter an EDF's samples. The option is not part of the recipe's identity: adding it
to the recipe of an existing sweep (or study) resumes that sweep and trains the missing reruns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edftools.errors import RecipeError
from edftools.recipe.fields import RecipeTable


@dataclass(frozen=True)
class RerunSpec:
    """A validated ``reruns`` table: the ``fraction`` of configs re-trained, ``seeds`` times
    each (with ``seeds`` other seeds)."""

    fraction: float
    seeds: int = 1

    def selects(self, u: float) -> bool:
        """Whether a config whose selection uniform is ``u`` (in [0, 1)) is re-trained."""
        return u < self.fraction

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"fraction": self.fraction, "seeds": self.seeds}


def parse_reruns(t: RecipeTable) -> RerunSpec:
    """The ``reruns`` table: ``fraction`` in (0, 1] (required), ``seeds`` >= 1 (default 1)."""
    fraction = t.number("fraction")
    if fraction is None:
        raise RecipeError(f"{t.where('fraction')}: missing required key")
    if not 0 < fraction <= 1:
        raise RecipeError(f"{t.where('fraction')}: must be in (0, 1], got {fraction}")
    seeds = t.integer("seeds", default=1, minimum=1)
    t.check_unknown()
    return RerunSpec(fraction=fraction, seeds=seeds)
